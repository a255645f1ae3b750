"""PH2 (Mendonca et al., 2013) from the official distribution.

SOURCE is the folder that holds ``PH2Dataset/`` (or ``PH2Dataset.zip``, read
in place), the ``PH2Dataset`` folder itself, or the zip file itself::

    PH2Dataset/PH2 Dataset images/IMD002/IMD002_Dermoscopic_Image/IMD002.bmp
    PH2Dataset/PH2 Dataset images/IMD002/IMD002_lesion/IMD002_lesion.bmp
    PH2Dataset/PH2 Dataset images/IMD002/IMD002_roi/...   (not needed)

200 cases of varying size. Lesion masks are 0/255 BMPs, some stored with 3
channels (they must be equal). The ``_roi`` colour-class masks are ignored;
any other file under ``PH2 Dataset images`` is an error listing it. PH2 is
also distributed as a .rar archive, which is not read: extract it first.

Output: ``images/IMDxxx.png`` (the BMP, lossless), ``masks/IMDxxx.png``
(0/1), ``splits/all.txt`` (all cases: the external test set of models
trained on ISIC) and, with ``folds``, ``splits/fold{i}_train.txt`` /
``fold{i}_val.txt`` (:func:`sgdc_mmseg.datasets.splits.kfold`).
"""
import os
import os.path as osp
import re
import zipfile
from typing import Dict, List

from ..splits import fold_splits, kfold
from ..utils import format_names
from .checks import ConversionError, check_folds, check_size, raise_problems
from .pairs import convert_pairs
from .sources import (FileRef, SourceFolder, fresh_source, list_dir_files,
                      pair_by_name, zip_folder)

NAME = 'ph2'
ROOT_FOLDER = 'PH2Dataset'
IMAGES_FOLDER = 'PH2 Dataset images'
ZIP_NAME = 'PH2Dataset.zip'

_IMAGE_RE = re.compile(r'^([^/]+)/\1_Dermoscopic_Image/\1\.bmp$')
_MASK_RE = re.compile(r'^([^/]+)/\1_lesion/\1_lesion\.bmp$')
_ROI_RE = re.compile(r'^([^/]+)/\1_roi/[^/]+$')


def _rar_error(path: str) -> ConversionError:
    return ConversionError(
        f'{NAME}: {path!r} is a .rar archive, which is not read; extract it '
        f'(e.g. `unrar x {osp.basename(path)}` or 7-Zip) and pass the folder '
        f'that holds the extracted {ROOT_FOLDER}/ as SOURCE.')


def locate(source: str) -> SourceFolder:
    """Find the ``PH2 Dataset images`` folder in SOURCE (see the module
    docstring for what SOURCE may be)."""
    expected = (f'{ROOT_FOLDER}/{IMAGES_FOLDER}/ or {ZIP_NAME} (holding '
                f'{ROOT_FOLDER}/{IMAGES_FOLDER}/)')
    if osp.isfile(source):
        if source.lower().endswith('.rar'):
            raise _rar_error(source)
        if zipfile.is_zipfile(source):
            return zip_folder(source, IMAGES_FOLDER, max_depth=2,
                              allow_flat=False)
        raise ConversionError(
            f'{NAME}: SOURCE {source!r} is a file but not a zip file; give '
            f'the folder that holds {expected}.')
    if not osp.isdir(source):
        raise ConversionError(f'{NAME}: SOURCE {source!r} does not exist.')
    for parts in ((ROOT_FOLDER, IMAGES_FOLDER), (IMAGES_FOLDER,),
                  (ROOT_FOLDER, ROOT_FOLDER, IMAGES_FOLDER)):
        path = osp.join(source, *parts)
        if osp.isdir(path):
            return SourceFolder(IMAGES_FOLDER, path, list_dir_files(path))
    zip_path = osp.join(source, ZIP_NAME)
    if osp.isfile(zip_path):
        return zip_folder(zip_path, IMAGES_FOLDER, max_depth=2,
                          allow_flat=False)
    rars = sorted(fn for fn in os.listdir(source)
                  if fn.lower().endswith('.rar'))
    if rars:
        raise _rar_error(osp.join(source, rars[0]))
    raise ConversionError(
        f'{NAME}: found neither {expected} in {source!r}.')


def collect(source: str):
    """List and pair the cases; returns ``(pairs, location)``.

    Raises:
        ConversionError: Listing every unexpected file and unpaired image or
            mask, or when no case is found.
    """
    folder = locate(source)
    images: Dict[str, FileRef] = {}
    masks: Dict[str, FileRef] = {}
    unexpected: List[str] = []
    for rel, ref in folder.files.items():
        m = _IMAGE_RE.match(rel)
        if m:
            images[m.group(1)] = ref
            continue
        m = _MASK_RE.match(rel)
        if m:
            masks[m.group(1)] = ref
            continue
        if not _ROI_RE.match(rel):
            unexpected.append(rel)
    problems = []
    if unexpected:
        problems.append(
            f'{folder.location}: {len(unexpected)} unexpected file(s) '
            '(expected only <case>/<case>_Dermoscopic_Image/<case>.bmp, '
            '<case>/<case>_lesion/<case>_lesion.bmp and <case>/<case>_roi/*): '
            f'{format_names(unexpected)}')
    pairs, pair_problems = pair_by_name(
        images, masks, split='all', image_where=folder.location,
        mask_where=folder.location)
    problems.extend(pair_problems)
    if not pairs and not problems:
        problems.append(f'{folder.location} holds no case')
    raise_problems(NAME, problems)
    return pairs, folder.location


@fresh_source
def convert(source: str, out: str, *, size=None, folds: int = 0,
            seed: int = 0, nproc: int = 1, overwrite: bool = False) -> dict:
    """Convert PH2 from ``source`` into ``out``.

    Args:
        source (str): See the module docstring.
        out (str): Output folder.
        size (int | tuple[int, int] | None): Resize to (W, H).
        folds (int): k of an optional k-fold split of all cases (0: none).
        seed (int): Seed of the k-fold permutation.
        nproc (int): Worker processes.
        overwrite (bool): Replace a conversion made with other settings.

    Returns:
        dict: The record written to ``conversion.json``.
    """
    size = check_size(size)
    check_folds(folds, seed)
    pairs, location = collect(source)
    split_files = {'all': [n for n, *_ in pairs]}
    if folds:
        try:
            split_files.update(fold_splits(kfold(split_files['all'], folds,
                                                 seed)))
        except ValueError as e:
            raise ConversionError(f'{NAME}: --folds {folds}: {e}') from None
    return convert_pairs(
        converter=NAME, source=source, out=out, samples={'all': pairs},
        split_files=split_files,
        options=dict(size=size and list(size), folds=folds, seed=seed),
        inputs={'all': dict(images=location, masks=location)},
        missing_splits={}, is_jpeg=False, size=size, nproc=nproc,
        overwrite=overwrite)
