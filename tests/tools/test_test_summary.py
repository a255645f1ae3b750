"""tools/test.py --out: evaluator lists and summary.json."""
import hashlib
import importlib.util
import json
import math
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import sgdc_mmseg  # noqa: F401
from helpers import (REPO_ROOT, make_tiny_dataset, run_tool,
                     save_random_checkpoint, write_tiny_config)

TEST = osp.join(REPO_ROOT, 'tools', 'test.py')
EVALUATORS = '''
test_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
                  dict(type='MedicalMetric')]
'''


@pytest.fixture(scope='module')
def test_tool():
    spec = importlib.util.spec_from_file_location('_sgdc_tool_test', TEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sha256(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def test_out_with_an_evaluator_list_writes_summary(tmp_path, tiny_config,
                                                   test_tool):
    cfg_path = tiny_config(extra=EVALUATORS)
    ckpt = save_random_checkpoint(cfg_path, tmp_path / 'ckpt.pth')
    out = tmp_path / 'out'
    proc = run_tool([TEST, cfg_path, ckpt, '--work-dir',
                     str(tmp_path / 'work'), '--out', str(out)],
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert f'summary written to {out / "summary.json"}' in proc.stdout
    assert 'added MedicalMetric' not in proc.stdout
    # both evaluators got the output dir
    assert len(list(out.glob('*.png'))) == 8  # IoUMetric's predictions
    assert (out / 'per_image_metrics.csv').is_file()  # MedicalMetric's

    summary = json.loads((out / 'summary.json').read_text())
    assert set(summary) == {
        'config', 'checkpoint', 'date', 'versions', 'tta', 'evaluators',
        'medical_metric_added', 'classes', 'num_images', 'metrics',
        'per_class', 'per_image'}
    assert summary['config']['path'] == osp.abspath(cfg_path)
    assert summary['config']['sha256'] == test_tool.config_sha256(cfg_path)
    assert summary['checkpoint'] == dict(path=ckpt, sha256=_sha256(ckpt))
    assert summary['evaluators'] == ['IoUMetric', 'MedicalMetric']
    assert summary['medical_metric_added'] is False
    assert summary['classes'] == ['background', 'lesion']
    assert summary['num_images'] == 8
    assert set(summary['versions']) >= {'sgdc_mmseg', 'mmseg', 'torch'}
    assert summary['versions']['torch'] == torch.__version__
    metrics = summary['metrics']
    assert {'mIoU', 'mDice', 'aAcc', 'medical/mDice', 'medical/mHD95'} <= \
        set(metrics)
    assert not any(k.endswith('.lesion') for k in metrics)
    lesion = summary['per_class']['lesion']
    assert {'IoU', 'Dice', 'HD95', 'ASSD'} <= set(lesion)
    per_image = summary['per_image']
    assert [r['image'] for r in per_image] == [f'{i:03d}' for i in range(8)]
    for row in per_image:
        assert {'img_path', 'IoU.lesion', 'Dice.lesion', 'HD95.lesion',
                'ASSD.lesion'} <= set(row)
        assert 0 <= row['Dice.lesion'] <= 100
    # the class value is the mean over the images
    mean_dice = sum(r['Dice.lesion'] for r in per_image) / 8
    assert math.isclose(lesion['Dice'], mean_dice, rel_tol=1e-6,
                        abs_tol=1e-6)


@pytest.mark.parametrize('form', ['dict', 'list', 'evaluator'])
def test_configure_out_sets_every_evaluator(test_tool, form, tmp_path):
    iou = dict(type='IoUMetric', iou_metrics=['mIoU'])
    cfg = Config(dict(test_evaluator=dict(
        dict=iou, list=[iou], evaluator=dict(type='Evaluator',
                                             metrics=[iou]))[form]))
    logs = []
    added = test_tool.configure_out(cfg, str(tmp_path), log=logs.append)
    assert added is True and 'added MedicalMetric' in logs[0]
    metrics = cfg.test_evaluator['metrics'] if form == 'evaluator' else \
        cfg.test_evaluator
    assert [m['type'] for m in metrics] == ['IoUMetric', 'MedicalMetric']
    assert all(m['output_dir'] == str(tmp_path) for m in metrics)
    if form == 'evaluator':
        assert cfg.test_evaluator['type'] == 'Evaluator'
    # an existing MedicalMetric is not duplicated
    cfg = Config(dict(test_evaluator=[iou, dict(type='mmseg.MedicalMetric')]))
    assert test_tool.configure_out(cfg, 'o', log=logs.append) is False
    assert [m['type'] for m in cfg.test_evaluator] == [
        'IoUMetric', 'mmseg.MedicalMetric']


def test_split_per_class_and_json_values(test_tool):
    import numpy as np
    means, per_class = test_tool.split_per_class(
        {'mIoU': 1.0, 'medical/IoU.lesion': 2.0, 'medical/HD95.lesion': 3.0,
         'medical/Dice.small.lesion': 4.0, 'medical/mDice': 5.0},
        ['background', 'lesion', 'small.lesion'])
    assert means == {'mIoU': 1.0, 'medical/mDice': 5.0}
    assert per_class == {'lesion': {'IoU': 2.0, 'HD95': 3.0},
                         'small.lesion': {'Dice': 4.0}}
    assert test_tool._json_value(
        {'a': np.float32(0.5), 'b': [float('nan'), np.int64(3)],
         'c': float('inf')}) == {'a': 0.5, 'b': [None, 3], 'c': None}


# --------------------------------------------------------------------- #
# The output contract: never destroy what the tool did not write
# --------------------------------------------------------------------- #
def _tree(folder):
    """{relative path: bytes} of every file under ``folder``."""
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = osp.join(root, name)
            out[osp.relpath(path, folder)] = open(path, 'rb').read()
    return out


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
def test_out_over_the_test_data_is_refused(test_tool, own_data, tmp_path,
                                           monkeypatch, flag, folder, how,
                                           role):
    data = own_data['data']
    before = _tree(data)
    target = osp.normpath(str(data / folder))
    monkeypatch.setattr(test_tool, 'build_runner', _no_runner)
    with pytest.raises(SystemExit) as info:
        test_tool.main([own_data['cfg'], own_data['ckpt'], '--work-dir',
                        str(tmp_path / 'work'), flag, target])
    msg = str(info.value)
    what = '--out folder' if flag == '--out' else '--show-dir folder'
    assert msg.startswith(f'error: {what} "{target}" {how} the {role} of '
                          'test_dataloader.dataset'), msg
    assert _tree(data) == before  # ground truth and images untouched
    assert sorted(os.listdir(data)) == ['ann_dir', 'img_dir']


def test_out_symlink_to_the_masks_is_refused(test_tool, own_data, tmp_path,
                                             monkeypatch):
    link = tmp_path / 'preds'
    link.symlink_to(own_data['data'] / 'ann_dir')
    before = _tree(own_data['data'])
    monkeypatch.setattr(test_tool, 'build_runner', _no_runner)
    with pytest.raises(SystemExit, match=r'error: --out folder "[^"]*preds" '
                       r'\(= [^)]*ann_dir\) is the mask folder'):
        test_tool.main([own_data['cfg'], own_data['ckpt'], '--work-dir',
                        str(tmp_path / 'work'), '--out', str(link)])
    assert _tree(own_data['data']) == before


def test_foreign_prediction_name_is_refused_before_the_model(
        test_tool, own_data, tmp_path, monkeypatch):
    out = tmp_path / 'out'
    out.mkdir()
    (out / '001.png').write_bytes(b'a file of mine')
    monkeypatch.setattr(test_tool, 'build_runner', _no_runner)
    with pytest.raises(SystemExit) as info:
        test_tool.main([own_data['cfg'], own_data['ckpt'], '--work-dir',
                        str(tmp_path / 'work'), '--out', str(out)])
    msg = str(info.value)
    assert msg.startswith(f'error: 1 file(s) in output folder "{out}"')
    assert f'"{out / "001.png"}"' in msg and '--overwrite' in msg
    assert (out / '001.png').read_bytes() == b'a file of mine'
    assert os.listdir(out) == ['001.png']


def test_overwrite_then_rerun_over_own_outputs(tmp_path, tiny_config):
    cfg_path = tiny_config(extra=EVALUATORS)
    ckpt = save_random_checkpoint(cfg_path, tmp_path / 'ckpt.pth')
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'summary.json').write_text('an older summary, not ours')
    (out / 'notes.txt').write_text('kept')
    args = [TEST, cfg_path, ckpt, '--work-dir', str(tmp_path / 'work'),
            '--out', str(out)]
    proc = run_tool(args + ['--overwrite'], cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert 'replacing 1 existing file(s)' in proc.stdout
    assert json.loads((out / 'summary.json').read_text())['num_images'] == 8
    names = [f'{i:03d}.png' for i in range(8)]
    assert sorted(os.listdir(out)) == sorted(
        ['.sgdc_outputs.json', 'notes.txt', 'per_image_metrics.csv',
         'summary.json'] + names)  # the staging folder is gone
    record = json.loads((out / '.sgdc_outputs.json').read_text())
    assert set(record['files']) >= set(names) | {'summary.json',
                                                  'per_image_metrics.csv'}
    assert (out / 'notes.txt').read_text() == 'kept'

    proc = run_tool(args, cwd=str(tmp_path))  # no --overwrite: all ours
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert 'replacing' not in proc.stdout
    assert '9 file(s) written by the evaluators moved' in proc.stdout
