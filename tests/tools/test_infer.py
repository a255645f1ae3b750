"""tools/infer.py on folders, globs and bad files (tiny random model)."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest

import sgdc_mmseg  # noqa: F401
from helpers import (LESION_META, REPO_ROOT, make_tiny_dataset, run_tool,
                     save_random_checkpoint, write_tiny_config)

INFER = osp.join(REPO_ROOT, 'tools', 'infer.py')
SIZES = dict(a=(30, 40), b=(48, 24), c=(33, 33))  # stem -> (H, W)


def _load_tool():
    spec = importlib.util.spec_from_file_location('_sgdc_tool_infer', INFER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
                   '--cfg-options', 'model.decode_head.sge=None',
                   'model.decode_head.kernel_source=self'])
