"""MoNuSeg 2018 (nuclei in H&E tiles of 1000x1000) from the official
downloads or from a folder of tiles + binary masks.

SOURCE holds any of these (each as the extracted folder or, for the two
official ones, the zip file of that name, read in place; SOURCE may also be
the official folder or zip itself)::

    MoNuSeg 2018 Training Data[.zip]/          official training set (30)
        Tissue Images/<TCGA id>.tif
        Annotations/<TCGA id>.xml              Aperio ImageScope XML
    MoNuSegTestData[.zip]/                     official test set (14)
        <TCGA id>.tif  <TCGA id>.xml
    tissue_images/<id>.tif                     a tile folder (training set)
    masks/<id>.png                             binary 0/255 (grey, grey +
                                               alpha, or 3 equal channels)
    annotations/<id>.xml                       optional, for any subset

Each split found is converted: ``train`` (the official training folder or
the tile folder; both at once is an error) and ``test``.

The binary mask and the instances of a tile come from its XML when there is
one (every ``<Region>`` filled, boundary pixels included, as
:meth:`PIL.ImageDraw.ImageDraw.polygon` fills it; the rules for clipping,
empty regions and overlaps are those of :mod:`.aperio`), else from its
given mask (then no instance map is written: touching nuclei are merged in
a binary mask). ``conversion.json`` says which, per sample
(``mask_from``: ``xml`` or ``mask``), with what :mod:`.aperio` reported; a
tile with both also records ``given_mask_differs_px``, the number of pixels
where the given mask disagrees with the filled XML.

Output: ``images/<id>.png`` (RGB, lossless), ``masks/<id>.png`` (0/1),
``instances/<id>.png`` (uint16 instance ids, 0 = background; XML only),
``splits/train.txt``, ``splits/test.txt`` (the splits found) and the k-fold
files ``splits/fold{i}_train.txt`` / ``fold{i}_val.txt`` over the training
tiles (:func:`sgdc_mmseg.datasets.splits.kfold`).
"""
import io
import os
import os.path as osp
import re
import zipfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..splits import fold_splits, kfold
from ..utils import format_names
from .aperio import parse_regions, rasterize
from .checks import (ConversionError, Size, check_folds, check_min_side,
                     check_nproc, check_size, raise_problems)
from .images import binary_mask, check_decodes, decode_mask, encode_png
from .images import resize_image, resize_nearest
from .output import OutputFolder, write_output
from .records import is_current, make_settings
from .runner import TaskResult, finish_conversion, run_conversion
from .sources import (FileRef, SourceFolder, check_unique_across_splits,
                      fresh_source, list_dir_files, zip_folder)

NAME = 'monuseg'
DEFAULT_FOLDS = 5
TRAIN_FOLDER = 'MoNuSeg 2018 Training Data'
TRAIN_IMAGES = 'Tissue Images'
TRAIN_XML = 'Annotations'
TEST_FOLDER = 'MoNuSegTestData'
TILE_IMAGES, TILE_MASKS, TILE_XML = 'tissue_images', 'masks', 'annotations'
CLASSES = ('background', 'nucleus')
DATA_DIRS = ('images', 'masks', 'instances')

_TIF = r'([^/]+)\.(?:tif|tiff|TIF|TIFF)'
_XML = r'([^/]+)\.(?:xml|XML)'


@dataclass(frozen=True)
class Sample:
    """One tile: its image and, where present, its XML and given mask."""
    name: str
    image: FileRef
    xml: Optional[FileRef]
    mask: Optional[FileRef]


@dataclass
class SplitSource:
    """The samples of one split and where they were read from."""
    split: str
    layout: str
    location: str
    samples: List[Sample]


# --------------------------------------------------------------------------
# Finding SOURCE's splits
# --------------------------------------------------------------------------
def _match(files: Dict[str, FileRef], patterns: Dict[str, str],
           expected: str, location: str,
           problems: List[str]) -> Dict[str, Dict[str, FileRef]]:
    """Sort ``files`` into ``{kind: {name: ref}}`` by the regular
    expressions ``patterns`` (``kind -> pattern`` with one group, the name);
    any other file is a problem (``expected`` says what is expected)."""
    found: Dict[str, Dict[str, FileRef]] = {k: {} for k in patterns}
    unexpected, twice = [], []
    for rel, ref in files.items():
        for kind, pattern in patterns.items():
            m = re.fullmatch(pattern, rel)
            if m:
                if m.group(1) in found[kind]:
                    twice.append(rel)
                found[kind][m.group(1)] = ref
                break
        else:
            unexpected.append(rel)
    if unexpected:
        problems.append(
            f'{location}: {len(unexpected)} unexpected file(s) (expected '
            f'only {expected}): {format_names(unexpected)}')
    if twice:
        problems.append(
            f'{location}: several files for one name (e.g. .tif and .tiff): '
            f'{format_names(twice)}')
    return found


def _pair(split: str, location: str, images: Dict[str, FileRef],
          xmls: Dict[str, FileRef], masks: Optional[Dict[str, FileRef]],
          problems: List[str]) -> List[Sample]:
    """Pair tiles with their XML (and given mask) by name."""
    lacking = sorted(n for n in images
                     if n not in xmls and (masks is None or n not in masks))
    what = 'XML annotation' if masks is None else 'XML annotation or mask'
    if lacking:
        problems.append(
            f'{split} split: {len(lacking)} tile(s) in {location} have no '
            f'{what}: {format_names(lacking)}')
    for kind, refs in (('XML annotation', xmls), ('mask', masks or {})):
        orphans = sorted(set(refs) - set(images))
        if orphans:
            problems.append(
                f'{split} split: {len(orphans)} {kind}(s) in {location} '
                'have no tile (.tif): '
                f'{format_names(osp.basename(str(refs[n])) for n in orphans)}')
    if not images:
        problems.append(f'{split} split: {location} holds no .tif tile')
    return [Sample(n, images[n], xmls.get(n), (masks or {}).get(n))
            for n in sorted(images)]


def _official_train(folder: SourceFolder, problems) -> SplitSource:
    found = _match(folder.files, {
        'images': f'{re.escape(TRAIN_IMAGES)}/{_TIF}',
        'xml': f'{re.escape(TRAIN_XML)}/{_XML}'},
        f'{TRAIN_IMAGES}/<id>.tif and {TRAIN_XML}/<id>.xml', folder.location,
        problems)
    samples = _pair('train', folder.location, found['images'], found['xml'],
                    None, problems)
    return SplitSource('train', 'official', folder.location, samples)


def _official_test(folder: SourceFolder, problems) -> SplitSource:
    found = _match(folder.files, {'images': _TIF, 'xml': _XML},
                   '<id>.tif and <id>.xml', folder.location, problems)
    samples = _pair('test', folder.location, found['images'], found['xml'],
                    None, problems)
    return SplitSource('test', 'official', folder.location, samples)


def _tile_folder(source: str, problems) -> SplitSource:
    files = {}
    for sub in (TILE_IMAGES, TILE_MASKS, TILE_XML):
        if osp.isdir(osp.join(source, sub)):
            files.update({f'{sub}/{rel}': ref for rel, ref in
                          list_dir_files(osp.join(source, sub)).items()})
    found = _match(files, {
        'images': f'{TILE_IMAGES}/{_TIF}',
        'masks': rf'{TILE_MASKS}/([^/]+)\.png',
        'xml': f'{TILE_XML}/{_XML}'},
        f'{TILE_IMAGES}/<id>.tif, {TILE_MASKS}/<id>.png and '
        f'{TILE_XML}/<id>.xml', source, problems)
    samples = _pair('train', source, found['images'], found['xml'],
                    found['masks'], problems)
    return SplitSource('train', 'tile folder', source, samples)


def _zip_members(path: str) -> List[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            return [n for n in zf.namelist()
                    if not n.endswith('/') and not n.startswith('__MACOSX/')]
    except (zipfile.BadZipFile, OSError) as e:
        raise ConversionError(
            f'{NAME}: cannot read zip file {path!r}: {e}') from None


def _train_zip(path: str, problems) -> SplitSource:
    """The official training folder inside a zip: ``<folder>/Tissue
    Images/...`` (one extra level allowed) or ``Tissue Images/...`` at the
    top."""
    names = _zip_members(path)
    if any(TRAIN_FOLDER in n.split('/')[:2] for n in names):
        folder = zip_folder(path, TRAIN_FOLDER, allow_flat=False)
    else:
        folder = SourceFolder(TRAIN_FOLDER, f'{path}:',
                              {n: FileRef(path, n) for n in names})
    return _official_train(folder, problems)


def _from_zip(path: str, problems) -> List[SplitSource]:
    """The official folder(s) inside the zip file ``path`` (SOURCE itself
    or ``<official folder>.zip``)."""
    names = _zip_members(path)
    parts = [n.split('/') for n in names]
    found = []
    if any(TRAIN_FOLDER in p[:2] or TRAIN_IMAGES in p[:1] for p in parts):
        found.append(_train_zip(path, problems))
    if any(TEST_FOLDER in p[:2] for p in parts) or (
            osp.basename(path) == TEST_FOLDER + '.zip'):
        found.append(_official_test(zip_folder(path, TEST_FOLDER),
                                    problems))
    return found


def _in_folder(source: str, problems) -> List[SplitSource]:
    """The splits in the folder ``source`` (see the module docstring)."""
    found = []
    base = osp.basename(osp.normpath(source))
    if osp.isdir(osp.join(source, TRAIN_IMAGES)) or base == TRAIN_FOLDER:
        return [_official_train(SourceFolder(TRAIN_FOLDER, source,
                                             list_dir_files(source)),
                                problems)]
    if base == TEST_FOLDER:
        return [_official_test(SourceFolder(TEST_FOLDER, source,
                                            list_dir_files(source)),
                               problems)]
    for folder, read in ((TRAIN_FOLDER, _official_train),
                         (TEST_FOLDER, _official_test)):
        path = osp.join(source, folder)
        if osp.isdir(path):
            inner = osp.join(path, folder)
            if os.listdir(path) == [folder] and osp.isdir(inner):
                path = inner
            found.append(read(SourceFolder(folder, path,
                                           list_dir_files(path)), problems))
        elif osp.isfile(path + '.zip'):
            found.append(_train_zip(path + '.zip', problems)
                         if folder == TRAIN_FOLDER else
                         _official_test(zip_folder(path + '.zip', folder),
                                        problems))
    if osp.isdir(osp.join(source, TILE_IMAGES)):
        found.append(_tile_folder(source, problems))
    return found


def collect(source: str) -> Dict[str, SplitSource]:
    """Find and pair the splits in ``source``.

    Returns:
        dict: ``{split: SplitSource}`` for the splits found.

    Raises:
        ConversionError: If SOURCE does not exist, holds no split, holds two
            training sets, a folder holds an unexpected file, or tiles,
            annotations and masks do not pair up; every problem is listed.
    """
    problems: List[str] = []
    if osp.isfile(source) and zipfile.is_zipfile(source):
        found = _from_zip(source, problems)
    elif osp.isdir(source):
        found = _in_folder(source, problems)
    else:
        raise ConversionError(
            f'{NAME}: SOURCE {source!r} is neither a folder nor a zip file.')
    if not found:
        raise ConversionError(
            f'{NAME}: no MoNuSeg data found in {source!r}; expected '
            f'"{TRAIN_FOLDER}/" (with "{TRAIN_IMAGES}/*.tif" and '
            f'"{TRAIN_XML}/*.xml") or "{TRAIN_FOLDER}.zip", '
            f'"{TEST_FOLDER}/" (*.tif beside *.xml) or "{TEST_FOLDER}.zip", '
            f'or a tile folder "{TILE_IMAGES}/*.tif" + "{TILE_MASKS}/*.png" '
            f'[+ "{TILE_XML}/*.xml"].')
    splits: Dict[str, SplitSource] = {}
    for s in found:
        if s.split in splits:
            problems.append(
                f'two {s.split} sets in {source}: {splits[s.split].location} '
                f'({splits[s.split].layout}) and {s.location} ({s.layout}); '
                'keep one')
            continue
        splits[s.split] = s
    problems.extend(check_unique_across_splits({
        k: [(x.name, ) for x in v.samples] for k, v in splits.items()}))
    raise_problems(NAME, problems)
    return splits


# --------------------------------------------------------------------------
# Converting one tile
# --------------------------------------------------------------------------
def decode_tile(data: bytes, where: str) -> np.ndarray:
    """Decode a tile into a BGR uint8 array with Pillow (TIFF included).
    RGB, RGBA with an opaque alpha channel, and grey are accepted.

    Raises:
        ConversionError: Naming the file, if it cannot be decoded, has
            another mode, or has transparent pixels.
    """
    from PIL import Image
    check_decodes(data, where, 'image')
    with Image.open(io.BytesIO(data)) as im:
        if im.mode not in ('RGB', 'RGBA', 'L'):
            raise ConversionError(
                f'image {where} is a {im.mode} image; expected 8-bit RGB.')
        if im.mode == 'RGBA':
            alpha = np.asarray(im.getchannel('A'))
            if (alpha != 255).any():
                raise ConversionError(
                    f'image {where} has {int((alpha != 255).sum())} '
                    'transparent pixel(s); expected an opaque RGB tile.')
        rgb = np.asarray(im.convert('RGB'))
    check_min_side(rgb.shape, f'image {where}')
    return np.ascontiguousarray(rgb[..., ::-1])


def decode_given_mask(data: bytes, where: str) -> np.ndarray:
    """A given 0/255 mask as 0/1 uint8: one channel, three equal channels,
    or grey + alpha (the alpha channel must be opaque or equal to the grey
    one, so that it carries nothing else)."""
    from PIL import Image
    check_decodes(data, where, 'mask')
    with Image.open(io.BytesIO(data)) as im:
        mode = im.mode
        arr = np.asarray(im) if mode == 'LA' else None
    if arr is None:
        return binary_mask(decode_mask(data, where), where)
    grey, alpha = arr[..., 0], arr[..., 1]
    if not ((alpha == 255).all() or (alpha == grey).all()):
        raise ConversionError(
            f'mask {where} is grey + alpha and its alpha channel is neither '
            'opaque nor equal to the grey channel; expected a binary mask.')
    check_min_side(grey.shape, f'mask {where}')
    return binary_mask(np.ascontiguousarray(grey), where)


@dataclass(frozen=True)
class TileTask:
    """One tile to convert (picklable for worker processes)."""
    sample: Sample
    out_root: str
    size: Optional[Size]
    previous: Optional[dict] = None

    @property
    def name(self) -> str:
        return self.sample.name

    @property
    def outputs(self) -> Tuple[str, ...]:
        """The output files, relative to ``out_root``."""
        dirs = DATA_DIRS if self.sample.xml is not None else DATA_DIRS[:2]
        return tuple(f'{d}/{self.name}.png' for d in dirs)


def convert_tile(task: TileTask) -> TaskResult:
    """Check and write one tile, unless :func:`~.records.is_current` says
    its outputs are already there for these very source files; returns
    ``(name, record, written)``."""
    s = task.sample
    refs = dict(image=s.image, xml=s.xml, mask=s.mask)
    sources = {k: r.signature() for k, r in refs.items() if r is not None}
    if is_current(task.previous, sources, task.out_root, task.outputs):
        return task.name, task.previous, False
    img = decode_tile(s.image.read_bytes(), str(s.image))
    h, w = img.shape[:2]
    given = None
    if s.mask is not None:
        given = decode_given_mask(s.mask.read_bytes(), str(s.mask))
        if given.shape != (h, w):
            raise ConversionError(
                f'image {s.image} is {w}x{h} (WxH) but its mask {s.mask} is '
                f'{given.shape[1]}x{given.shape[0]}.')
    record = dict(sources=sources)
    inst = None
    if s.xml is not None:
        regions = parse_regions(s.xml.read_bytes(), str(s.xml))
        inst, report = rasterize(regions, h, w, str(s.xml))
        mask = (inst > 0).astype(np.uint8)
        record.update(mask_from='xml', annotation=report.as_record())
        if given is not None:
            record['given_mask_differs_px'] = int((mask != given).sum())
    else:
        mask = given
        record['mask_from'] = 'mask'
    arrays = [img, mask] + ([inst] if inst is not None else [])
    if task.size is not None:
        arrays = [resize_image(arrays[0], task.size)] + [
            resize_nearest(a, task.size) for a in arrays[1:]]
    root = task.out_root
    record['outputs'] = {
        rel: write_output(root, rel, encode_png(a, osp.join(root, rel)))
        for rel, a in zip(task.outputs, arrays)}
    return task.name, record, True


# --------------------------------------------------------------------------
# The conversion
# --------------------------------------------------------------------------
def _pillow_version() -> str:
    import PIL
    return PIL.__version__


def annotation_totals(samples: Dict[str, dict]) -> dict:
    """What the XML files held, summed over the samples converted from
    them: regions, instances, and the samples with empty, degenerate,
    clipped or hidden regions or overlapping pixels."""
    totals = dict(regions=0, instances=0, overlap_pixels=0)
    flagged: Dict[str, List[str]] = {k: [] for k in (
        'empty', 'degenerate', 'clipped', 'hidden')}
    for name, rec in sorted(samples.items()):
        ann = rec.get('annotation') if isinstance(rec, dict) else None
        if not isinstance(ann, dict):
            continue
        for k in totals:
            totals[k] += int(ann.get(k, 0))
        for k in flagged:
            if ann.get(k):
                flagged[k].append(f'{name} ({len(ann[k])})')
    totals.update({f'samples_with_{k}_regions': v
                   for k, v in flagged.items()})
    return totals


@fresh_source
def convert(source: str, out: str, *, size=None, folds: int = DEFAULT_FOLDS,
            seed: int = 0, nproc: int = 1, overwrite: bool = False) -> dict:
    """Convert MoNuSeg from ``source`` into ``out``.

    Args:
        source (str): See the module docstring.
        out (str): Output folder.
        size (int | tuple[int, int] | None): Resize to (W, H).
        folds (int): k of the k-fold split of the training tiles (0: none;
            ignored, and said so, when SOURCE holds no training set).
        seed (int): Seed of the k-fold permutation.
        nproc (int): Worker processes.
        overwrite (bool): Replace a conversion made with other settings.

    Returns:
        dict: The record written to ``conversion.json``.
    """
    size = check_size(size)
    check_folds(folds, seed)
    check_nproc(nproc)
    splits = collect(source)
    names = {k: [x.name for x in v.samples] for k, v in splits.items()}
    split_files = {k: sorted(v) for k, v in sorted(
        names.items(), key=lambda kv: kv[0] != 'train')}
    missing = {k: 'not found in SOURCE' for k in ('train', 'test')
               if k not in splits}
    if folds and 'train' in splits:
        try:
            split_files.update(fold_splits(kfold(names['train'], folds,
                                                 seed)))
        except ValueError as e:
            raise ConversionError(f'{NAME}: --folds {folds}: {e}') from None
    options = dict(size=size and list(size), folds=folds, seed=seed,
                   rasterizer=f'PIL.ImageDraw.polygon (Pillow '
                   f'{_pillow_version()})')
    settings = make_settings(NAME, source, options, names)
    output = OutputFolder(out, settings, DATA_DIRS)
    inputs = {x.root for v in splits.values() for s in v.samples
              for x in (s.image, s.xml, s.mask) if x is not None}
    output.prepare(source, overwrite, inputs=inputs)
    tasks = [TileTask(s, output.root, size)
             for v in splits.values() for s in v.samples]
    results = run_conversion(convert_tile, tasks, output, nproc, NAME)
    records = {name: rec for name, rec, _ in results}
    extra = dict(
        image_suffix='.png',
        mask_suffix='.png',
        instance_suffix='.png',
        classes=list(CLASSES),
        mask_values={'0': 'background', '1': 'nucleus'},
        inputs={k: dict(layout=v.layout, location=v.location)
                for k, v in splits.items()},
        mask_from={k: sum(1 for s in v.samples
                          if records[s.name].get('mask_from') == 'xml')
                   for k, v in splits.items()},
        annotations=annotation_totals(records))
    extra['mask_from'] = {
        k: dict(xml=n, mask=len(splits[k].samples) - n)
        for k, n in extra['mask_from'].items()}
    if folds and 'train' not in splits:
        extra['folds_skipped'] = 'no training set in SOURCE'
    record = finish_conversion(output, split_files, extra, results, missing)
    print(report_text(record))
    return record


def report_text(record: dict) -> str:
    """The lines printed after the summary: where the masks came from and
    what the XML files held that the user should know."""
    lines = []
    for split, n in record.get('mask_from', {}).items():
        lines.append(f'  {split}: masks from XML for {n["xml"]} tile(s) '
                     f'(+ instances/), from the given mask for {n["mask"]}')
    ann = record.get('annotations', {})
    if ann.get('regions'):
        lines.append(
            f'  XML: {ann["regions"]} region(s), {ann["instances"]} '
            f'instance(s), {ann["overlap_pixels"]} pixel(s) claimed by '
            'several regions (given to the smallest)')
    for kind, why in (('empty', 'no pixel in the tile: no instance'),
                      ('degenerate', '2 vertices: filled as a line'),
                      ('clipped', 'vertices outside the tile: clipped'),
                      ('hidden', 'covered by smaller regions: no pixel')):
        flagged = ann.get(f'samples_with_{kind}_regions')
        if flagged:
            lines.append(f'  {kind} regions ({why}) in: '
                         f'{format_names(flagged)}')
    if record.get('folds_skipped'):
        lines.append(f'  no fold files: {record["folds_skipped"]}')
    return '\n'.join(lines)
