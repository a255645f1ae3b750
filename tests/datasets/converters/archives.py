"""Tiny fake official archives for the converter tests.

Every builder writes a handful of small samples in the exact official
layout, either as extracted folders or as zip files, and returns what it
wrote so the tests can compare the converted outputs with the sources.

``mode`` (ISIC builders):
    ``'dir'``         extracted folders ``SOURCE/<folder>/<file>``
    ``'dir-nested'``  ``SOURCE/<folder>/<folder>/<file>`` (extracted twice)
    ``'zip'``         ``SOURCE/<folder>.zip`` holding ``<folder>/<file>``
    ``'zip-nested'``  ``SOURCE/<folder>.zip`` holding
                      ``<folder>/<folder>/<file>``
    ``'zip-flat'``    ``SOURCE/<folder>.zip`` holding ``<file>``
"""
import hashlib
import os
import os.path as osp
import zipfile
from typing import Dict, Iterable, Optional, Sequence, Tuple

import cv2
import numpy as np

SIZE = (24, 18)  # (W, H) of the fake ISIC images

ISIC2016 = {
    'train': ('ISBI2016_ISIC_Part1_Training_Data',
              'ISBI2016_ISIC_Part1_Training_GroundTruth'),
    'test': ('ISBI2016_ISIC_Part1_Test_Data',
             'ISBI2016_ISIC_Part1_Test_GroundTruth'),
}
ISIC2018 = {
    'train': ('ISIC2018_Task1-2_Training_Input',
              'ISIC2018_Task1_Training_GroundTruth'),
    'val': ('ISIC2018_Task1-2_Validation_Input',
            'ISIC2018_Task1_Validation_GroundTruth'),
    'test': ('ISIC2018_Task1-2_Test_Input',
             'ISIC2018_Task1_Test_GroundTruth'),
}


# ---------------------------------------------------------------------------
# pixels
# ---------------------------------------------------------------------------
def color_image(seed: int, size: Tuple[int, int] = SIZE) -> np.ndarray:
    """A smooth BGR image (JPEG-friendly) with a darker blob."""
    w, h = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.empty((h, w, 3), np.uint8)
    for c in range(3):
        base = rng.integers(80, 200)
        img[..., c] = np.clip(base + 30 * np.sin(xx / 3 + c) +
                              20 * np.cos(yy / 4), 0, 255)
    return img


def lesion_mask(seed: int, size: Tuple[int, int] = SIZE) -> np.ndarray:
    """A 0/255 uint8 mask holding one random rectangle of 255."""
    w, h = size
    rng = np.random.default_rng(seed + 1000)
    m = np.zeros((h, w), np.uint8)
    y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
    m[y0:y0 + h // 3 + 1, x0:x0 + w // 3 + 1] = 255
    return m


def encode(ext: str, arr: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(ext, arr)
    assert ok
    return buf.tobytes()


# ---------------------------------------------------------------------------
# folders and zips
# ---------------------------------------------------------------------------
def write_folder(source: str, folder: str, files: Dict[str, bytes],
                 mode: str = 'dir') -> str:
    """Write ``files`` (relative path -> bytes) as the official ``folder``
    of SOURCE in the given ``mode``; returns the path written."""
    os.makedirs(source, exist_ok=True)
    if mode.startswith('dir'):
        root = osp.join(source, folder)
        if mode == 'dir-nested':
            root = osp.join(root, folder)
        for rel, data in files.items():
            path = osp.join(root, *rel.split('/'))
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)
        return osp.join(source, folder)
    prefix = {'zip': f'{folder}/', 'zip-nested': f'{folder}/{folder}/',
              'zip-flat': ''}[mode]
    path = osp.join(source, folder + '.zip')
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as zf:
        if prefix:
            zf.writestr(zipfile.ZipInfo(prefix), b'')  # a directory entry
        for rel, data in files.items():
            zf.writestr(prefix + rel, data)
    return path


def make_isic(source: str, folders: Dict[str, Tuple[str, str]],
              names: Dict[str, Sequence[str]], mask_suffix: str,
              mode: str = 'dir', size: Tuple[int, int] = SIZE,
              extra: Optional[Dict[str, Dict[str, bytes]]] = None,
              seed: int = 0) -> Dict[str, Dict[str, Tuple[bytes, np.ndarray]]]:
    """Write ISIC-style image / ground-truth folders.

    Returns:
        dict: ``{split: {name: (jpeg bytes, 0/255 mask)}}``.
    """
    written = {}
    k = seed
    for split, split_names in names.items():
        img_folder, mask_folder = folders[split]
        images, masks, out = {}, {}, {}
        for name in split_names:
            jpeg = encode('.jpg', color_image(k, size))
            mask = lesion_mask(k, size)
            images[f'{name}.jpg'] = jpeg
            masks[f'{name}{mask_suffix}'] = encode('.png', mask)
            out[name] = (jpeg, mask)
            k += 1
        for folder in (img_folder, mask_folder):
            for rel, data in (extra or {}).get(folder, {}).items():
                (images if folder == img_folder else masks)[rel] = data
        write_folder(source, img_folder, images, mode)
        write_folder(source, mask_folder, masks, mode)
        written[split] = out
    return written


def isic_names(start: int, count: int) -> list:
    return [f'ISIC_{i:07d}' for i in range(start, start + count)]


def make_isic2016(source: str, mode: str = 'dir', train: int = 3,
                  test: int = 2, **kwargs):
    """3 training + 2 test pairs of 24x18 by default."""
    names = {'train': isic_names(0, train), 'test': isic_names(100, test)}
    return make_isic(source, ISIC2016, names, '_Segmentation.png', mode,
                     **kwargs)


KNOWN_TXT = {'ATTRIBUTION.txt': b'attribution\n', 'LICENSE.txt': b'CC\n'}


def make_isic2018(source: str, mode: str = 'dir',
                  counts: Optional[Dict[str, int]] = None, **kwargs):
    """4 train, 1 val, 2 test pairs by default; every folder also holds
    ATTRIBUTION.txt and LICENSE.txt, like the official ones."""
    counts = counts or dict(train=4, val=1, test=2)
    starts = dict(train=0, val=200, test=300)
    names = {s: isic_names(starts[s], n) for s, n in counts.items()}
    extra = kwargs.pop('extra', None) or {}
    for split in counts:
        for folder in ISIC2018[split]:
            extra.setdefault(folder, {}).update(KNOWN_TXT)
    return make_isic(source, ISIC2018, names, '_segmentation.png', mode,
                     extra=extra, **kwargs)


# ---------------------------------------------------------------------------
# PH2
# ---------------------------------------------------------------------------
PH2_ROOT = 'PH2Dataset'
PH2_IMAGES = 'PH2 Dataset images'


def ph2_files(cases: Dict[str, Tuple[int, int]], three_channel=(),
              roi=()) -> Tuple[Dict[str, bytes], Dict[str, tuple]]:
    """Files under ``PH2 Dataset images`` for ``cases`` ``{case: (W, H)}``;
    returns ``(files, {case: (BGR image, 0/255 mask)})``."""
    files, arrays = {}, {}
    for k, (case, size) in enumerate(sorted(cases.items())):
        img = color_image(50 + k, size)
        mask = lesion_mask(50 + k, size)
        stored = np.dstack([mask] * 3) if case in three_channel else mask
        files[f'{case}/{case}_Dermoscopic_Image/{case}.bmp'] = encode(
            '.bmp', img)
        files[f'{case}/{case}_lesion/{case}_lesion.bmp'] = encode(
            '.bmp', stored)
        if case in roi:
            files[f'{case}/{case}_roi/{case}_R1_Label4.bmp'] = encode(
                '.bmp', mask)
        arrays[case] = (img, mask)
    return files, arrays


PH2_CASES = {'IMD002': (20, 16), 'IMD003': (22, 15), 'IMD010': (19, 17)}


def make_ph2(source: str, mode: str = 'dir', cases=None,
             three_channel=('IMD003', ), roi=('IMD002', ),
             extra: Optional[Dict[str, bytes]] = None):
    """PH2 in its official layout: ``SOURCE/PH2Dataset/PH2 Dataset images``
    (``mode='dir'``) or ``SOURCE/PH2Dataset.zip`` holding it
    (``mode='zip'``). Returns ``{case: (BGR image, 0/255 mask)}``."""
    files, arrays = ph2_files(cases or PH2_CASES, three_channel, roi)
    files.update(extra or {})
    files = {f'{PH2_IMAGES}/{rel}': data for rel, data in files.items()}
    files['PH2_dataset.txt'] = b'classification table\n'
    os.makedirs(source, exist_ok=True)
    if mode == 'dir':
        for rel, data in files.items():
            path = osp.join(source, PH2_ROOT, *rel.split('/'))
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)
    else:
        with zipfile.ZipFile(osp.join(source, PH2_ROOT + '.zip'), 'w',
                             zipfile.ZIP_DEFLATED) as zf:
            for rel, data in files.items():
                zf.writestr(f'{PH2_ROOT}/{rel}', data)
    return arrays


# ---------------------------------------------------------------------------
# CoNIC
# ---------------------------------------------------------------------------
CONIC_GROUPS = (('consep_1', 2), ('crag_2', 3), ('glas_3', 1),
                ('pannuke_4', 2), ('dpath_5', 1))
COUNT_COLUMNS = ('neutrophil', 'epithelial', 'lymphocyte', 'plasma',
                 'eosinophil', 'connective')


def make_conic(source: str, groups=CONIC_GROUPS, size: int = 256,
               seed: int = 0) -> dict:
    """Write images.npy, labels.npy, patch_info.csv and counts.csv.

    Every patch holds 4x4-pixel square nuclei with instance ids 1..n and
    random classes 1..6: some inside the central 224x224 (counted in
    counts.csv) and one in the 16-pixel border (not counted, as in the
    challenge). Returns ``dict(names, images, labels, counts)``.
    """
    rng = np.random.default_rng(seed)
    names, images, labels, counts = [], [], [], []
    for group, n in groups:
        for p in range(n):
            names.append(f'{group}-{p:04d}')
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            inst = np.zeros((size, size), np.int32)
            cls = np.zeros((size, size), np.int32)
            count = [0] * 6
            inner = int(rng.integers(3, 7))
            for i in range(inner):  # inside the counted centre
                y, x = 40 + 30 * i, 60 + 17 * i
                c = int(rng.integers(1, 7))
                inst[y:y + 4, x:x + 4] = i + 1
                cls[y:y + 4, x:x + 4] = c
                count[c - 1] += 1
            # one nucleus in the top border: labelled, not counted
            inst[2:6, 100:104] = inner + 1
            cls[2:6, 100:104] = int(rng.integers(1, 7))
            images.append(img)
            labels.append(np.stack([inst, cls], axis=-1))
            counts.append(count)
    data = dict(names=names, images=np.stack(images),
                labels=np.stack(labels), counts=np.asarray(counts))
    write_conic(source, **data)
    return data


def write_conic(source: str, names, images, labels, counts) -> None:
    os.makedirs(source, exist_ok=True)
    np.save(osp.join(source, 'images.npy'), images)
    np.save(osp.join(source, 'labels.npy'), labels)
    with open(osp.join(source, 'patch_info.csv'), 'w') as f:
        f.write('patch_info\n' + ''.join(f'{n}\n' for n in names))
    with open(osp.join(source, 'counts.csv'), 'w') as f:
        f.write(','.join(COUNT_COLUMNS) + '\n')
        for row in counts:
            f.write(','.join(str(int(v)) for v in row) + '\n')


# ---------------------------------------------------------------------------
# comparing trees
# ---------------------------------------------------------------------------
def snapshot(root: str) -> Dict[str, Tuple[int, int, str]]:
    """``{relative path: (size, mtime_ns, sha1)}`` of every file (and
    ``(-1, mtime_ns, '')`` for every folder) under ``root``."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = osp.join(dirpath, d)
            out[osp.relpath(p, root) + '/'] = (-1, os.stat(p).st_mtime_ns,
                                               '')
        for fn in filenames:
            p = osp.join(dirpath, fn)
            with open(p, 'rb') as f:
                digest = hashlib.sha1(f.read()).hexdigest()
            st = os.stat(p)
            out[osp.relpath(p, root)] = (st.st_size, st.st_mtime_ns, digest)
    return out


def read_tree(root: str, skip: Iterable[str] = ()) -> Dict[str, bytes]:
    """``{relative path: bytes}`` of every file under ``root``."""
    skip = set(skip)
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for fn in filenames:
            p = osp.join(dirpath, fn)
            rel = osp.relpath(p, root).replace(os.sep, '/')
            if rel not in skip:
                with open(p, 'rb') as f:
                    out[rel] = f.read()
    return out


def read_mask(path: str) -> np.ndarray:
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def read_lines(path: str) -> list:
    with open(path) as f:
        return f.read().splitlines()
