"""Reading SOURCE: the official folders, extracted or inside zip files.

:func:`locate_folder` finds an official folder either extracted on disk or
inside its zip file (read member by member with :mod:`zipfile`, never
extracted), tolerating one extra nesting level; :class:`FileRef` names one
file of either kind and gives its bytes and its signature (what a re-run
compares). Nothing in SOURCE is ever written.

:func:`pair_by_name` pairs images and masks by name and lists the unpaired
files of both sides; :func:`check_unique_across_splits` finds names that
two splits share.

Open zip files and memory-mapped ``.npy`` arrays are cached per process for
the duration of one conversion (:func:`reading_source`, or the decorator
:func:`fresh_source` on a ``convert`` function).
"""
import contextlib
import functools
import os
import os.path as osp
import zipfile
from dataclasses import dataclass
from typing import (Callable, Dict, List, Mapping, Optional, Sequence,
                    Tuple)

import numpy as np

from ..utils import format_names
from .checks import ConversionError

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
