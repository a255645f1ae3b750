"""A tiny fake DRIVE download in the official layout (TIFF images, GIF
masks), as extracted folders or zip files, for the DRIVE tests.

``make_drive(source, mode)`` writes 5 training images (21..25) and 2 test
images (01, 02) of :data:`SIZE`, each with a vessel annotation (a few lines,
some of them crossing the border of the field of view), a field-of-view
disk and, for the test split, a second observer. ``mode``:

    ``'dir'``         ``SOURCE/DRIVE/{training,test}/...``
    ``'DRIVE.zip'``   ``SOURCE/DRIVE.zip`` holding ``DRIVE/{training,test}/``
    ``'split-zips'``  ``SOURCE/training.zip`` + ``SOURCE/test.zip`` holding
                      ``training/...`` and ``test/...``
"""
import io
import os
import os.path as osp
import zipfile
from typing import Dict, Sequence

import numpy as np
from PIL import Image

SIZE = (72, 70)  # (W, H): larger than the 64x64 training crops
SPLIT_NUMBERS = {'training': (21, 22, 23, 24, 25), 'test': (1, 2)}


def fundus(seed: int, size=SIZE) -> np.ndarray:
    """An RGB image (uint8, H x W x 3)."""
    w, h = size
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)


def fov_disk(size=SIZE) -> np.ndarray:
    """0/255: a disk leaving the corners outside."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    inside = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= (min(h, w) / 2) ** 2
    return (inside * 255).astype(np.uint8)


def vessels(seed: int, size=SIZE) -> np.ndarray:
    """0/255: a horizontal and a vertical line plus one in the top-left
    corner (outside the disk)."""
    w, h = size
    m = np.zeros((h, w), np.uint8)
    m[h // 2 + seed % 5, :] = 255
    m[:, w // 3 + seed % 7] = 255
    m[1, 1:4 + seed % 3] = 255  # outside the field of view
    return m


def tif(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format='TIFF')
    return buf.getvalue()


def gif(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode='L').save(buf, format='GIF')
    return buf.getvalue()


def split_files(split: str, numbers: Sequence[int], second: bool = True,
                seed: int = 0):
    """``({relative path: bytes}, {stem: (rgb, vessels, fov, vessels2)})``
    of one split folder."""
    files, arrays = {}, {}
    for i, n in enumerate(numbers):
        nn = f'{n:02d}'
        stem = f'{nn}_{split}'
        rgb, v, fov = fundus(seed + n), vessels(n), fov_disk()
        v2 = vessels(n + 1) if (second and split == 'test') else None
        files[f'images/{stem}.tif'] = tif(rgb)
        files[f'1st_manual/{nn}_manual1.gif'] = gif(v)
        files[f'mask/{stem}_mask.gif'] = gif(fov)
        if v2 is not None:
            files[f'2nd_manual/{nn}_manual2.gif'] = gif(v2)
        arrays[stem] = (rgb, v, fov, v2)
    return files, arrays


def write_files(root: str, files: Dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = osp.join(root, *rel.split('/'))
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)


def write_zip(path: str, files: Dict[str, bytes]) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)


def make_drive(source: str, mode: str = 'dir',
               splits: Sequence[str] = ('training', 'test')):
    """Write a fake DRIVE into ``source``; returns ``{stem: (rgb, vessels,
    fov, vessels of the 2nd observer or None)}`` (masks 0/255)."""
    arrays, per_split = {}, {}
    for split in splits:
        files, arr = split_files(split, SPLIT_NUMBERS[split])
        per_split[split] = files
        arrays.update(arr)
    if mode == 'dir':
        for split, files in per_split.items():
            write_files(osp.join(source, 'DRIVE', split), files)
    elif mode == 'DRIVE.zip':
        write_zip(osp.join(source, 'DRIVE.zip'), {
            f'DRIVE/{split}/{rel}': data
            for split, files in per_split.items()
            for rel, data in files.items()})
    elif mode == 'split-zips':
        for split, files in per_split.items():
            write_zip(osp.join(source, f'{split}.zip'),
                      {f'{split}/{rel}': d for rel, d in files.items()})
    else:
        raise ValueError(mode)
    return arrays
