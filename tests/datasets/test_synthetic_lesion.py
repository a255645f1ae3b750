import json
import multiprocessing as mp
import os
import os.path as osp

import cv2
import numpy as np
import pytest

import sgdc_mmseg  # noqa: F401  (fills the registries)
from mmseg.registry import DATASETS
from sgdc_mmseg.datasets import (SyntheticLesionDataset,
                                 generate_synthetic_lesions,
                                 render_synthetic_lesion)
from sgdc_mmseg.datasets.synthetic_lesion import MARKER_NAME

TINY = dict(num_train=4, num_val=2, size=(32, 32), seed=0, progress=False)


def _files(root):
    out = {}
    for split in ('train', 'val'):
        for sub in ('images', 'masks'):
            folder = osp.join(root, split, sub)
            for name in sorted(os.listdir(folder)):
                out[f'{split}/{sub}/{name}'] = osp.join(folder, name)
    return out


def _read_all(root):
    return {k: open(p, 'rb').read() for k, p in _files(root).items()}


def test_render_shapes_and_values():
    img, mask = render_synthetic_lesion(seed=0, split='train', index=0,
                                        size=(48, 64))
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    assert mask.shape == (48, 64) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) == {0, 1}


def test_render_deterministic_and_seed_dependent():
    a = render_synthetic_lesion(3, 'train', 5, (64, 64))
    b = render_synthetic_lesion(3, 'train', 5, (64, 64))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    for other in (render_synthetic_lesion(4, 'train', 5, (64, 64)),
                  render_synthetic_lesion(3, 'val', 5, (64, 64)),
                  render_synthetic_lesion(3, 'train', 6, (64, 64))):
        assert not np.array_equal(a[0], other[0])
        assert not np.array_equal(a[1], other[1])


def test_lesion_area_fraction_is_sane():
    fractions = []
    for i in range(40):
        _, mask = render_synthetic_lesion(0, 'train', i, (64, 64))
        assert set(np.unique(mask).tolist()) <= {0, 1}
        fractions.append(mask.mean())
    fractions = np.array(fractions)
    assert fractions.min() > 0.01 and fractions.max() < 0.6
    assert 0.08 < fractions.mean() < 0.35
    assert fractions.std() > 0.03  # sizes vary


def test_lesion_darker_than_skin_on_average():
    diffs = []
    for i in range(20):
        img, mask = render_synthetic_lesion(1, 'train', i, (64, 64))
        grey = img.astype(np.float32).mean(-1)
        diffs.append(grey[mask == 0].mean() - grey[mask == 1].mean())
    assert min(diffs) > 0
    assert np.median(diffs) > 15
    assert min(diffs) < np.median(diffs) / 2  # some low-contrast cases


def test_hair_does_not_change_mask():
    hairy_seen = 0
    for i in range(10):
        img_h, mask_h, layers = render_synthetic_lesion(
            0, 'train', i, (64, 64), hair=True, return_layers=True)
        img_n, mask_n = render_synthetic_lesion(0, 'train', i, (64, 64),
                                                hair=False)
        np.testing.assert_array_equal(mask_h, mask_n)
        hair = layers['hair'] > 0.5
        if hair.any():
            hairy_seen += 1
            # hairs are dark and drawn over the image, skin and lesion
            diff = img_n.astype(int) - img_h.astype(int)
            assert diff[hair].mean() > 20
            # away from hairs (beyond the final slight blur) nothing changes
            near = cv2.dilate((layers['hair'] > 0).astype(np.uint8),
                              np.ones((7, 7), np.uint8)) > 0
            np.testing.assert_array_equal(img_h[~near], img_n[~near])
            if (hair & (mask_h == 1)).any():
                assert mask_h[hair].max() == 1
        else:
            np.testing.assert_array_equal(img_h, img_n)
    assert hairy_seen >= 3


def test_generation_layout_and_determinism(tmp_path):
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    assert generate_synthetic_lesions(str(a), **TINY) is True
    generate_synthetic_lesions(str(b), **TINY)
    generate_synthetic_lesions(str(c), **dict(TINY, seed=1))
    files_a, files_b, files_c = _read_all(a), _read_all(b), _read_all(c)
    assert sorted(files_a) == [
        'train/images/train_00000.png', 'train/images/train_00001.png',
        'train/images/train_00002.png', 'train/images/train_00003.png',
        'train/masks/train_00000.png', 'train/masks/train_00001.png',
        'train/masks/train_00002.png', 'train/masks/train_00003.png',
        'val/images/val_00000.png', 'val/images/val_00001.png',
        'val/masks/val_00000.png', 'val/masks/val_00001.png'
    ]
    assert files_a == files_b  # same seed: identical bytes
    assert all(files_a[k] != files_c[k] for k in files_a
               if '/images/' in k)
    marker = json.loads((a / MARKER_NAME).read_text())
    assert marker['num_train'] == 4 and marker['num_val'] == 2
    assert marker['size'] == [32, 32] and marker['seed'] == 0


def test_sample_independent_of_count(tmp_path):
    generate_synthetic_lesions(str(tmp_path / 'few'), **TINY)
    generate_synthetic_lesions(str(tmp_path / 'more'),
                               **dict(TINY, num_train=6, num_val=1))
    few, more = _read_all(tmp_path / 'few'), _read_all(tmp_path / 'more')
    for k in ('train/images/train_00003.png', 'val/masks/val_00000.png'):
        assert few[k] == more[k]


def test_idempotent_and_regenerates_on_change(tmp_path):
    root = str(tmp_path / 'syn')
    assert generate_synthetic_lesions(root, **TINY) is True
    paths = _files(root)
    stamp = {k: os.stat(p).st_mtime_ns for k, p in paths.items()}
    marker_stamp = os.stat(osp.join(root, MARKER_NAME)).st_mtime_ns
    # second call: nothing rewritten
    assert generate_synthetic_lesions(root, **TINY) is False
    assert {k: os.stat(p).st_mtime_ns for k, p in paths.items()} == stamp
    assert os.stat(osp.join(root, MARKER_NAME)).st_mtime_ns == marker_stamp

    # changed parameters: regenerated, old files gone
    assert generate_synthetic_lesions(
        root, **dict(TINY, num_train=3, size=(24, 32))) is True
    new = _files(root)
    assert len([k for k in new if k.startswith('train/images')]) == 3
    assert cv2.imread(new['train/images/train_00000.png']).shape == (24, 32,
                                                                      3)
    marker = json.loads(open(osp.join(root, MARKER_NAME)).read())
    assert marker['num_train'] == 3 and marker['size'] == [24, 32]


def test_interrupted_run_is_regenerated(tmp_path):
    root = str(tmp_path / 'syn')
    generate_synthetic_lesions(root, **TINY)
    expected = _read_all(root)
    # simulate an interrupted run: marker missing, a file truncated
    os.remove(osp.join(root, MARKER_NAME))
    open(_files(root)['val/images/val_00001.png'], 'wb').close()
    assert generate_synthetic_lesions(root, **TINY) is True
    assert _read_all(root) == expected
    # a deleted file is noticed even when the marker is present
    os.remove(_files(root)['train/masks/train_00002.png'])
    assert generate_synthetic_lesions(root, **TINY) is True
    assert _read_all(root) == expected


def test_refuses_to_overwrite_foreign_data(tmp_path):
    root = tmp_path / 'user_data'
    (root / 'train' / 'images').mkdir(parents=True)
    (root / 'train' / 'images' / 'precious.png').write_bytes(b'x')
    with pytest.raises(RuntimeError, match='refusing'):
        generate_synthetic_lesions(str(root), **TINY)
    assert (root / 'train' / 'images' / 'precious.png').exists()


def _gen_worker(root, queue):
    queue.put(generate_synthetic_lesions(root, **TINY))


def test_concurrent_processes_generate_once(tmp_path):
    root = str(tmp_path / 'syn')
    # fork keeps the test fast (no re-import); the lock is file based.
    ctx = mp.get_context('fork')
    queue = ctx.Queue()
    procs = [ctx.Process(target=_gen_worker, args=(root, queue))
             for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    results = sorted(queue.get(timeout=5) for _ in procs)
    assert results == [False, False, True]
    assert not osp.exists(osp.join(root, '.synthetic_lesion.lock'))
    reference = tmp_path / 'ref'
    generate_synthetic_lesions(str(reference), **TINY)
    assert _read_all(root) == _read_all(reference)


def test_dataset_builds_and_generates(tmp_path):
    root = str(tmp_path / 'syn')
    common = dict(type='SyntheticLesionDataset', data_root=root,
                  num_train=4, num_val=2, size=(32, 32), seed=0,
                  progress=False)
    train = DATASETS.build(dict(
        common,
        data_prefix=dict(img_path='train/images',
                         seg_map_path='train/masks')))
    val = DATASETS.build(dict(
        common,
        data_prefix=dict(img_path='val/images', seg_map_path='val/masks')))
    assert isinstance(train, SyntheticLesionDataset)
    assert len(train) == 4 and len(val) == 2
    assert train.metainfo['classes'] == ('background', 'lesion')
    info = val.get_data_info(1)
    assert info['img_path'].endswith(osp.join('val', 'images',
                                              'val_00001.png'))
    assert info['seg_map_path'].endswith(osp.join('val', 'masks',
                                                  'val_00001.png'))
    assert osp.isfile(info['img_path']) and osp.isfile(info['seg_map_path'])


def test_stale_lock_of_dead_process_is_broken(tmp_path):
    import socket
    import subprocess
    import sys
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    root = tmp_path / 'syn'
    root.mkdir()
    (root / '.synthetic_lesion.lock').write_text(
        json.dumps(dict(pid=dead.pid, host=socket.gethostname())))
    assert generate_synthetic_lesions(str(root), **dict(TINY, timeout=30))
    assert not (root / '.synthetic_lesion.lock').exists()
