"""synthetic_lesion/generate.py: the data set on disk, written once (also
by concurrent processes, under the folder lock of sgdc_mmseg.utils.fileio),
regenerated when incomplete or changed, never over foreign data."""
import json
import multiprocessing as mp
import os
import os.path as osp

import cv2
import pytest

from sgdc_mmseg.datasets.synthetic_lesion import (LOCK_NAME, MARKER_NAME,
                                                  generate_synthetic_lesions)
from sgdc_mmseg.utils.fileio import DirLock

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


def test_live_lock_times_out_naming_it(tmp_path):
    root = tmp_path / 'syn'
    root.mkdir()
    holder = DirLock(str(root / LOCK_NAME))
    assert holder.try_acquire()  # a live process of this host holds it
    try:
        with pytest.raises(TimeoutError) as err:
            generate_synthetic_lesions(str(root), **dict(TINY, timeout=0))
    finally:
        holder.release()
    msg = str(err.value)
    assert str(root / LOCK_NAME) in msg
    assert 'generating the synthetic lesion data' in msg
    assert not (root / 'train').exists()
