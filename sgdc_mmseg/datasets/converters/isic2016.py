"""ISIC 2016 Task 1 (lesion segmentation) from the official archives.

SOURCE holds the official zip files or their extracted folders (both work;
zips are read in place)::

    ISBI2016_ISIC_Part1_Training_Data[.zip]/ISIC_0000000.jpg        (900)
    ISBI2016_ISIC_Part1_Training_GroundTruth[.zip]/
        ISIC_0000000_Segmentation.png                               (0/255)
    ISBI2016_ISIC_Part1_Test_Data[.zip]/ISIC_0000003.jpg            (379)
    ISBI2016_ISIC_Part1_Test_GroundTruth[.zip]/
        ISIC_0000003_Segmentation.png

Output (see ``docs/converters.md``): ``images/<id>.jpg`` (copied byte for
byte), ``masks/<id>.png`` (0/255 -> 0/1), ``splits/train.txt`` (official
training set) and ``splits/test.txt`` (official test set), and
``conversion.json``.

The generic ISIC Task 1 logic here (:class:`IsicLayout`, :func:`collect`)
is shared with :mod:`.isic2018`.
"""
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Tuple

from ..utils import format_names
from .checks import ConversionError, check_size, raise_problems
from .pairs import convert_pairs
from .sources import (FileRef, SourceFolder, fresh_source, locate_folder,
                      pair_by_name)

NAME = 'isic2016'

_IMAGE_RE = re.compile(r'^([^/]+)\.jpg$')


@dataclass(frozen=True)
class IsicSplit:
    """One official split: its name and its image / ground-truth folders."""
    split: str
    images: str
    masks: str


@dataclass(frozen=True)
class IsicLayout:
    """An ISIC Task 1 release: its splits, the mask file suffix and the
    non-image files it is known to ship (ignored)."""
    converter: str
    splits: Tuple[IsicSplit, ...]
    mask_suffix: str
    ignored: FrozenSet[str] = field(default_factory=frozenset)


LAYOUT = IsicLayout(
    converter=NAME,
    splits=(
        IsicSplit('train', 'ISBI2016_ISIC_Part1_Training_Data',
                  'ISBI2016_ISIC_Part1_Training_GroundTruth'),
        IsicSplit('test', 'ISBI2016_ISIC_Part1_Test_Data',
                  'ISBI2016_ISIC_Part1_Test_GroundTruth'),
    ),
    mask_suffix='_Segmentation.png')


def _names(folder: SourceFolder, pattern: 're.Pattern', ignored,
           expected: str, problems: List[str]) -> Dict[str, FileRef]:
    found, unexpected = {}, []
    for rel, ref in folder.files.items():
        if rel in ignored:
            continue
        m = pattern.match(rel)
        if m:
            found[m.group(1)] = ref
        else:
            unexpected.append(rel)
    if unexpected:
        problems.append(
            f'{folder.location}: {len(unexpected)} unexpected file(s) '
            f'(expected only {expected}): {format_names(unexpected)}')
    return found


def collect(layout: IsicLayout, source: str):
    """Find, list and pair the official folders in ``source``.

    Returns:
        tuple: ``samples`` (``{split: [(name, image, mask), ...]}`` for the
        splits present), ``inputs`` (``{split: {'images': location,
        'masks': location}}``) and ``missing`` (``{split: reason}``).

    Raises:
        ConversionError: If SOURCE is not a folder, no split is present,
            only one folder of a split is present, a folder holds an
            unexpected file, or images and masks do not pair up; the message
            lists every such problem and the files concerned.
    """
    conv = layout.converter
    if not osp.isdir(source):
        raise ConversionError(
            f'{conv}: SOURCE {source!r} is not a folder; give the folder '
            'that holds the official zip files or their extracted folders.')
    mask_re = re.compile(r'^([^/]+)' + re.escape(layout.mask_suffix) + '$')
    samples, inputs, missing, problems = {}, {}, {}, []
    for spec in layout.splits:
        img_dir = locate_folder(source, spec.images)
        mask_dir = locate_folder(source, spec.masks)
        if img_dir is None and mask_dir is None:
            missing[spec.split] = (
                f'neither {spec.images}[.zip] nor {spec.masks}[.zip] in '
                f'{source}')
            continue
        if img_dir is None or mask_dir is None:
            have, lack = ((mask_dir, spec.images) if img_dir is None else
                          (img_dir, spec.masks))
            problems.append(
                f'{spec.split} split: found {have.location} but not {lack} '
                f'(folder or {lack}.zip) in {source}')
            continue
        images = _names(img_dir, _IMAGE_RE, layout.ignored,
                        '<id>.jpg images', problems)
        masks = _names(mask_dir, mask_re, layout.ignored,
                       f'<id>{layout.mask_suffix} masks', problems)
        pairs, pair_problems = pair_by_name(
            images, masks, split=spec.split, image_where=img_dir.location,
            mask_where=mask_dir.location)
        problems.extend(pair_problems)
        if not pairs and not pair_problems:
            problems.append(
                f'{spec.split} split: {img_dir.location} and '
                f'{mask_dir.location} hold no image/mask pair')
        samples[spec.split] = pairs
        inputs[spec.split] = dict(images=img_dir.location,
                                  masks=mask_dir.location)
    if len(missing) == len(layout.splits):
        expected = '; '.join(
            f'{s.split}: {s.images}[.zip] + {s.masks}[.zip]'
            for s in layout.splits)
        raise ConversionError(
            f'{conv}: no official folder or zip file found in {source!r}; '
            f'expected (folder or zip of the same name) {expected}.')
    raise_problems(conv, problems)
    return samples, inputs, missing


@fresh_source
def convert(source: str, out: str, *, size=None, nproc: int = 1,
            overwrite: bool = False) -> dict:
    """Convert ISIC 2016 Task 1 from ``source`` into ``out``.

    Args:
        source (str): Folder with the official zips or extracted folders.
        out (str): Output folder.
        size (int | tuple[int, int] | None): Resize to (W, H); images are
            then written as .png.
        nproc (int): Worker processes.
        overwrite (bool): Replace a conversion made with other settings.

    Returns:
        dict: The record written to ``conversion.json``.
    """
    size = check_size(size)
    samples, inputs, missing = collect(LAYOUT, source)
    split_files = {k: sorted(n for n, *_ in v) for k, v in samples.items()}
    return convert_pairs(
        converter=NAME, source=source, out=out, samples=samples,
        split_files=split_files, options=dict(size=size and list(size)),
        inputs=inputs, missing_splits=missing, is_jpeg=True, size=size,
        nproc=nproc, overwrite=overwrite)
