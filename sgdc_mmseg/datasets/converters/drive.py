"""DRIVE (retinal vessels; Staal et al., 2004) from the official download.

SOURCE is any of (zip files are read in place, never extracted):

* the zip file ``DRIVE.zip`` itself, or a folder holding ``DRIVE.zip``,
  ``training.zip`` and/or ``test.zip``;
* a folder holding the extracted ``DRIVE/`` (or ``DRIVE/DRIVE/``), the
  ``DRIVE`` folder itself (holding ``training/`` and/or ``test/``), or one
  split folder itself (``DRIVE/training`` or ``DRIVE/test``).

Inside a zip the split folders may lie at the top level or up to two levels
down (``DRIVE/training/...``). A split found both extracted and in a zip is
read from the extracted folder (as for the other converters); a split found
in two zips, or twice on disk, is an error. Each split folder holds::

    training/images/NN_training.tif        RGB fundus image (565x584)
    training/1st_manual/NN_manual1.gif     vessels 255, background 0
    training/mask/NN_training_mask.gif     field of view 255, outside 0
    test/images/NN_test.tif
    test/1st_manual/NN_manual1.gif         (the ground truth)
    test/2nd_manual/NN_manual2.gif         a second observer (optional)
    test/mask/NN_test_mask.gif

Files are paired by their number ``NN``; any other file in a split folder,
an image without its manual annotation or field-of-view mask (or the
reverse) is an error listing the files. The GIF masks are decoded with
Pillow (one frame; grey, palette or bilevel; every colour grey) and must
hold only 0 and 255. A split folder without any ``1st_manual/`` file (the
test split of downloads that withhold its ground truth) is not converted:
it is named, with the reason, in the printed summary and in
``conversion.json`` (``missing_splits``); the other split still is.

Output (see ``docs/converters.md``), ``<stem>`` being the source image stem
(``21_training``, ``01_test``)::

    images/<stem>.png      the TIFF, lossless (BGR PNG as OpenCV writes it)
    masks/<stem>.png       uint8: 0 background, 1 vessel (1st_manual),
                           255 outside the field of view (ignored)
    fov/<stem>.png         uint8: 1 inside the field of view, 0 outside
    masks_2nd/<stem>.png   the 2nd_manual of the test split, coded as masks/
                           (only when a 2nd_manual/ folder is present)
    splits/train.txt       official training split      (when present)
    splits/test.txt        official test split          (when present)
    splits/fold{i}_{train,val}.txt   k-fold of the training images
    conversion.json        written last

Vessel pixels of the manual annotation that lie outside the field of view
become 255 like every pixel there; how many there were is recorded per
image (``vessel_pixels_outside_fov`` in ``conversion.json``; the official
training annotations have 0 to 77 such pixels per image).
"""
import io
import os.path as osp
import re
import zipfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..image_header import read_image_header
from ..splits import fold_splits, kfold
from ..utils import format_names
from .checks import (ConversionError, Size, check_folds, check_min_side,
                     check_nproc, check_size, raise_problems)
from .images import (check_decodes, decode_color, encode_png, resize_image,
                     resize_nearest)
from .output import OutputFolder, write_output
from .records import is_current, make_settings
from .runner import TaskResult, finish_conversion, run_conversion
from .sources import (FileRef, SourceFolder, check_unique_across_splits,
                      fresh_source, list_dir_files, open_zip, pair_by_name)

NAME = 'drive'
DEFAULT_FOLDS = 5
#: Official split folder -> split file name.
SPLITS = {'training': 'train', 'test': 'test'}
ROOT_FOLDER = 'DRIVE'
#: The zip files looked for in a SOURCE folder.
ZIP_NAMES = ('DRIVE.zip', 'training.zip', 'test.zip')
#: Value of the masks outside the field of view (mmseg's ignore_index).
IGNORE = 255
#: How deep a split folder may lie inside a zip (``DRIVE/training``: 1).
MAX_ZIP_DEPTH = 2
MASK_VALUES = {'0': 'background', '1': 'vessel',
               str(IGNORE): 'outside the field of view (ignored)'}
FOV_VALUES = {'0': 'outside the field of view',
              '1': 'inside the field of view'}


def _patterns(split: str) -> Dict[str, 're.Pattern']:
    """The official file names of one split folder, keyed by role."""
    return {
        'image': re.compile(rf'^images/([0-9]+)_{split}\.tiff?$', re.I),
        'manual': re.compile(r'^1st_manual/([0-9]+)_manual1\.gif$', re.I),
        'manual2': re.compile(r'^2nd_manual/([0-9]+)_manual2\.gif$', re.I),
        'fov': re.compile(rf'^mask/([0-9]+)_{split}_mask\.gif$', re.I),
    }


# ---------------------------------------------------------------------------
# finding the split folders
# ---------------------------------------------------------------------------
def _zip_splits(zip_path: str) -> Dict[str, SourceFolder]:
    """The split folders inside a zip: a member ``<prefix><split>/<sub>/<f>``
    with at most :data:`MAX_ZIP_DEPTH` folders in ``<prefix>``."""
    names = [i.filename for i in open_zip(zip_path).infolist()
             if not i.is_dir() and not i.filename.startswith('__MACOSX/')]
    prefixes: Dict[str, set] = {}
    for name in names:
        parts = name.split('/')
        for d in range(min(MAX_ZIP_DEPTH, len(parts) - 3) + 1):
            if parts[d] in SPLITS:
                prefixes.setdefault(parts[d], set()).add(
                    '/'.join(parts[:d + 1]) + '/')
                break
    found = {}
    for split, found_prefixes in prefixes.items():
        if len(found_prefixes) > 1:
            raise ConversionError(
                f'{NAME}: zip file {zip_path!r} holds the {split!r} folder '
                f'more than once ({format_names(found_prefixes)}); keep only '
                'one.')
        prefix = found_prefixes.pop()
        files = {n[len(prefix):]: FileRef(zip_path, n) for n in names
                 if n.startswith(prefix)}
        found[split] = SourceFolder(split, f'{zip_path}:{prefix}', files)
    return found


def _dir_splits(source: str) -> Dict[str, SourceFolder]:
    """The extracted split folders of a SOURCE folder."""
    base = osp.basename(osp.normpath(source))
    if base in SPLITS and osp.isdir(osp.join(source, 'images')):
        return {base: SourceFolder(base, source, list_dir_files(source))}
    found: Dict[str, List[str]] = {}
    for parts in ((), (ROOT_FOLDER, ), (ROOT_FOLDER, ROOT_FOLDER)):
        for split in SPLITS:
            path = osp.join(source, *parts, split)
            if osp.isdir(path):
                found.setdefault(split, []).append(path)
    twice = {s: p for s, p in found.items() if len(p) > 1}
    if twice:
        raise ConversionError(
            f'{NAME}: SOURCE {source!r} holds a split folder more than once ('
            + '; '.join(f'{s}: {" and ".join(p)}' for s, p in twice.items())
            + '); keep only one.')
    return {s: SourceFolder(s, p[0], list_dir_files(p[0]))
            for s, p in found.items()}


def locate(source: str) -> Dict[str, SourceFolder]:
    """Find the official split folders in SOURCE (see the module
    docstring); returns ``{split folder name: SourceFolder}``.

    Raises:
        ConversionError: If SOURCE does not exist, is a file but no zip,
            holds no split folder, or holds one split twice.
    """
    expected = ('DRIVE.zip, training.zip, test.zip, or the extracted '
                'DRIVE/training/ and DRIVE/test/ folders')
    if osp.isfile(source):
        if not zipfile.is_zipfile(source):
            raise ConversionError(
                f'{NAME}: SOURCE {source!r} is a file but not a zip file; '
                f'give DRIVE.zip or the folder that holds {expected}.')
        found = _zip_splits(source)
    elif not osp.isdir(source):
        raise ConversionError(f'{NAME}: SOURCE {source!r} does not exist.')
    else:
        found = _dir_splits(source)
        from_zips: Dict[str, List[SourceFolder]] = {}
        for zip_name in ZIP_NAMES:
            path = osp.join(source, zip_name)
            if osp.isfile(path):
                for split, folder in _zip_splits(path).items():
                    from_zips.setdefault(split, []).append(folder)
        for split, folders in from_zips.items():
            if split in found:  # the extracted folder wins
                continue
            if len(folders) > 1:
                raise ConversionError(
                    f'{NAME}: the {split!r} split is in more than one zip '
                    'file ('
                    + ', '.join(f.location for f in folders)
                    + '); keep only one.')
            found[split] = folders[0]
    if not found:
        raise ConversionError(
            f'{NAME}: no DRIVE split folder (training/ or test/ holding '
            f'images/, 1st_manual/, mask/) found in {source!r}; expected '
            f'{expected}.')
    return {s: found[s] for s in SPLITS if s in found}


def _where(folder: SourceFolder, sub: str) -> str:
    loc = folder.location
    return loc + sub if loc.endswith('/') else osp.join(loc, sub)


Sample = Tuple[str, FileRef, FileRef, FileRef, Optional[FileRef]]


def _split_samples(folder: SourceFolder,
                   problems: List[str]) -> Optional[List[Sample]]:
    """List and pair the files of one split folder; returns ``[(stem,
    image, manual, fov, manual2 or None), ...]`` sorted by stem, or None
    when the folder holds no ``1st_manual`` file (the split is skipped).
    Problems are appended to ``problems``."""
    split = folder.name
    patterns = _patterns(split)
    found: Dict[str, Dict[str, FileRef]] = {k: {} for k in patterns}
    unexpected = []
    for rel, ref in folder.files.items():
        for role, pattern in patterns.items():
            m = pattern.match(rel)
            if m:
                found[role][m.group(1)] = ref
                break
        else:
            unexpected.append(rel)
    if unexpected:
        problems.append(
            f'{folder.location}: {len(unexpected)} unexpected file(s) '
            f'(expected only images/NN_{split}.tif, '
            '1st_manual/NN_manual1.gif, 2nd_manual/NN_manual2.gif and '
            f'mask/NN_{split}_mask.gif): {format_names(unexpected)}')
    if not found['manual'] and not found['manual2'] and not unexpected:
        return None
    images = found['image']
    if not images:
        problems.append(f'{_where(folder, "images")} holds no image')
        return []
    paired = {}
    for role, sub in (('manual', '1st_manual'), ('fov', 'mask'),
                      ('manual2', '2nd_manual')):
        if role == 'manual2' and not found[role]:
            continue
        pairs, pair_problems = pair_by_name(
            images, found[role], split=split,
            image_where=_where(folder, 'images'),
            mask_where=_where(folder, sub))
        problems.extend(pair_problems)
        paired[role] = {n: m for n, _, m in pairs}
    samples = []
    for num in sorted(images):
        if num in paired['manual'] and num in paired['fov']:
            stem = osp.splitext(osp.basename(
                images[num].member or images[num].path))[0]
            samples.append((stem, images[num], paired['manual'][num],
                            paired['fov'][num],
                            paired.get('manual2', {}).get(num)))
    return samples


def collect(source: str):
    """Find, list and pair the split folders of SOURCE.

    Returns:
        tuple: ``samples`` (``{split file name: [Sample, ...]}``),
        ``inputs`` (``{split file name: location}``) and ``missing``
        (``{split file name: reason}``).
    """
    folders = locate(source)
    samples, inputs, missing, problems = {}, {}, {}, []
    for split, key in SPLITS.items():
        folder = folders.get(split)
        if folder is None:
            missing[key] = f'no {split}/ folder in {source}'
            continue
        found = _split_samples(folder, problems)
        if found is None:
            missing[key] = (
                f'{folder.location} holds no 1st_manual/ annotation (the '
                'ground truth), so it cannot be scored; some downloads '
                'withhold it for the test split')
            continue
        samples[key] = found
        inputs[key] = folder.location
    problems.extend(check_unique_across_splits(samples))
    raise_problems(NAME, problems)
    if not samples:
        raise ConversionError(
            f'{NAME}: nothing to convert in {source!r}: '
            + '; '.join(f'{k}: {v}' for k, v in missing.items()) + '.')
    return samples, inputs, missing


# ---------------------------------------------------------------------------
# one sample
# ---------------------------------------------------------------------------
def decode_grey(data: bytes, where: str, what: str) -> np.ndarray:
    """Decode a GIF (or any single-frame image Pillow reads) whose colours
    are all grey into a 2-D uint8 array."""
    from PIL import Image
    check_decodes(data, where, what)
    with Image.open(io.BytesIO(data)) as im:
        frames = getattr(im, 'n_frames', 1)
        if frames != 1:
            raise ConversionError(
                f'{what} {where} has {frames} frames; expected one.')
        if im.mode not in ('1', 'L', 'P', 'RGB'):
            raise ConversionError(
                f'{what} {where} is a Pillow {im.mode!r} image; expected an '
                '8-bit grey (or grey palette) image.')
        rgb = np.asarray(im.convert('RGB'))
    if not ((rgb[..., 0] == rgb[..., 1]).all()
            and (rgb[..., 0] == rgb[..., 2]).all()):
        raise ConversionError(
            f'{what} {where} holds colours that are not grey; expected a '
            'grey image of 0 and 255.')
    check_min_side(rgb.shape, f'{what} {where}')
    return np.ascontiguousarray(rgb[..., 0])


def binary(mask: np.ndarray, where: str, what: str) -> np.ndarray:
    """Map a 0/255 mask to 0/1 (uint8); any other value is an error naming
    the file and the values."""
    bad = (mask != 0) & (mask != 255)
    if bad.any():
        values = np.unique(mask[bad])
        shown = ', '.join(str(v) for v in values[:8])
        raise ConversionError(
            f'{what} {where} holds value(s) {shown}'
            f'{" ..." if len(values) > 8 else ""} in {int(bad.sum())} '
            'pixel(s); expected only 0 and 255.')
    return (mask == 255).astype(np.uint8)


def label_map(vessels: np.ndarray, fov: np.ndarray) -> np.ndarray:
    """The converted mask: the 0/1 ``vessels`` inside the 0/1 ``fov``,
    :data:`IGNORE` outside."""
    out = vessels.astype(np.uint8).copy()
    out[fov == 0] = IGNORE
    return out


@dataclass(frozen=True)
class DriveTask:
    """One DRIVE image to convert (picklable for worker processes)."""
    name: str
    image: FileRef
    manual: FileRef
    fov: FileRef
    manual2: Optional[FileRef]
    out_root: str
    size: Optional[Size]
    previous: Optional[dict] = None

    @property
    def outputs(self) -> Tuple[str, ...]:
        """The output files, relative to ``out_root``."""
        dirs = ('images', 'masks', 'fov') + (
            ('masks_2nd', ) if self.manual2 is not None else ())
        return tuple(f'{d}/{self.name}.png' for d in dirs)


def convert_sample(task: DriveTask) -> TaskResult:
    """Check and write one image, its mask(s) and its field of view, unless
    :func:`~.records.is_current` says they are already there for these very
    source files; returns ``(name, record, written)``."""
    refs = dict(image=task.image, manual=task.manual, fov=task.fov)
    if task.manual2 is not None:
        refs['manual2'] = task.manual2
    sources = {k: ref.signature() for k, ref in refs.items()}
    if is_current(task.previous, sources, task.out_root, task.outputs):
        return task.name, task.previous, False
    image_where = str(task.image)
    data = task.image.read_bytes()
    try:
        header = read_image_header(data, image_where)
    except OSError as e:
        raise ConversionError(f'cannot read the image {image_where}: '
                              f'{e}') from None
    if header.bits != 8:
        raise ConversionError(
            f'image {image_where} has {header.bits} bits per sample (Pillow '
            f'mode {header.mode}); expected an 8-bit RGB image.')
    img = decode_color(data, image_where)
    h, w = img.shape[:2]
    check_min_side((h, w), f'image {image_where}')
    maps = {}
    for role, what in (('manual', 'vessel annotation'),
                       ('fov', 'field-of-view mask'),
                       ('manual2', 'vessel annotation')):
        if role not in refs:
            continue
        where = str(refs[role])
        arr = binary(decode_grey(refs[role].read_bytes(), where, what),
                     where, what)
        if arr.shape != (h, w):
            raise ConversionError(
                f'image {image_where} is {w}x{h} (WxH) but its {what} '
                f'{where} is {arr.shape[1]}x{arr.shape[0]}.')
        maps[role] = arr
    fov = maps['fov']
    arrays = [img, label_map(maps['manual'], fov), fov]
    if 'manual2' in maps:
        arrays.append(label_map(maps['manual2'], fov))
    extra = {'vessel_pixels_outside_fov': int(
        (maps['manual'].astype(bool) & (fov == 0)).sum())}
    if task.size is not None:
        arrays = [resize_image(arrays[0], task.size)] + [
            resize_nearest(a, task.size) for a in arrays[1:]]
    outputs = {}
    for rel, arr in zip(task.outputs, arrays):
        outputs[rel] = write_output(
            task.out_root, rel, encode_png(arr, osp.join(task.out_root,
                                                         rel)))
    record = dict(sources=sources, outputs=outputs)
    record.update(extra)
    return task.name, record, True


# ---------------------------------------------------------------------------
# the conversion
# ---------------------------------------------------------------------------
@fresh_source
def convert(source: str, out: str, *, size=None, folds: int = DEFAULT_FOLDS,
            seed: int = 0, nproc: int = 1, overwrite: bool = False) -> dict:
    """Convert DRIVE from ``source`` into ``out``.

    Args:
        source (str): See the module docstring.
        out (str): Output folder.
        size (int | tuple[int, int] | None): Resize to (W, H): the image
            with area averaging (bilinear when enlarging), the masks and the
            field of view nearest. Default: the original 565x584.
        folds (int): k of the k-fold split of the training images (0:
            none); written only when the training split is converted.
        seed (int): Seed of the k-fold permutation.
        nproc (int): Worker processes.
        overwrite (bool): Replace a conversion made with other settings.

    Returns:
        dict: The record written to ``conversion.json``.
    """
    size = check_size(size)
    check_folds(folds, seed)
    check_nproc(nproc)
    samples, inputs, missing = collect(source)
    split_files = {k: sorted(s[0] for s in v) for k, v in samples.items()}
    second = sorted(s[0] for v in samples.values() for s in v
                    if s[4] is not None)
    if folds and 'train' in split_files:
        try:
            split_files.update(fold_splits(kfold(split_files['train'], folds,
                                                 seed)))
        except ValueError as e:
            raise ConversionError(f'{NAME}: --folds {folds}: {e}') from None
    names = {k: split_files[k] for k in SPLITS.values() if k in split_files}
    if second:
        names['masks_2nd'] = second
    settings = make_settings(NAME, source, dict(size=size and list(size),
                                                folds=folds, seed=seed),
                             names)
    data_dirs = ('images', 'masks', 'fov') + (('masks_2nd', )
                                              if second else ())
    output = OutputFolder(out, settings, data_dirs)
    output.prepare(source, overwrite,
                   inputs={ref.root for v in samples.values() for s in v
                           for ref in s[1:] if ref is not None})
    tasks = [DriveTask(s[0], s[1], s[2], s[3], s[4], output.root, size)
             for v in samples.values() for s in v]
    results = run_conversion(convert_sample, tasks, output, nproc, NAME)
    outside = {name: rec['vessel_pixels_outside_fov']
               for name, rec, _ in results
               if rec.get('vessel_pixels_outside_fov')}
    extra = dict(
        image_suffix='.png',
        mask_suffix='.png',
        mask_values=MASK_VALUES,
        fov_values=FOV_VALUES,
        second_observer=second,
        vessel_pixels_outside_fov=outside,
        inputs=inputs)
    return finish_conversion(output, split_files, extra, results, missing)
