"""CoNIC 2022 (colon nuclei, 4981 patches of 256x256) from the official
challenge files.

SOURCE is the folder holding (directly or in one sub-folder)::

    images.npy      N x H x W x 3 uint8, RGB
    labels.npy      N x H x W x 2 integer: channel 0 instance ids (0 = none),
                    channel 1 class ids 0..6 (0 = background, 1 neutrophil,
                    2 epithelial, 3 lymphocyte, 4 plasma, 5 eosinophil,
                    6 connective)
    patch_info.csv  header ``patch_info``, then one patch name per row,
                    ``<source image>-<patch index>`` (e.g. consep_1-0000)
    counts.csv      header ``neutrophil,...,connective``, one row per patch

The arrays are memory-mapped (``numpy.load(mmap_mode='r')``), never loaded
whole, so they must be plain files: a zip holding them is refused with a
message asking to extract it.

Checks: the four files agree in length (and the arrays in patch size),
names are unique and of the form ``<image>-<index>``, class ids lie in
0..6, instance ids in 0..65535, and ``counts.csv`` matches the labels under
the challenge's own counting rule: per class, the number of distinct
instance ids with that class inside the central 224x224 crop of the patch
(the rule of the challenge's ``extract_patches.py``; the crop keeps cut
nuclei at the patch border from being counted).

Output: ``images/<name>.png`` (RGB, lossless), ``masks/<name>.png`` (uint8
class ids 0..6), ``instances/<name>.png`` (uint16 instance ids),
``splits/all.txt`` and the grouped k-fold files ``splits/fold{i}_train.txt``
/ ``fold{i}_val.txt`` in which all patches of a source image fall in the
same fold (:func:`sgdc_mmseg.datasets.splits.grouped_kfold`).
"""
import csv
import hashlib
import os
import os.path as osp
import re
import zipfile
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

from ..splits import fold_splits, grouped_kfold
from ..utils import format_names
from .checks import (ConversionError, Size, check_folds, check_min_side,
                     check_nproc, check_size, raise_problems)
from .images import encode_png, resize_image, resize_nearest
from .output import OutputFolder, write_output
from .records import is_current, make_settings
from .runner import TaskResult, finish_conversion, run_conversion
from .sources import fresh_source, load_npy

NAME = 'conic'
DEFAULT_FOLDS = 5
FILES = ('images.npy', 'labels.npy', 'patch_info.csv', 'counts.csv')
COUNT_COLUMNS = ('neutrophil', 'epithelial', 'lymphocyte', 'plasma',
                 'eosinophil', 'connective')
#: Class id -> name (the order of the counts.csv columns, after background).
CLASSES = ('background', ) + COUNT_COLUMNS
NUM_CLASSES = len(CLASSES)
#: counts.csv counts the nuclei inside the central COUNT_CROP x COUNT_CROP.
COUNT_CROP = 224
_NAME_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.+-]*-[0-9]+$')


def group_of(name: str) -> str:
    """The source image of a patch: the part of its name before the last
    ``-``."""
    return name.rsplit('-', 1)[0]


def _zip_holding(path: str) -> Optional[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            for n in zf.namelist():
                if n.split('/')[-1] == 'images.npy' and n.count('/') <= 1:
                    return n
    except (zipfile.BadZipFile, OSError):
        return None
    return None


def locate(source: str) -> str:
    """The folder holding the four CoNIC files (``source`` or its only
    sub-folder that holds ``images.npy``)."""
    expected = ', '.join(FILES)
    if osp.isfile(source) and zipfile.is_zipfile(source):
        zips = [source]
    elif not osp.isdir(source):
        raise ConversionError(f'{NAME}: SOURCE {source!r} is not a folder.')
    else:
        zips = None
    if zips is None:
        if osp.isfile(osp.join(source, 'images.npy')):
            folder = source
        else:
            subs = sorted(
                d for d in os.listdir(source)
                if osp.isfile(osp.join(source, d, 'images.npy')))
            if len(subs) > 1:
                raise ConversionError(
                    f'{NAME}: several sub-folders of {source!r} hold '
                    f'images.npy ({format_names(subs)}); pass the one to '
                    'convert as SOURCE.')
            folder = osp.join(source, subs[0]) if subs else None
        if folder is not None:
            lacking = [f for f in FILES if not osp.isfile(osp.join(folder, f))]
            if lacking:
                raise ConversionError(
                    f'{NAME}: {folder!r} holds images.npy but not '
                    f'{", ".join(lacking)} (expected {expected}).')
            return folder
        zips = sorted(
            osp.join(source, f) for f in os.listdir(source)
            if f.lower().endswith('.zip'))
    for z in zips:
        member = _zip_holding(z)
        if member is not None:
            raise ConversionError(
                f'{NAME}: the CoNIC files are inside the zip file {z!r} '
                f'({member}); extract it first: the arrays are memory-mapped, '
                'which needs plain files.')
    raise ConversionError(
        f'{NAME}: no CoNIC data in {source!r}: expected {expected} in it or '
        'in one of its sub-folders.')


def _csv_rows(path: str) -> List[List[str]]:
    try:
        with open(path, newline='', encoding='utf-8-sig') as f:
            return [row for row in csv.reader(f) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ConversionError(f'{NAME}: cannot read {path!r}: {e}') from None


def read_patch_info(path: str) -> List[str]:
    """Patch names from ``patch_info.csv`` (header ``patch_info``)."""
    rows = _csv_rows(path)
    if not rows or [c.strip() for c in rows[0]] != ['patch_info']:
        raise ConversionError(
            f'{NAME}: {path!r} must start with the header row "patch_info", '
            f'got {rows[0] if rows else "an empty file"!r}.')
    names, problems = [], []
    for line, row in enumerate(rows[1:], start=2):
        name = row[0].strip()
        if len(row) != 1 or not _NAME_RE.match(name):
            problems.append(f'line {line}: {",".join(row)!r}')
        names.append(name)
    if problems:
        raise ConversionError(
            f'{NAME}: {path!r}: {len(problems)} row(s) are not one patch '
            'name of the form <source image>-<index> (letters, digits, '
            f'"_", ".", "+", "-"): {format_names(problems)}.')
    seen, dups = set(), set()
    for n in names:
        (dups if n in seen else seen).add(n)
    if dups:
        raise ConversionError(
            f'{NAME}: {path!r}: patch name(s) listed more than once: '
            f'{format_names(dups)}.')
    return names


def read_counts(path: str) -> np.ndarray:
    """``counts.csv`` as an ``N x 6`` int64 array."""
    rows = _csv_rows(path)
    header = [c.strip() for c in rows[0]] if rows else []
    if header != list(COUNT_COLUMNS):
        raise ConversionError(
            f'{NAME}: {path!r} must start with the header row '
            f'"{",".join(COUNT_COLUMNS)}", got {",".join(header)!r}.')
    values, problems = [], []
    for line, row in enumerate(rows[1:], start=2):
        try:
            vals = [int(c) for c in row]
        except ValueError:
            vals = []
        if len(vals) != len(COUNT_COLUMNS) or min(vals) < 0:
            problems.append(f'line {line}: {",".join(row)!r}')
        values.append(vals if len(vals) == len(COUNT_COLUMNS) else [0] * 6)
    if problems:
        raise ConversionError(
            f'{NAME}: {path!r}: {len(problems)} row(s) are not '
            f'{len(COUNT_COLUMNS)} non-negative integers: '
            f'{format_names(problems)}.')
    return np.asarray(values, dtype=np.int64).reshape(-1, len(COUNT_COLUMNS))


def check_arrays(folder: str) -> Tuple[int, int, int]:
    """Check the shapes and dtypes of ``images.npy`` and ``labels.npy``;
    returns ``(N, H, W)``."""
    images_path = osp.join(folder, 'images.npy')
    labels_path = osp.join(folder, 'labels.npy')
    images, labels = load_npy(images_path), load_npy(labels_path)
    if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
        raise ConversionError(
            f'{NAME}: {images_path!r} is {images.dtype} of shape '
            f'{images.shape}; expected uint8 N x H x W x 3.')
    if labels.ndim != 4 or labels.shape[3] != 2 or \
            not np.issubdtype(labels.dtype, np.integer):
        raise ConversionError(
            f'{NAME}: {labels_path!r} is {labels.dtype} of shape '
            f'{labels.shape}; expected an integer N x H x W x 2 array.')
    if images.shape[:3] != labels.shape[:3]:
        raise ConversionError(
            f'{NAME}: {images_path!r} (shape {images.shape}) and '
            f'{labels_path!r} (shape {labels.shape}) do not agree in the '
            'number or size of patches.')
    check_min_side(images.shape[1:3], f'{NAME}: every patch of '
                   f'{images_path!r}')
    return images.shape[:3]


def patch_counts(inst: np.ndarray, cls: np.ndarray,
                 crop: int = COUNT_CROP) -> np.ndarray:
    """Nuclei per class 1..6 as ``counts.csv`` counts them: distinct
    instance ids of each class inside the central ``crop x crop``."""
    h, w = inst.shape
    ch, cw = min(crop, h), min(crop, w)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    i = inst[y0:y0 + ch, x0:x0 + cw].ravel().astype(np.int64)
    c = cls[y0:y0 + ch, x0:x0 + cw].ravel().astype(np.int64)
    keep = (i > 0) & (c > 0)
    pairs = np.unique(np.stack([c[keep], i[keep]], axis=1), axis=0)
    return np.bincount(pairs[:, 0], minlength=NUM_CLASSES)[1:NUM_CLASSES]


@dataclass(frozen=True)
class PatchTask:
    """One patch to convert (picklable for worker processes)."""
    index: int
    name: str
    folder: str
    out_root: str
    size: Optional[Size]
    counts: Optional[Tuple[int, ...]]
    previous: Optional[dict] = None

    @property
    def outputs(self) -> Tuple[str, ...]:
        """The output files, relative to ``out_root``."""
        return tuple(f'{d}/{self.name}.png'
                     for d in ('images', 'masks', 'instances'))


def patch_signature(img: np.ndarray, label: np.ndarray,
                    counts: Optional[Tuple[int, ...]]) -> dict:
    """SHA-1 of one patch's image and labels (with their dtypes and
    shapes), and the counts.csv row it is checked against (None when not
    checked)."""
    digest = hashlib.sha1()
    for arr in (img, label):
        digest.update(f'{arr.dtype.str}{arr.shape}'.encode('ascii'))
        digest.update(np.ascontiguousarray(arr).tobytes())
    return dict(patch_sha1=digest.hexdigest(),
                counts=None if counts is None else list(counts))


def check_patch_labels(task: PatchTask, inst: np.ndarray, cls: np.ndarray,
                       labels_path: str) -> None:
    """Refuse class ids outside 0..6, instance ids outside 0..65535 and
    (unless ``task.counts`` is None) counts that differ from counts.csv."""
    where = f'patch {task.index} ({task.name})'
    if cls.min() < 0 or cls.max() >= NUM_CLASSES:
        bad = np.unique(cls[(cls < 0) | (cls >= NUM_CLASSES)])
        raise ConversionError(
            f'{NAME}: {labels_path!r}, {where}: class channel holds '
            f'value(s) {", ".join(map(str, bad[:8]))}; expected class ids '
            f'0..{NUM_CLASSES - 1}.')
    if inst.min() < 0 or inst.max() > np.iinfo(np.uint16).max:
        raise ConversionError(
            f'{NAME}: {labels_path!r}, {where}: instance ids range '
            f'{inst.min()}..{inst.max()}; expected 0..65535.')
    if task.counts is None:
        return
    found = patch_counts(inst, cls)
    if tuple(int(v) for v in found) != task.counts:
        diff = ', '.join(
            f'{COUNT_COLUMNS[k]} {task.counts[k]} there, {found[k]} in '
            'the labels' for k in range(len(COUNT_COLUMNS))
            if found[k] != task.counts[k])
        raise ConversionError(
            f'{NAME}: counts.csv line {task.index + 2} does not match '
            f'{labels_path!r}, {where} (nuclei per class inside the '
            f'central {COUNT_CROP}x{COUNT_CROP}): {diff}. Pass '
            '--skip-count-check to convert anyway.')


def convert_patch(task: PatchTask) -> TaskResult:
    """Check and write one patch, unless
    :func:`~.records.is_current` says its outputs are already there for this
    very patch; returns ``(name, record, written)``."""
    images_path = osp.join(task.folder, 'images.npy')
    labels_path = osp.join(task.folder, 'labels.npy')
    img = np.array(load_npy(images_path)[task.index])
    label = np.array(load_npy(labels_path)[task.index])
    sources = patch_signature(img, label, task.counts)
    if is_current(task.previous, sources, task.out_root, task.outputs):
        return task.name, task.previous, False
    inst, cls = label[..., 0], label[..., 1]
    check_patch_labels(task, inst, cls, labels_path)
    img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    cls = cls.astype(np.uint8)
    inst = inst.astype(np.uint16)
    if task.size is not None:
        img = resize_image(img, task.size)
        cls = resize_nearest(cls, task.size)
        inst = resize_nearest(inst, task.size)
    outputs = {}
    for rel, arr in zip(task.outputs, (img, cls, inst)):
        outputs[rel] = write_output(
            task.out_root, rel, encode_png(arr, osp.join(task.out_root,
                                                         rel)))
    return task.name, dict(sources=sources, outputs=outputs), True


def read_checked_folder(folder: str) -> Tuple[List[str], np.ndarray,
                                              Tuple[int, int]]:
    """Check the four files of ``folder`` and that they agree in length;
    returns the patch names, the counts.csv rows and the patch size
    ``(H, W)``."""
    n, h, w = check_arrays(folder)
    names = read_patch_info(osp.join(folder, 'patch_info.csv'))
    counts = read_counts(osp.join(folder, 'counts.csv'))
    problems = []
    if len(names) != n:
        problems.append(
            f'{osp.join(folder, "patch_info.csv")} lists {len(names)} '
            f'patch(es) but {osp.join(folder, "images.npy")} holds {n}')
    if len(counts) != n:
        problems.append(
            f'{osp.join(folder, "counts.csv")} has {len(counts)} row(s) but '
            f'{osp.join(folder, "images.npy")} holds {n} patch(es)')
    raise_problems(NAME, problems)
    if n == 0:
        raise ConversionError(f'{NAME}: {folder!r} holds no patch.')
    return names, counts, (h, w)


@fresh_source
def convert(source: str, out: str, *, size=None, folds: int = DEFAULT_FOLDS,
            seed: int = 0, nproc: int = 1, overwrite: bool = False,
            check_counts: bool = True) -> dict:
    """Convert CoNIC from ``source`` into ``out``.

    Args:
        source (str): Folder holding the four CoNIC files (see the module
            docstring).
        out (str): Output folder.
        size (int | tuple[int, int] | None): Resize to (W, H).
        folds (int): k of the grouped k-fold split (0: none).
        seed (int): Seed of the group permutation.
        nproc (int): Worker processes.
        overwrite (bool): Replace a conversion made with other settings.
        check_counts (bool): Check ``counts.csv`` against the labels (not an
            output setting).

    Returns:
        dict: The record written to ``conversion.json``.
    """
    size = check_size(size)
    check_folds(folds, seed)
    check_nproc(nproc)
    folder = locate(source)
    names, counts, (h, w) = read_checked_folder(folder)
    split_files = {'all': sorted(names)}
    if folds:
        try:
            split_files.update(fold_splits(
                grouped_kfold(names, group_of, folds, seed)))
        except ValueError as e:
            raise ConversionError(f'{NAME}: --folds {folds}: {e}') from None
    settings = make_settings(NAME, source,
                             dict(size=size and list(size), folds=folds,
                                  seed=seed), {'all': names})
    output = OutputFolder(out, settings, ('images', 'masks', 'instances'))
    output.prepare(source, overwrite, inputs=[folder])
    tasks = [
        PatchTask(i, name, folder, output.root, size,
                  tuple(int(v) for v in counts[i]) if check_counts else None)
        for i, name in enumerate(names)
    ]
    results = run_conversion(convert_patch, tasks, output, nproc, NAME)
    extra = dict(
        image_suffix='.png',
        mask_suffix='.png',
        instance_suffix='.png',
        classes=list(CLASSES),
        patch_size=[int(w), int(h)],
        inputs={'all': folder})
    return finish_conversion(output, split_files, extra, results, {})
