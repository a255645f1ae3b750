"""sgdc_mmseg.cli.test (tools/test.py's command line): arguments, and the
refusals before the model is built (output folders over the test data,
foreign files), with their exit messages."""
import os
import os.path as osp

import pytest

import sgdc_mmseg  # noqa: F401
import sgdc_mmseg.cli.test as cli
from helpers import file_tree, make_tiny_dataset, write_tiny_config
from sgdc_mmseg.engine import testing


def test_arguments_become_test_options(tiny_config):
    args = cli.build_parser().parse_args(
        ['c.py', 'k.pth', '--out', 'o', '--tta', '--non-strict',
         '--cfg-options', 'a.b=1', '--local-rank', '1'])
    options = cli.options_from_args(testing.TestOptions, args)
    assert options == testing.TestOptions(
        config='c.py', checkpoint='k.pth', out='o', tta=True,
        non_strict=True, cfg_options={'a.b': 1})


def test_missing_checkpoint_is_an_error(tmp_path, tiny_config, monkeypatch):
    monkeypatch.setattr(testing, 'build_runner', _no_runner)
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(SystemExit) as info:
        cli.main([tiny_config(), missing])
    assert str(info.value) == f'error: checkpoint "{missing}" not found'


def _no_runner(*args, **kwargs):
    raise AssertionError('the runner (model) was built')


@pytest.fixture
def own_data(tmp_path):
    """A private tiny data set (the refused runs must not touch the shared
    one even on old code), its config and a checkpoint file."""
    data = make_tiny_dataset(str(tmp_path / 'data'), num_images=2)
    cfg = write_tiny_config(str(tmp_path / 'cfg.py'), data)
    ckpt = tmp_path / 'ckpt.pth'
    ckpt.write_bytes(b'never read: the run is refused before')
    return dict(data=tmp_path / 'data', cfg=cfg, ckpt=str(ckpt))


@pytest.mark.parametrize('flag,folder,how,role', [
    ('--out', 'ann_dir', 'is', 'mask folder'),
    ('--out', '.', 'contains', 'image folder'),
    ('--out', 'img_dir/preds', 'lies inside', 'image folder'),
    ('--show-dir', 'ann_dir', 'is', 'mask folder'),
])
def test_out_over_the_test_data_is_refused(own_data, tmp_path,
                                           monkeypatch, flag, folder, how,
                                           role):
    data = own_data['data']
    before = file_tree(data)
    target = osp.normpath(str(data / folder))
    monkeypatch.setattr(testing, 'build_runner', _no_runner)
    with pytest.raises(SystemExit) as info:
        cli.main([own_data['cfg'], own_data['ckpt'], '--work-dir',
                        str(tmp_path / 'work'), flag, target])
    msg = str(info.value)
    what = '--out folder' if flag == '--out' else '--show-dir folder'
    assert msg.startswith(f'error: {what} "{target}" {how} the {role} of '
                          'test_dataloader.dataset'), msg
    assert file_tree(data) == before  # ground truth and images untouched
    assert sorted(os.listdir(data)) == ['ann_dir', 'img_dir']


def test_out_symlink_to_the_masks_is_refused(own_data, tmp_path,
                                             monkeypatch):
    link = tmp_path / 'preds'
    link.symlink_to(own_data['data'] / 'ann_dir')
    before = file_tree(own_data['data'])
    monkeypatch.setattr(testing, 'build_runner', _no_runner)
    with pytest.raises(SystemExit, match=r'error: --out folder "[^"]*preds" '
                       r'\(= [^)]*ann_dir\) is the mask folder'):
        cli.main([own_data['cfg'], own_data['ckpt'], '--work-dir',
                        str(tmp_path / 'work'), '--out', str(link)])
    assert file_tree(own_data['data']) == before


def test_foreign_prediction_name_is_refused_before_the_model(
        own_data, tmp_path, monkeypatch):
    out = tmp_path / 'out'
    (out / 'pred').mkdir(parents=True)
    (out / 'pred' / '001.png').write_bytes(b'a file of mine')
    monkeypatch.setattr(testing, 'build_runner', _no_runner)
    with pytest.raises(SystemExit) as info:
        cli.main([own_data['cfg'], own_data['ckpt'], '--work-dir',
                        str(tmp_path / 'work'), '--out', str(out)])
    msg = str(info.value)
    assert msg.startswith(f'error: 1 file(s) in output folder "{out}"')
    assert f'"{out / "pred" / "001.png"}"' in msg and '--overwrite' in msg
    assert (out / 'pred' / '001.png').read_bytes() == b'a file of mine'
    assert file_tree(out) == {'pred/001.png': b'a file of mine'}


def test_foreign_probability_file_is_refused_with_save_probs(
        own_data, tmp_path, monkeypatch):
    out = tmp_path / 'out'
    (out / 'probs').mkdir(parents=True)
    (out / 'probs' / '000.npz').write_bytes(b'mine')
    monkeypatch.setattr(testing, 'build_runner', _no_runner)
    with pytest.raises(SystemExit) as info:
        cli.main([own_data['cfg'], own_data['ckpt'], '--out', str(out),
                  '--work-dir', str(tmp_path / 'work'), '--save-probs'])
    assert f'"{out / "probs" / "000.npz"}"' in str(info.value)
    assert file_tree(out) == {'probs/000.npz': b'mine'}


def test_ensemble_arguments_become_test_options():
    args = cli.build_parser().parse_args(
        ['c.py', 'k.pth', '--ensemble', 'k2.pth', 'k3.pth', '--save-probs',
         '--postprocess', 'pp.json', '--out', 'o'])
    options = cli.options_from_args(testing.TestOptions, args)
    assert (options.ensemble, options.save_probs, options.postprocess) == (
        ['k2.pth', 'k3.pth'], True, 'pp.json')


@pytest.mark.parametrize('extra,message', [
    (['--ensemble', '{missing}'],
     'error: --ensemble checkpoint "{missing}" not found'),
    (['--save-probs'], 'error: --save-probs needs --out DIR'),
    (['--postprocess', '{missing}'],
     'error: post-processing file "{missing}" not found'),
    (['--postprocess', '{bad}'], 'error: {bad}: version 7 is not supported'),
    (['--postprocess', '{three}'], 'error: post-processing file "{three}" '
     'is for 3 classes, the config has 2 (background, lesion)'),
])
def test_ensemble_probs_postprocess_refusals_before_the_model(
        own_data, tmp_path, monkeypatch, extra, message):
    import json
    names = dict(missing=str(tmp_path / 'nope.pth'),
                 bad=str(tmp_path / 'bad.json'),
                 three=str(tmp_path / 'three.json'))
    (tmp_path / 'bad.json').write_text(json.dumps(dict(version=7)))
    (tmp_path / 'three.json').write_text(json.dumps(dict(
        version=1, num_classes=3, per_class={})))
    monkeypatch.setattr(testing, 'build_runner', _no_runner)
    with pytest.raises(SystemExit) as info:
        cli.main([own_data['cfg'], own_data['ckpt'], '--work-dir',
                  str(tmp_path / 'work')] + [a.format(**names)
                                             for a in extra])
    assert str(info.value).startswith(message.format(**names)), \
        str(info.value)
