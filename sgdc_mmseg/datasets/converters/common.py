"""Machinery shared by the dataset converters.

* Reading SOURCE: :func:`locate_folder` finds an official folder either
  extracted on disk or inside its zip file (read member by member with
  :mod:`zipfile`, never extracted), tolerating one extra nesting level;
  :class:`FileRef` names one file of either kind. Nothing in SOURCE is ever
  written.
* Checking: :func:`pair_by_name` pairs images and masks by name and lists
  the unpaired files of both sides; :func:`check_decodes` decodes every
  image and mask once in full with Pillow (a truncated or corrupt file is
  an error naming it, also for JPEGs that are then copied byte for byte);
  :func:`decode_mask` / :func:`binary_mask` accept only single-channel (or
  3 equal channels) 8-bit 0/255 masks; :func:`jpeg_header` reads a JPEG's
  size and EXIF orientation from its header.
* Writing OUT: :class:`OutputFolder` owns ``images/``, ``masks/`` (and
  ``instances/`` for CoNIC), ``splits/`` and ``conversion.json``. Nothing
  is written when OUT, or one of these entries (e.g. a symbolic link),
  resolves to a place inside SOURCE. Every file is written atomically (a
  temporary file renamed into place); ``conversion.json`` is written last,
  so a conversion that failed partway has none. A run with other settings
  refuses to mix them unless ``overwrite`` clears the converter's own
  outputs first.
* Skipping: ``conversion.json`` (and, while a run is under way or after it
  failed, ``.conversion_pending.json``) records per sample the signature of
  its source files (:meth:`FileRef.signature`: size and modification time
  on disk, size and CRC-32 in a zip; CoNIC: a SHA-1 of the patch) and the
  size and SHA-1 of every output file as written. A re-run with the same
  settings skips a sample only when both still match
  (:func:`is_current`); a corrected source file or a damaged output is
  converted again.
* :func:`convert_pairs`: the whole image + binary mask conversion shared by
  ISIC 2016, ISIC 2018 and PH2, with a progress bar (mmengine's
  ``track_progress`` / ``track_parallel_progress``).
"""
import argparse
import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import os
import os.path as osp
import shutil
import stat
import sys
import zipfile
from dataclasses import dataclass
from typing import (Callable, Dict, Iterable, List, Mapping, Optional,
                    Sequence, Tuple)

import cv2
import numpy as np
from mmengine.utils import track_parallel_progress, track_progress

from ...version import __version__
from ..image_header import read_image_header
from ..splits import write_split_files
from ..utils import MAX_LISTED, TMP_SUFFIX, atomic_write, format_names

RECORD_NAME = 'conversion.json'
PENDING_NAME = '.conversion_pending.json'
SPLITS_DIR = 'splits'
#: Key of the per-sample records in ``conversion.json``.
SAMPLE_FILES_KEY = 'sample_files'
_TMP_SUFFIX = TMP_SUFFIX
#: Images and masks need at least this many rows and columns (mmseg's
#: ``LoadAnnotations`` squeezes a dimension of size 1 away).
MIN_SIDE = 2

Size = Tuple[int, int]  # (width, height)


class ConversionError(ValueError):
    """Bad or unexpected input (or output folder) for a converter; the
    message names the file(s) or argument at fault."""


# ---------------------------------------------------------------------------
# reading SOURCE
# ---------------------------------------------------------------------------
_ZIPS: Dict[Tuple[int, str], zipfile.ZipFile] = {}
_ARRAYS: Dict[Tuple[int, str], np.ndarray] = {}


@contextlib.contextmanager
def reading_source():
    """Scope of one conversion: the per-process caches of open zip files and
    memory-mapped arrays start empty and are closed at the end, so files
    changed between two conversions in one process are read afresh."""
    clear_caches()
    try:
        yield
    finally:
        clear_caches()


def fresh_source(func: Callable) -> Callable:
    """Decorate a ``convert`` function to run inside
    :func:`reading_source`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with reading_source():
            return func(*args, **kwargs)

    return wrapper


def clear_caches() -> None:
    for key in list(_ZIPS):
        if key[0] == os.getpid():
            _ZIPS[key].close()
    _ZIPS.clear()
    _ARRAYS.clear()


def load_npy(path: str) -> np.ndarray:
    """``numpy.load(path, mmap_mode='r')``, cached per process."""
    key = (os.getpid(), path)
    arr = _ARRAYS.get(key)
    if arr is None:
        try:
            arr = np.load(path, mmap_mode='r', allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ConversionError(
                f'cannot memory-map {path!r} as a .npy array: {e}') from None
        _ARRAYS[key] = arr
    return arr


def open_zip(path: str) -> zipfile.ZipFile:
    """A read-only :class:`zipfile.ZipFile`, cached per process (a forked
    worker must not share the parent's file offset)."""
    key = (os.getpid(), path)
    zf = _ZIPS.get(key)
    if zf is None:
        try:
            zf = zipfile.ZipFile(path, 'r')
        except (zipfile.BadZipFile, OSError) as e:
            raise ConversionError(
                f'cannot read zip file {path!r}: {e}') from None
        _ZIPS[key] = zf
    return zf


@dataclass(frozen=True)
class FileRef:
    """One file of SOURCE: a file on disk (``member`` is None) or a member
    of the zip file ``path``. ``str()`` gives ``path`` or
    ``path:member``."""
    path: str
    member: Optional[str] = None

    def read_bytes(self) -> bytes:
        try:
            if self.member is None:
                with open(self.path, 'rb') as f:
                    return f.read()
            return open_zip(self.path).read(self.member)
        except (OSError, zipfile.BadZipFile, KeyError) as e:
            raise ConversionError(f'cannot read {self}: {e}') from None

    def signature(self) -> dict:
        """What identifies the file's content without reading it: its size
        and modification time (ns) on disk, its size and CRC-32 in a zip."""
        try:
            if self.member is None:
                st = os.stat(self.path)
                return dict(size=int(st.st_size),
                            mtime_ns=int(st.st_mtime_ns))
            info = open_zip(self.path).getinfo(self.member)
            return dict(size=int(info.file_size), crc32=int(info.CRC))
        except (OSError, zipfile.BadZipFile, KeyError) as e:
            raise ConversionError(f'cannot read {self}: {e}') from None

    @property
    def root(self) -> str:
        """Where the file lies: its folder on disk, or the zip file."""
        return osp.dirname(self.path) if self.member is None else self.path

    def __str__(self) -> str:
        return self.path if self.member is None else \
            f'{self.path}:{self.member}'


@dataclass
class SourceFolder:
    """An official folder found in SOURCE.

    Attributes:
        name (str): The official folder name.
        location (str): Where it was read from: a directory, or
            ``<zip file>:<folder inside the zip>/``.
        files (dict[str, FileRef]): Every file under the folder, keyed by
            its path relative to the folder (``/``-separated).
    """
    name: str
    location: str
    files: Dict[str, FileRef]


def list_dir_files(root: str) -> Dict[str, FileRef]:
    """Every file under ``root`` (recursively), keyed by relative path."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = osp.relpath(dirpath, root)
        for fn in sorted(filenames):
            rel = fn if rel_dir == '.' else \
                osp.join(rel_dir, fn).replace(os.sep, '/')
            found[rel] = FileRef(osp.join(dirpath, fn))
    return found


def _zip_file_names(zip_path: str) -> List[str]:
    """File members of a zip, without directories and macOS metadata."""
    return [
        info.filename for info in open_zip(zip_path).infolist()
        if not info.is_dir() and not info.filename.startswith('__MACOSX/')
    ]


def find_zip_prefix(zip_path: str, folder: str, max_depth: int = 1,
                    allow_flat: bool = True) -> str:
    """Where ``folder`` lies inside a zip: ``'folder/'`` (the official
    layout), ``'<one>/folder/'`` ... up to ``max_depth`` extra levels, or
    ``''`` when ``allow_flat`` and every file lies at the top level.

    Raises:
        ConversionError: If the folder is not found or found twice.
    """
    names = _zip_file_names(zip_path)
    prefixes = set()
    for name in names:
        parts = name.split('/')
        # the deepest match wins: 'folder/folder/x' is the folder nested
        depths = [d for d in range(min(max_depth, len(parts) - 2) + 1)
                  if parts[d] == folder]
        if depths:
            prefixes.add('/'.join(parts[:depths[-1] + 1]) + '/')
    if len(prefixes) == 1:
        return prefixes.pop()
    if len(prefixes) > 1:
        raise ConversionError(
            f'zip file {zip_path!r} holds the folder {folder!r} more than '
            f'once ({format_names(prefixes)}); keep only one.')
    if allow_flat and names and all('/' not in n for n in names):
        return ''
    raise ConversionError(
        f'zip file {zip_path!r} does not hold the folder {folder!r} (looked '
        f'at its top level and up to {max_depth} level(s) down); it holds '
        f'e.g. {format_names(names, 5) or "no file"}.')


def zip_folder(zip_path: str, folder: str, max_depth: int = 1,
               allow_flat: bool = True) -> SourceFolder:
    """The files of ``folder`` inside the zip file ``zip_path``."""
    prefix = find_zip_prefix(zip_path, folder, max_depth, allow_flat)
    files = {
        name[len(prefix):]: FileRef(zip_path, name)
        for name in _zip_file_names(zip_path) if name.startswith(prefix)
    }
    return SourceFolder(folder, f'{zip_path}:{prefix}', files)


def locate_folder(source: str, folder: str,
                  zip_name: Optional[str] = None) -> Optional[SourceFolder]:
    """Find the official ``folder`` in the directory ``source``.

    Tried in order: the extracted folder ``source/folder`` (or
    ``source/folder/folder`` when the outer one holds only the inner one),
    then the zip file ``source/<zip_name>`` (default ``folder + '.zip'``),
    read in place. Returns None when neither exists.
    """
    path = osp.join(source, folder)
    if osp.isdir(path):
        inner = osp.join(path, folder)
        if os.listdir(path) == [folder] and osp.isdir(inner):
            path = inner
        return SourceFolder(folder, path, list_dir_files(path))
    zip_path = osp.join(source, zip_name or folder + '.zip')
    if osp.isfile(zip_path):
        return zip_folder(zip_path, folder)
    return None


def pair_by_name(images: Mapping[str, FileRef], masks: Mapping[str, FileRef],
                 *, split: str, image_where: str,
                 mask_where: str) -> Tuple[List[Tuple[str, FileRef, FileRef]],
                                           List[str]]:
    """Pair ``name -> file`` maps of images and masks by name.

    Returns:
        tuple: ``[(name, image, mask), ...]`` sorted by name, and a list of
        problems (empty when everything pairs up), each listing the unpaired
        files of one side.
    """
    problems = []
    no_mask = sorted(set(images) - set(masks))
    no_image = sorted(set(masks) - set(images))
    if no_mask:
        problems.append(
            f'{split} split: {len(no_mask)} image(s) in {image_where} have no '
            f'mask in {mask_where}: '
            f'{format_names(osp.basename(str(images[n])) for n in no_mask)}')
    if no_image:
        problems.append(
            f'{split} split: {len(no_image)} mask(s) in {mask_where} have no '
            f'image in {image_where}: '
            f'{format_names(osp.basename(str(masks[n])) for n in no_image)}')
    pairs = [(n, images[n], masks[n]) for n in sorted(images) if n in masks]
    return pairs, problems


def raise_problems(what: str, problems: Sequence[str]) -> None:
    """Raise one :class:`ConversionError` listing all ``problems``."""
    if problems:
        raise ConversionError(
            f'{what}: nothing was written because of '
            f'{len(problems)} problem(s):\n  - ' + '\n  - '.join(problems))


def check_unique_across_splits(
        samples: Mapping[str, Sequence[Tuple[str, FileRef, FileRef]]]
) -> List[str]:
    """Problems for names found in more than one split (their outputs would
    collide in ``images/``)."""
    where: Dict[str, List[str]] = {}
    for split, pairs in samples.items():
        for name, *_ in pairs:
            where.setdefault(name, []).append(split)
    dups = {n: s for n, s in where.items() if len(s) > 1}
    if not dups:
        return []
    return [
        f'{len(dups)} name(s) occur in more than one split: ' +
        format_names(f'{n} ({"/".join(s)})' for n, s in dups.items())
    ]


# ---------------------------------------------------------------------------
# images and masks
# ---------------------------------------------------------------------------
def check_decodes(data: bytes, where: str, what: str = 'image') -> None:
    """Decode ``data`` once in full with Pillow, which, unlike OpenCV,
    always fails on a truncated file.

    Raises:
        ConversionError: Naming the file, if it is not an image Pillow can
            read, or is truncated or corrupt.
    """
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    except (OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as e:
        raise ConversionError(
            f'cannot decode the {what} {where} (truncated or corrupt?): '
            f'{e}') from None


def decode_mask(data: bytes, where: str) -> np.ndarray:
    """Decode a mask file as stored (no colour conversion) into a 2-D uint8
    array. A 3-channel mask is accepted when its channels are equal. The
    file is first decoded in full by :func:`check_decodes`."""
    check_decodes(data, where, 'mask')
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ConversionError(f'cannot decode the mask {where}.')
    if arr.ndim == 3:
        if arr.shape[2] == 3:
            if not ((arr[..., 0] == arr[..., 1]).all()
                    and (arr[..., 0] == arr[..., 2]).all()):
                raise ConversionError(
                    f'mask {where} is a 3-channel image whose channels '
                    'differ; expected a grey mask (one channel, or three '
                    'equal channels).')
            arr = arr[..., 0]
        elif arr.shape[2] == 1:
            arr = arr[..., 0]
        else:
            raise ConversionError(
                f'mask {where} has {arr.shape[2]} channels; expected one '
                '(or three equal channels).')
    if arr.dtype != np.uint8:
        raise ConversionError(
            f'mask {where} is {arr.dtype}; expected 8-bit values 0 and 255.')
    check_min_side(arr.shape, f'mask {where}')
    return np.ascontiguousarray(arr)


def check_min_side(shape: Sequence[int], what: str) -> None:
    """Refuse an image or mask less than :data:`MIN_SIDE` pixels high or
    wide (the datasets could not load it as an H x W map)."""
    h, w = int(shape[0]), int(shape[1])
    if min(h, w) < MIN_SIDE:
        raise ConversionError(
            f'{what} is {h}x{w} (H x W); images and masks must be at least '
            f'{MIN_SIDE}x{MIN_SIDE} (mmseg\'s LoadAnnotations squeezes a '
            'dimension of size 1 away).')


def binary_mask(mask: np.ndarray, where: str) -> np.ndarray:
    """Map a 0/255 mask to 0/1 (uint8).

    Raises:
        ConversionError: Naming the file and the values, if the mask holds
            anything but 0 and 255 (e.g. JPEG damage, or a mask already
            converted to 0/1).
    """
    bad = (mask != 0) & (mask != 255)
    if bad.any():
        values = np.unique(mask[bad])
        shown = ', '.join(str(v) for v in values[:8])
        raise ConversionError(
            f'mask {where} holds value(s) {shown}'
            f'{" ..." if len(values) > 8 else ""} in {int(bad.sum())} '
            'pixel(s); expected only 0 (background) and 255 (lesion).')
    return (mask == 255).astype(np.uint8)


def decode_color(data: bytes, where: str) -> np.ndarray:
    """Decode an image into a BGR uint8 array (as OpenCV and mmcv load it,
    but ignoring any EXIF orientation), after :func:`check_decodes`."""
    check_decodes(data, where, 'image')
    arr = cv2.imdecode(np.frombuffer(data, np.uint8),
                       cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if arr is None:
        raise ConversionError(f'cannot decode the image {where}.')
    return arr


def jpeg_header(data: bytes, where: str) -> Size:
    """``(width, height)`` of an RGB JPEG, read from its header only (with
    :func:`~sgdc_mmseg.datasets.image_header.read_image_header`, as the
    folder datasets do).

    Raises:
        ConversionError: If the file is not an RGB JPEG, or if its EXIF
            orientation is not 1: OpenCV (and so mmseg) would rotate it on
            loading, so a byte-for-byte copy would not line up with its mask.
    """
    try:
        header = read_image_header(data, where)
    except OSError as e:
        raise ConversionError(
            f'cannot read the image {where}: {e}') from None
    fmt, mode, orientation = header.format, header.mode, header.orientation
    size = (header.width, header.height)
    if fmt != 'JPEG':
        raise ConversionError(
            f'image {where} is {fmt}, not JPEG; expected the official JPEG.')
    if mode != 'RGB':
        raise ConversionError(
            f'image {where} is a {mode} JPEG; expected RGB.')
    if orientation not in (None, 1):
        raise ConversionError(
            f'image {where} has EXIF orientation {orientation}: OpenCV and '
            'mmseg would rotate it when loading it, so it would no longer '
            'line up with its mask. Re-save it without the orientation tag '
            '(or apply the orientation to the image and its mask alike, '
            'e.g. PIL.ImageOps.exif_transpose) before converting.')
    return int(size[0]), int(size[1])


def resize_image(img: np.ndarray, size: Size) -> np.ndarray:
    """Resize to ``size`` (W, H): area averaging when shrinking in both
    directions, bilinear otherwise."""
    w, h = size
    shrink = w <= img.shape[1] and h <= img.shape[0]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA
                      if shrink else cv2.INTER_LINEAR)


def resize_nearest(label: np.ndarray, size: Size) -> np.ndarray:
    """Resize a label map (any integer dtype) to ``size`` (W, H), nearest."""
    return cv2.resize(label, tuple(size), interpolation=cv2.INTER_NEAREST)


def encode_png(arr: np.ndarray, where: str) -> bytes:
    ok, buf = cv2.imencode('.png', arr)
    if not ok:
        raise ConversionError(f'cannot encode {where} as PNG.')
    return buf.tobytes()


def file_digest(data: bytes) -> dict:
    """``{'size': ..., 'sha1': ...}`` of an output file's bytes."""
    return dict(size=len(data), sha1=hashlib.sha1(data).hexdigest())


def write_output(root: str, rel: str, data: bytes) -> dict:
    """Write ``data`` atomically to ``root/rel``; returns its
    :func:`file_digest`."""
    atomic_write(osp.join(root, *rel.split('/')), data)
    return file_digest(data)


def output_intact(path: str, expected) -> bool:
    """Whether ``path`` is a regular file (not a link) of the recorded size
    and SHA-1."""
    if not isinstance(expected, dict):
        return False
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != expected.get('size'):
            return False
        digest = hashlib.sha1()
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                digest.update(chunk)
    except OSError:
        return False
    return digest.hexdigest() == expected.get('sha1')


def is_current(previous, sources: dict, root: str,
               outputs: Sequence[str]) -> bool:
    """Whether a sample recorded as ``previous`` (``{'sources': ...,
    'outputs': {rel: digest}}``) can be skipped: same source signatures,
    the same output files, each intact."""
    if not isinstance(previous, dict) or previous.get('sources') != sources:
        return False
    recorded = previous.get('outputs')
    if not isinstance(recorded, dict) or set(recorded) != set(outputs):
        return False
    return all(
        output_intact(osp.join(root, *rel.split('/')), recorded[rel])
        for rel in outputs)


# ---------------------------------------------------------------------------
# the output folder
# ---------------------------------------------------------------------------
def samples_digest(splits: Mapping[str, Iterable[str]]) -> str:
    """SHA-1 of the sample names per official split (what was found in
    SOURCE); part of the settings so a changed SOURCE is never mixed in."""
    text = json.dumps({k: sorted(v) for k, v in splits.items()},
                      sort_keys=True)
    return hashlib.sha1(text.encode('utf-8')).hexdigest()


def make_settings(converter: str, source: str, options: dict,
                  samples: Mapping[str, Iterable[str]]) -> dict:
    """What makes two conversions produce the same files."""
    return dict(
        converter=converter,
        sgdc_mmseg_version=__version__,
        source=osp.abspath(source),
        options=dict(options),
        samples_sha1=samples_digest(samples))


def _read_json(path: str):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _settings_part(record) -> Optional[dict]:
    if not isinstance(record, dict):
        return None
    keys = ('converter', 'sgdc_mmseg_version', 'source', 'options',
            'samples_sha1')
    return {k: record.get(k) for k in keys}


def _is_within(path: str, folder: str) -> bool:
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class OutputFolder:
    """The converter's outputs in ``root``.

    Args:
        root (str): The output folder (OUT); created when missing.
        settings (dict): From :func:`make_settings`.
        data_dirs (Sequence[str]): Per-sample output folders
            (``images``, ``masks``, ...).
    """

    def __init__(self, root: str, settings: dict,
                 data_dirs: Sequence[str] = ('images', 'masks')) -> None:
        self.root = osp.abspath(root)
        self.settings = dict(settings)
        self.data_dirs = tuple(data_dirs)
        self.reuse = False
        #: ``{name: record}`` of the samples recorded by an earlier run with
        #: the same settings (filled by :meth:`prepare`).
        self.previous: Dict[str, dict] = {}

    @property
    def owned(self) -> Tuple[str, ...]:
        """The entries of ``root`` that belong to the converter."""
        return self.data_dirs + (SPLITS_DIR, RECORD_NAME, PENDING_NAME)

    def path(self, *parts: str) -> str:
        return osp.join(self.root, *parts)

    def prepare(self, source: str, overwrite: bool = False,
                inputs: Iterable[str] = ()) -> None:
        """Check OUT against what it already holds, then get it ready.

        Nothing is written when OUT, or one of the owned entries (a
        symbolic link, say), resolves to a place inside SOURCE or inside
        one of the ``inputs`` (the folders or zip files the samples are
        read from).

        Same settings as recorded (in ``conversion.json``, or in the pending
        record of an interrupted run): the per-sample records are kept in
        :attr:`previous` (and in the pending record, so that a killed run
        loses none) for :func:`is_current`. Other settings, or outputs
        without a readable record: :class:`ConversionError` unless
        ``overwrite``, which removes the owned entries (and nothing else)
        first.
        """
        conv = self.settings['converter']
        if osp.exists(self.root) and not osp.isdir(self.root):
            raise ConversionError(
                f'{conv}: the output {self.root!r} exists and is not a '
                'folder.')
        if _is_within(self.root, source):
            raise ConversionError(
                f'{conv}: the output folder {self.root!r} lies inside SOURCE '
                f'{osp.abspath(source)!r}; SOURCE is never modified, choose '
                'another -o.')
        self._refuse_writes_into(source, inputs)
        for d in self.data_dirs + (SPLITS_DIR,):
            if _is_within(source, self.path(d)):
                raise ConversionError(
                    f'{conv}: SOURCE {osp.abspath(source)!r} lies inside '
                    f'{self.path(d)!r}, which the converter writes; choose '
                    'another -o.')
        present = [e for e in self.owned if osp.lexists(self.path(e))]
        if present and not overwrite:
            record = _read_json(self.path(RECORD_NAME))
            previous = _settings_part(record)
            if previous is None:
                record = _read_json(self.path(PENDING_NAME))
                previous = _settings_part(record)
            if previous is None:
                raise ConversionError(
                    f'{conv}: {self.root!r} already holds '
                    f'{", ".join(present)} but no readable {RECORD_NAME} '
                    'telling how they were made (an interrupted or foreign '
                    'conversion). Rerun with --overwrite to replace them '
                    f'(only {", ".join(self.owned)} are removed), or choose '
                    'another -o.')
            if previous != _settings_part(self.settings):
                diff = sorted(k for k in previous
                              if previous[k] != self.settings.get(k))
                shown = '; '.join(
                    f'{k}: {previous[k]!r} there, {self.settings.get(k)!r} '
                    'now' for k in diff)
                raise ConversionError(
                    f'{conv}: {self.root!r} already holds a conversion made '
                    f'with other settings ({shown}). Mixing them is refused: '
                    'rerun with --overwrite to replace it (only '
                    f'{", ".join(self.owned)} are removed), or choose another '
                    '-o.')
            self.reuse = True
            self.previous = _sample_records(record)
        elif present:
            for e in present:
                p = self.path(e)
                if osp.isdir(p) and not osp.islink(p):
                    shutil.rmtree(p)
                else:
                    os.remove(p)
        for d in self.data_dirs:
            os.makedirs(self.path(d), exist_ok=True)
        self.save_pending(self.previous)
        if osp.lexists(self.path(RECORD_NAME)):
            os.remove(self.path(RECORD_NAME))
        if self.reuse:  # leftovers of a killed run
            for d in self.data_dirs:
                for fn in os.listdir(self.path(d)):
                    if fn.endswith(_TMP_SUFFIX):
                        os.remove(self.path(d, fn))
            for fn in os.listdir(self.root):
                if fn.startswith((RECORD_NAME + '.', PENDING_NAME + '.')) \
                        and fn.endswith(_TMP_SUFFIX):
                    os.remove(self.path(fn))

    def _refuse_writes_into(self, source: str, inputs: Iterable[str]) -> None:
        """Raise before anything is written if an owned entry of OUT
        resolves (symbolic links followed) into SOURCE or an input."""
        conv = self.settings['converter']
        roots = [source] + sorted(set(inputs))
        for entry in self.owned:
            path = self.path(entry)
            for root in roots:
                if _is_within(path, root):
                    raise ConversionError(
                        f'{conv}: {path!r} resolves to '
                        f'{osp.realpath(path)!r}, which lies inside SOURCE '
                        f'({osp.abspath(root)!r}); SOURCE is never modified, '
                        'so nothing was written. Remove the symbolic link or '
                        'choose another -o.')

    def save_pending(self, samples: Mapping[str, dict]) -> None:
        """Write the pending record: the settings and the per-sample
        records of the outputs known to be complete."""
        record = dict(self.settings)
        record[SAMPLE_FILES_KEY] = {k: samples[k] for k in sorted(samples)}
        atomic_write(self.path(PENDING_NAME), _dump_json(record))

    def finish(self, split_files: Mapping[str, Sequence[str]],
               record: dict) -> List[str]:
        """Write the split files (replacing ``splits/``), then
        ``conversion.json``; returns the split file paths."""
        splits_dir = self.path(SPLITS_DIR)
        if osp.isdir(splits_dir):
            shutil.rmtree(splits_dir)
        paths = write_split_files(splits_dir, split_files)
        atomic_write(self.path(RECORD_NAME), _dump_json(record))
        os.remove(self.path(PENDING_NAME))
        return paths


def _dump_json(obj) -> bytes:
    return (json.dumps(obj, indent=2) + '\n').encode('utf-8')


def _sample_records(record) -> Dict[str, dict]:
    """The per-sample records of a ``conversion.json`` or pending record
    (empty when absent or malformed)."""
    samples = record.get(SAMPLE_FILES_KEY) if isinstance(record, dict) \
        else None
    if not isinstance(samples, dict):
        return {}
    return {k: v for k, v in samples.items() if isinstance(v, dict)}


# ---------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------
def _guarded(job):
    """Run ``func(task)``; a :class:`ConversionError` is returned, not
    raised, so that one bad sample neither stops the others nor leaves a
    worker pool behind."""
    func, task = job
    try:
        return func(task), None
    except ConversionError as e:
        return None, str(e)


def run_tasks(func: Callable, tasks: Sequence, nproc: int = 1,
              what: str = 'conversion',
              keep: Optional[Callable[[list], None]] = None) -> list:
    """``func`` over ``tasks`` with mmengine's progress bar, in ``nproc``
    processes when ``nproc > 1``.

    Args:
        keep (callable, optional): Called with the results of the tasks that
            passed before the error below is raised.

    Raises:
        ConversionError: After all tasks ran, listing every task that
            failed.
    """
    jobs = [(func, t) for t in tasks]
    if not jobs:
        return []
    if nproc > 1 and len(jobs) > 1:
        results = track_parallel_progress(
            _guarded, jobs, nproc=min(nproc, len(jobs)), file=sys.stdout)
    else:
        results = track_progress(_guarded, jobs, file=sys.stdout)
    errors = [err for _, err in results if err is not None]
    if errors and keep is not None:
        keep([res for res, err in results if err is None])
    if errors:
        shown = '\n  - '.join(errors[:MAX_LISTED])
        more = (f'\n  ... ({len(errors) - MAX_LISTED} more)'
                if len(errors) > MAX_LISTED else '')
        raise ConversionError(
            f'{what}: {len(errors)} of {len(jobs)} sample(s) failed, so no '
            f'{RECORD_NAME} was written (the samples that passed are kept; '
            'a rerun with the same settings skips them):\n  - '
            f'{shown}{more}')
    return [res for res, _ in results]


@dataclass(frozen=True)
class PairTask:
    """One image + 0/255 mask to convert (picklable for worker processes).

    ``copy_jpeg``: the image is an RGB JPEG copied byte for byte (its size is
    read from the header); otherwise it is decoded and written as PNG.
    """
    name: str
    image: FileRef
    mask: FileRef
    out_root: str
    image_suffix: str
    copy_jpeg: bool
    is_jpeg: bool
    size: Optional[Size]
    previous: Optional[dict] = None

    @property
    def outputs(self) -> Tuple[str, str]:
        """The output files, relative to ``out_root``."""
        return (f'images/{self.name}{self.image_suffix}',
                f'masks/{self.name}.png')


#: What a conversion task returns: ``(name, record, written)``.
TaskResult = Tuple[str, dict, bool]


def convert_pair(task: PairTask) -> TaskResult:
    """Check and write one pair, unless :func:`is_current` says its outputs
    are already there for these very source files.

    Both files are decoded in full (:func:`check_decodes`), also a JPEG that
    is copied byte for byte.

    Returns:
        tuple: ``(name, record, written)``; ``record`` holds the source
        signatures and the digests of the outputs.
    """
    sources = dict(image=task.image.signature(), mask=task.mask.signature())
    img_rel, mask_rel = task.outputs
    if is_current(task.previous, sources, task.out_root, task.outputs):
        return task.name, task.previous, False
    mask_where, image_where = str(task.mask), str(task.image)
    mask = binary_mask(decode_mask(task.mask.read_bytes(), mask_where),
                       mask_where)
    data = task.image.read_bytes()
    img = None
    if task.is_jpeg:
        w, h = jpeg_header(data, image_where)
    if task.copy_jpeg:
        check_decodes(data, image_where, 'image')
    else:
        img = decode_color(data, image_where)
        h, w = img.shape[:2]
    if (h, w) != mask.shape:
        raise ConversionError(
            f'image {image_where} is {w}x{h} (WxH) but its mask '
            f'{mask_where} is {mask.shape[1]}x{mask.shape[0]}.')
    if task.size is not None:
        img = resize_image(img, task.size)
        mask = resize_nearest(mask, task.size)
    root = task.out_root
    outputs = {
        img_rel: write_output(root, img_rel, data if task.copy_jpeg else
                              encode_png(img, osp.join(root, img_rel))),
        mask_rel: write_output(root, mask_rel,
                               encode_png(mask, osp.join(root, mask_rel))),
    }
    return task.name, dict(sources=sources, outputs=outputs), True


def with_previous(tasks: Sequence, output: OutputFolder) -> list:
    """``tasks`` (dataclasses with ``name`` and ``previous``), each given
    the record of its sample from an earlier run with the same settings."""
    return [dataclasses.replace(t, previous=output.previous.get(t.name))
            for t in tasks]


def run_conversion(func: Callable, tasks: Sequence, output: OutputFolder,
                   nproc: int, what: str) -> List[TaskResult]:
    """Run the conversion tasks; when some fail, the records of those that
    passed are saved in the pending record first (a rerun skips them)."""
    kept = dict(output.previous)

    def keep(results):
        passed = {name: record for name, record, _ in results}
        for t in tasks:  # a failed sample is converted again by the next run
            if t.name in passed:
                kept[t.name] = passed[t.name]
            else:
                kept.pop(t.name, None)
        output.save_pending(kept)

    return run_tasks(func, with_previous(tasks, output), nproc, what, keep)


def finish_conversion(output: OutputFolder, split_files: Dict[str, List[str]],
                      extra: dict, results: Sequence[TaskResult],
                      missing_splits: Mapping[str, str]) -> dict:
    """Write split files and ``conversion.json`` (with the per-sample
    records of ``results``), print the summary and return the record."""
    num_total = len(results)
    num_written = sum(1 for _, _, written in results if written)
    record = dict(output.settings)
    record.update(extra)
    record['missing_splits'] = dict(missing_splits)
    record['counts'] = {k: len(v) for k, v in split_files.items()}
    record['split_files'] = [f'{SPLITS_DIR}/{k}.txt' for k in split_files]
    record[SAMPLE_FILES_KEY] = {
        name: rec for name, rec, _ in sorted(results, key=lambda r: r[0])}
    output.finish(split_files, record)
    conv = record['converter']
    lines = [
        f'{conv}: {num_total} sample(s) in {output.root} '
        f'({num_written} written, {num_total - num_written} already there '
        'with the same settings, unchanged source files and intact outputs)'
    ]
    for d in output.data_dirs:
        lines.append(f'  {d + "/":11s}{output.path(d)}')
    lines.append(f'  split files in {output.path(SPLITS_DIR)}:')
    for k, v in split_files.items():
        lines.append(f'    {k + ".txt":24s}{len(v):6d} name(s)')
    for split, why in missing_splits.items():
        lines.append(f'  split {split!r} not converted: {why}')
    lines.append(f'  record: {output.path(RECORD_NAME)}')
    print('\n'.join(lines))
    return record


def convert_pairs(*, converter: str, source: str, out: str,
                  samples: Mapping[str, Sequence[Tuple[str, FileRef,
                                                       FileRef]]],
                  split_files: Dict[str, List[str]], options: dict,
                  inputs: dict, missing_splits: Mapping[str, str],
                  is_jpeg: bool, size: Optional[Size], nproc: int,
                  overwrite: bool) -> dict:
    """Convert checked image/mask pairs into OUT (the part shared by ISIC
    2016, ISIC 2018 and PH2).

    Args:
        samples: ``{split: [(name, image, mask), ...]}``, already paired and
            checked for names.
        split_files: ``{split file name: [sample names]}`` to write.
        options: The options that change the outputs (recorded).
        inputs: Where every official folder was read from (recorded).
        missing_splits: ``{split: reason}`` for official splits not found.
        is_jpeg: Images are JPEGs (copied byte for byte unless ``size``);
            otherwise they are decoded and written as PNG.

    Returns:
        dict: The record written to ``conversion.json``.
    """
    check_nproc(nproc)
    raise_problems(converter, check_unique_across_splits(samples))
    settings = make_settings(converter, source, options,
                             {k: [n for n, *_ in v]
                              for k, v in samples.items()})
    output = OutputFolder(out, settings)
    output.prepare(source, overwrite,
                   inputs={ref.root for pairs in samples.values()
                           for _, img, mask in pairs for ref in (img, mask)})
    copy_jpeg = is_jpeg and size is None
    suffix = '.jpg' if copy_jpeg else '.png'
    tasks = [
        PairTask(name, img, mask, output.root, suffix, copy_jpeg, is_jpeg,
                 size)
        for pairs in samples.values() for name, img, mask in pairs
    ]
    results = run_conversion(convert_pair, tasks, output, nproc, converter)
    extra = dict(
        image_suffix=suffix,
        mask_suffix='.png',
        mask_values={'0': 'background', '1': 'lesion'},
        inputs=inputs)
    return finish_conversion(output, split_files, extra, results,
                             missing_splits)


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------
def base_parser(name: str, description: str, epilog: str,
                source_help: str = 'folder holding the official zip files or '
                'their extracted folders',
                data_dirs: Sequence[str] = ('images', 'masks')
                ) -> argparse.ArgumentParser:
    """Arguments every converter takes: SOURCE, -o, --size, --nproc,
    --overwrite."""
    parser = argparse.ArgumentParser(
        prog=f'python tools/dataset_converters/{name}.py',
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'source', metavar='SOURCE',
        help=f'{source_help} (read only, never modified)')
    parser.add_argument(
        '-o', '--out', required=True, metavar='OUT',
        help='output folder (created if missing)')
    parser.add_argument(
        '--size', nargs='+', type=int, metavar=('W', 'H'),
        help='resize every sample to W x H (H defaults to W; both >= 2): '
        'images with '
        'area averaging (bilinear when enlarging), masks nearest; images '
        'are then written as .png. Default: keep the original size')
    parser.add_argument(
        '--nproc', type=int, default=1,
        help='worker processes (default: 1)')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace an existing conversion in OUT made with other '
        'settings, or an incomplete one (removes only the converter\'s own '
        f'outputs: {", ".join(d + "/" for d in data_dirs)}, splits/, '
        'conversion.json)')
    return parser


def add_fold_args(parser: argparse.ArgumentParser, default_folds: int,
                  what: str) -> None:
    parser.add_argument(
        '--folds', type=int, default=default_folds,
        help=f'number of k-fold splits over {what} (0: none; default: '
        f'{default_folds})')
    parser.add_argument(
        '--seed', type=int, default=0,
        help='seed of the k-fold permutation (default: 0)')


def check_args(parser: argparse.ArgumentParser,
               args: argparse.Namespace) -> Optional[Size]:
    """Validate the common arguments; returns ``--size`` as (W, H)."""
    size = None
    if args.size is not None:
        if len(args.size) not in (1, 2) or min(args.size) < MIN_SIDE:
            parser.error(f'--size takes one or two integers >= {MIN_SIDE}: '
                         f'W [H], got {" ".join(map(str, args.size))}')
        size = (args.size[0], args.size[-1])
    if args.nproc < 1:
        parser.error(f'--nproc must be >= 1, got {args.nproc}')
    folds = getattr(args, 'folds', 0)
    if folds is not None and (folds < 0 or folds == 1):
        parser.error(f'--folds must be 0 (no folds) or >= 2, got {folds}')
    return size


def check_size(size) -> Optional[Size]:
    """Normalise a ``size`` argument of the library functions."""
    if size is None:
        return None
    if isinstance(size, int):
        size = (size, size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < MIN_SIDE:
        raise ConversionError(
            f'size must be W or (W, H) with integers >= {MIN_SIDE}, got '
            f'{size!r}.')
    return size


def check_nproc(nproc: int) -> int:
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ConversionError(
            f'nproc must be an integer >= 1, got {nproc!r}.')
    return nproc


def check_folds(folds: int, seed: int) -> None:
    if isinstance(folds, bool) or not isinstance(folds, int) or \
            folds < 0 or folds == 1:
        raise ConversionError(
            f'folds must be 0 (no folds) or an integer >= 2, got {folds!r}.')
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConversionError(f'seed must be an integer, got {seed!r}.')


def run_main(parser: argparse.ArgumentParser, argv, convert: Callable) -> int:
    """Parse ``argv``, call ``convert(args, size)`` and turn a
    :class:`ConversionError` into a message on stderr and exit status 1."""
    args = parser.parse_args(argv)
    size = check_args(parser, args)
    try:
        convert(args, size)
    except ConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0
