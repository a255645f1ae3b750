"""Writing a synthetic lesion data set to disk, once, from any number of
processes.

Layout: ``out_dir/{train,val}/{images,masks}/<split>_<index>.png`` (images
RGB, masks single-channel 0/1), rendered by
:func:`~.render.render_synthetic_lesion`. The marker
:data:`MARKER_NAME`, holding the generation parameters, is written last
(atomically, with ``fsync``); when it matches and all files are present,
:func:`generate_synthetic_lesions` does nothing. The owner file
:data:`OWNER_NAME` marks the folder as this generator's, so that only
``train/`` and ``val/`` folders it made are ever deleted. Concurrent callers
(e.g. all DDP ranks) serialise on the folder lock :data:`LOCK_NAME`
(:class:`sgdc_mmseg.utils.fileio.DirLock`): one generates while the others
wait for the marker.
"""
import os
import os.path as osp
import shutil
from typing import List, Sequence, Tuple

import cv2
from mmengine.utils import ProgressBar

from ...utils.fileio import DirLock, atomic_write_json, read_json
from .render import render_synthetic_lesion

#: Bump when the rendering changes, so existing data gets regenerated.
GENERATOR_VERSION = 1
SPLITS = ('train', 'val')
MARKER_NAME = '.synthetic_lesion_done.json'
OWNER_NAME = '.synthetic_lesion_owner'
LOCK_NAME = '.synthetic_lesion.lock'
_OWNER_TEXT = ('Created by sgdc_mmseg.datasets.synthetic_lesion; the '
               'train/ and val/ folders here may be regenerated.\n')


def sample_name(split: str, index: int) -> str:
    return f'{split}_{index:05d}'


def generation_params(num_train: int, num_val: int, size: Sequence[int],
                      seed: int) -> dict:
    """What the marker records: two calls with the same parameters write
    the same files."""
    return dict(
        generator='sgdc_mmseg.synthetic_lesion',
        version=GENERATOR_VERSION,
        num_train=int(num_train),
        num_val=int(num_val),
        size=[int(size[0]), int(size[1])],
        seed=int(seed),
        image_suffix='.png',
        mask_suffix='.png')


def is_complete(out_dir: str, params: dict) -> bool:
    """Marker matches ``params`` and all files are there."""
    if read_json(osp.join(out_dir, MARKER_NAME)) != params:
        return False
    for split, num in zip(SPLITS, (params['num_train'], params['num_val'])):
        for sub in ('images', 'masks'):
            folder = osp.join(out_dir, split, sub)
            try:
                n = sum(1 for f in os.listdir(folder) if f.endswith('.png'))
            except OSError:
                return False
            if n != num:
                return False
    return True


def _claim_folder(out_dir: str) -> None:
    """Refuse ``train``/``val`` folders this generator did not make; mark
    ``out_dir`` as ours, then remove the marker and the old splits."""
    owner_file = osp.join(out_dir, OWNER_NAME)
    marker_file = osp.join(out_dir, MARKER_NAME)
    owned = osp.exists(owner_file) or osp.exists(marker_file)
    existing = [s for s in SPLITS if osp.lexists(osp.join(out_dir, s))]
    if existing and not owned:
        raise RuntimeError(
            f'{out_dir!r} already contains {existing} that were not '
            'made by generate_synthetic_lesions; refusing to overwrite '
            'them. Point data_root at an empty or new folder.')
    with open(owner_file, 'w', encoding='utf-8') as f:
        f.write(_OWNER_TEXT)
    if osp.exists(marker_file):
        os.remove(marker_file)
    for split in existing:
        shutil.rmtree(osp.join(out_dir, split))


def _write_samples(out_dir: str, jobs: List[Tuple[str, int]], seed: int,
                   size: Tuple[int, int], progress: bool,
                   lock: DirLock) -> None:
    """Render and write every ``(split, index)`` of ``jobs`` (PNG,
    compression 3), refreshing ``lock``."""
    for split in SPLITS:
        for sub in ('images', 'masks'):
            os.makedirs(osp.join(out_dir, split, sub), exist_ok=True)
    bar = ProgressBar(len(jobs)) if progress and jobs else None
    png = [cv2.IMWRITE_PNG_COMPRESSION, 3]
    for split, index in jobs:
        image, mask = render_synthetic_lesion(seed, split, index, size)
        name = sample_name(split, index) + '.png'
        ok_img = cv2.imwrite(
            osp.join(out_dir, split, 'images', name),
            cv2.cvtColor(image, cv2.COLOR_RGB2BGR), png)
        ok_mask = cv2.imwrite(
            osp.join(out_dir, split, 'masks', name), mask, png)
        if not (ok_img and ok_mask):
            raise OSError(f'Failed to write {name} under {out_dir!r}')
        lock.touch()
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.file.write('\n')
        bar.file.flush()


def generate_synthetic_lesions(out_dir: str,
                               num_train: int = 400,
                               num_val: int = 100,
                               size: Tuple[int, int] = (128, 128),
                               seed: int = 0,
                               progress: bool = True,
                               timeout: float = 3600.0) -> bool:
    """Write a synthetic lesion dataset to ``out_dir`` unless it is there.

    Layout: ``out_dir/{train,val}/{images,masks}/<split>_<index>.png``
    (images RGB, masks single-channel 0/1). A marker file holding the
    generation parameters is written last; when it matches and all files
    are present the call does nothing. Otherwise (first call, interrupted
    run, changed parameters) the ``train`` and ``val`` folders are
    rebuilt. Only folders created by this function are ever deleted.

    Safe to call from several processes at once (e.g. all DDP ranks): one
    of them generates while the others wait for the marker.

    Args:
        out_dir (str): Dataset root.
        num_train (int): Number of training samples.
        num_val (int): Number of validation samples.
        size (tuple[int, int]): Image size ``(H, W)``.
        seed (int): Global seed.
        progress (bool): Show an mmengine progress bar.
        timeout (float): Seconds to wait for another process's generation.

    Returns:
        bool: Whether this call generated the data.
    """
    if len(size) != 2 or min(size) < 8:
        raise ValueError(f'size must be (H, W) with H, W >= 8, got {size!r}')
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0')
    params = generation_params(num_train, num_val, size, seed)
    if is_complete(out_dir, params):
        return False

    os.makedirs(out_dir, exist_ok=True)
    lock = DirLock(osp.join(out_dir, LOCK_NAME),
                   purpose='generating the synthetic lesion data')
    if not lock.acquire(timeout, done=lambda: is_complete(out_dir, params)):
        return False
    try:
        if is_complete(out_dir, params):
            return False
        _claim_folder(out_dir)
        jobs = [(s, i) for s, n in zip(SPLITS, (num_train, num_val))
                for i in range(n)]
        _write_samples(out_dir, jobs, seed, size, progress, lock)
        atomic_write_json(osp.join(out_dir, MARKER_NAME), params,
                          sort_keys=True, fsync=True)
    finally:
        lock.release()
    return True
