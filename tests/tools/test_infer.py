"""tools/infer.py on folders, globs and bad files (tiny random model)."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

import sgdc_mmseg  # noqa: F401
from helpers import (LESION_META, REPO_ROOT, file_tree, make_tiny_dataset,
                     run_tool, save_random_checkpoint, tool_env,
                     write_tiny_config)

INFER = osp.join(REPO_ROOT, 'tools', 'infer.py')
SIZES = dict(a=(30, 40), b=(48, 24), c=(33, 33))  # stem -> (H, W)


def _load_tool():
    import sgdc_mmseg.cli.infer as tool
    return tool


def _no_model_loading(monkeypatch_or_context):
    """Fail the test if the model is loaded (the checks come first)."""
    import sgdc_mmseg.apis.predict as predict
    monkeypatch_or_context.setattr(predict, 'load_segmentor', _no_model)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Tiny config, random-weight checkpoint, a folder of 3 images of
    different sizes plus a corrupt one and a text file."""
    root = tmp_path_factory.mktemp('infer_tool')
    data = make_tiny_dataset(str(root / 'data'), num_images=2)
    cfg = write_tiny_config(str(root / 'cfg.py'), data)
    ckpt = save_random_checkpoint(cfg, root / 'ckpt.pth', LESION_META)
    imgs = root / 'imgs'
    imgs.mkdir()
    rng = np.random.RandomState(1)
    for stem, (h, w) in SIZES.items():
        ext = '.jpg' if stem == 'b' else '.png'
        cv2.imwrite(str(imgs / f'{stem}{ext}'),
                    rng.randint(0, 256, (h, w, 3)).astype(np.uint8))
    good = (imgs / 'a.png').read_bytes()
    (imgs / 'corrupt.png').write_bytes(good[:len(good) // 2])  # truncated
    (imgs / 'readme.txt').write_text('not an image')
    return dict(root=root, cfg=cfg, ckpt=ckpt, imgs=imgs)


def _check_outputs(out, stems, edges):
    for stem in stems:
        h, w = SIZES[stem]
        mask = cv2.imread(str(out / 'masks' / f'{stem}.png'),
                          cv2.IMREAD_UNCHANGED)
        assert mask.shape == (h, w) and mask.dtype == np.uint8
        assert set(np.unique(mask).tolist()) <= {0, 1}
        overlay = cv2.imread(str(out / 'overlays' / f'{stem}.png'))
        assert overlay.shape == (h, w, 3)
        for kind, shape in (('edges', (h, w)), ('guidance', (h, w, 3))):
            path = out / kind / f'{stem}.png'
            assert path.is_file() == edges
            if edges:
                assert cv2.imread(str(path),
                                  cv2.IMREAD_UNCHANGED).shape == shape


def test_folder_with_a_corrupt_file(setup, tmp_path):
    out = tmp_path / 'out'
    proc = run_tool([INFER, setup['cfg'], setup['ckpt'], str(setup['imgs']),
                     '--out-dir', str(out), '--edges', '--batch-size', '2',
                     '--device', 'cpu'], cwd=str(tmp_path))
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert 'skipped 1 file(s) without an image extension' in proc.stdout
    assert 'wrote 3 of 4 image(s)' in proc.stdout
    assert 'FAILED: 1 image(s)' in proc.stdout
    assert f'{setup["imgs"] / "corrupt.png"}: cannot read image' in \
        proc.stdout
    assert '4/4' in proc.stdout  # progress bar
    _check_outputs(out, SIZES, edges=True)
    assert not (out / 'masks' / 'corrupt.png').exists()
    assert sorted(p.name for p in (out / 'masks').iterdir()) == [
        'a.png', 'b.png', 'c.png']


def test_glob_and_single_image(setup, tmp_path, capsys):
    tool = _load_tool()
    out = tmp_path / 'out'
    rc = tool.main([setup['cfg'], setup['ckpt'],
                    str(setup['imgs'] / '[ab].*'), '--out-dir', str(out),
                    '--device', 'cpu', '--no-progress'])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert 'wrote 2 of 2 image(s)' in text and 'FAILED' not in text
    _check_outputs(out, ['a', 'b'], edges=False)
    assert not (out / 'masks' / 'c.png').exists()
    rc = tool.main([setup['cfg'], setup['ckpt'], str(setup['imgs'] / 'c.png'),
                    '--out-dir', str(out), '--device', 'cpu', '--resize',
                    'none', '--no-progress'])
    assert rc == 0
    assert 'at their own size' in capsys.readouterr().out
    _check_outputs(out, ['c'], edges=False)


@pytest.mark.parametrize('args,match', [
    (['{imgs}/*.bmp'], 'no image files in pattern'),
    (['{root}/missing'], 'input ".*missing" does not exist'),
    (['{imgs}', '--resize', 'big'], 'resize must be .* WIDTHxHEIGHT'),
])
def test_errors(setup, tmp_path, args, match):
    tool = _load_tool()
    args = [a.format(imgs=setup['imgs'], root=setup['root']) for a in args]
    with pytest.raises(SystemExit, match=f'error: {match}'):
        tool.main([setup['cfg'], setup['ckpt']] + args +
                  ['--out-dir', str(tmp_path / 'o'), '--device', 'cpu'])
    assert not (tmp_path / 'o').exists()


def test_edges_need_an_sge(setup, tmp_path):
    tool = _load_tool()
    with pytest.raises(SystemExit, match='error: edge maps need an SGE'):
        tool.main([setup['cfg'], setup['ckpt'], str(setup['imgs']),
                   '--out-dir', str(tmp_path), '--edges', '--device', 'cpu',
                   '--non-strict',  # the checkpoint has SGE weights
                   '--cfg-options', 'model.decode_head.sge=None',
                   'model.decode_head.kernel_source=self'])


# --------------------------------------------------------------------- #
# The output contract: never destroy what the tool did not write
# --------------------------------------------------------------------- #
def _no_model(*args, **kwargs):
    raise AssertionError('the model was loaded')


@pytest.fixture
def data(tmp_path):
    """The project's layout: DATA/images/<name>.png + DATA/masks/<name>.png
    (3 images; masks hold 0/1)."""
    make_tiny_dataset(str(tmp_path / 'tiny'), num_images=3)
    root = tmp_path / 'DATA'
    root.mkdir()
    os.rename(tmp_path / 'tiny' / 'img_dir', root / 'images')
    os.rename(tmp_path / 'tiny' / 'ann_dir', root / 'masks')
    return root


@pytest.mark.parametrize('inputs,out,how', [
    ('{data}/images', '{data}', 'contains'),
    ('{data}/images/001.png', '{data}', 'contains'),  # a single file
    ('{data}/images/*.png', '{data}/images/out', 'lies inside'),
    ('{data}/images', '{tmp}/link', 'is'),  # a symlink to the input
])
def test_out_dir_overlapping_an_input_is_refused(setup, data, tmp_path,
                                                 monkeypatch, inputs, out,
                                                 how):
    (tmp_path / 'link').symlink_to(data / 'images')
    before = file_tree(data)
    inputs = inputs.format(data=data, tmp=tmp_path)
    out = out.format(data=data, tmp=tmp_path)
    tool = _load_tool()
    _no_model_loading(monkeypatch)
    with pytest.raises(SystemExit) as info:
        tool.main([setup['cfg'], setup['ckpt'], inputs, '--out-dir', out,
                   '--device', 'cpu', '--no-progress'])
    msg = str(info.value)
    assert msg.startswith(f'error: output folder "{out}"'), msg
    assert f' {how} the input folder ' in msg
    assert str(data / 'images') in msg
    assert file_tree(data) == before  # the masks (and images) are untouched
    assert sorted(os.listdir(data)) == ['images', 'masks']


def test_unwritable_out_dir_is_refused_before_the_model(setup, tmp_path,
                                                        monkeypatch):
    (tmp_path / 'afile').write_text('x')
    out = tmp_path / 'afile' / 'out'
    tool = _load_tool()
    _no_model_loading(monkeypatch)
    with pytest.raises(SystemExit,
                       match=f'error: output folder "{out}" cannot be '
                       'created'):
        tool.main([setup['cfg'], setup['ckpt'], str(setup['imgs'] / 'a.png'),
                   '--out-dir', str(out), '--device', 'cpu'])


def test_foreign_file_overwrite_and_rerun(setup, tmp_path, monkeypatch,
                                          capsys):
    out = tmp_path / 'out'
    (out / 'masks').mkdir(parents=True)
    foreign = out / 'masks' / 'a.png'
    foreign.write_bytes(b'my own mask')
    args = [setup['cfg'], setup['ckpt'], str(setup['imgs'] / 'a.png'),
            '--out-dir', str(out), '--device', 'cpu', '--no-progress']
    tool = _load_tool()
    with monkeypatch.context() as m:
        _no_model_loading(m)
        with pytest.raises(SystemExit) as info:
            tool.main(args)
    msg = str(info.value)
    assert msg.startswith(f'error: 1 file(s) in output folder "{out}"')
    assert f'"{foreign}"' in msg and '--overwrite' in msg
    assert foreign.read_bytes() == b'my own mask'
    assert not (out / '.sgdc_outputs.json').exists()

    assert tool.main(args + ['--overwrite']) == 0
    text = capsys.readouterr().out
    assert 'replacing 1 existing file(s)' in text
    _check_outputs(out, ['a'], edges=False)
    record = json.loads((out / '.sgdc_outputs.json').read_text())
    assert record['files'] == ['masks/a.png', 'overlays/a.png']
    first = file_tree(out)

    # a re-run may rewrite its own files (no --overwrite needed)
    assert tool.main(args) == 0
    assert 'replacing' not in capsys.readouterr().out
    assert file_tree(out) == first


_KILLER = '''
import os, sys, time
real_replace = os.replace
count = [0]

def replace(src, dst):
    if str(src).endswith('.sgdc-tmp') and str(dst).endswith('.png'):
        count[0] += 1
        if count[0] == 3:  # image 1 written; image 2's mask half-way
            open({marker!r}, 'w').close()
            time.sleep(600)
    return real_replace(src, dst)

os.replace = replace
from sgdc_mmseg.cli.infer import main
sys.exit(main({args!r}))
'''


def test_sigkill_during_a_run_then_rerun(setup, data, tmp_path):
    """SIGKILL after image 1 is written, while image 2's mask is written
    (its temporary file complete, not yet renamed); the same command then
    completes, and every file is byte-identical to an uninterrupted run's."""
    def args(out):
        return [setup['cfg'], setup['ckpt'], str(data / 'images'),
                '--out-dir', str(out), '--batch-size', '1', '--device', 'cpu',
                '--no-progress']

    ref = tmp_path / 'ref'
    proc = run_tool([INFER] + args(ref), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:]
    reference = file_tree(ref)
    assert sorted(reference) == ['.sgdc_outputs.json'] + [
        f'{k}/{i:03d}.png' for k in ('masks', 'overlays') for i in range(3)]

    out = tmp_path / 'out'
    marker = tmp_path / 'killed_here'
    script = tmp_path / 'killer.py'
    script.write_text(_KILLER.format(marker=str(marker),
                                     args=args(out)))
    child = subprocess.Popen([sys.executable, str(script)], cwd=str(tmp_path),
                             env=tool_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(3000):  # up to 5 minutes on a loaded machine
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), 'the run never reached the third write'
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    interrupted = file_tree(out)
    temps = [p for p in interrupted if p.endswith('.sgdc-tmp')]
    assert len(temps) == 1 and temps[0].startswith('masks/.001.png.')
    # nothing truncated under a final name: what is there is complete
    finals = {p: b for p, b in interrupted.items() if p not in temps}
    assert sorted(finals) == ['.sgdc_outputs.json', 'masks/000.png',
                              'overlays/000.png']
    assert all(reference[p] == b for p, b in finals.items())

    proc = run_tool([INFER] + args(out), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'wrote 3 of 3 image(s)' in proc.stdout
    assert file_tree(out) == reference  # same files, same bytes, no leftovers


def test_checkpoint_must_fit_unless_non_strict(setup, tmp_path):
    import torch
    tool = _load_tool()
    full = torch.load(setup['ckpt'], weights_only=True)
    other = str(tmp_path / 'other.pth')
    torch.save({'foo.weight': torch.zeros(3)}, other)
    args = [str(setup['imgs'] / 'a.png'), '--device', 'cpu', '--no-progress']
    with pytest.raises(SystemExit, match=f'error: checkpoint "{other}" does '
                       r'not fit the model: 1 unexpected key \(foo\.weight\),'
                       r' \d+ missing keys'):
        tool.main([setup['cfg'], other] + args +
                  ['--out-dir', str(tmp_path / 'o1')])
    assert not list((tmp_path / 'o1').rglob('*.png'))  # nothing predicted
    assert tool.main([setup['cfg'], other] + args +
                     ['--out-dir', str(tmp_path / 'o2'), '--non-strict']) == 0
    # a bare state dict (no 'meta') loads
    bare = str(tmp_path / 'bare.pth')
    torch.save(full['state_dict'], bare)
    assert tool.main([setup['cfg'], bare] + args +
                     ['--out-dir', str(tmp_path / 'o3')]) == 0
    _check_outputs(tmp_path / 'o3', ['a'], edges=False)
