"""Writing OUT: the converter's own entries of the output folder.

:class:`OutputFolder` owns ``images/``, ``masks/`` (and ``instances/`` for
CoNIC), ``splits/``, ``conversion.json`` and ``.conversion_pending.json``.
Nothing is written when OUT, or one of these entries (e.g. a symbolic
link), resolves to a place inside SOURCE or inside a folder or zip file the
samples are read from. Every file is written atomically
(:func:`~sgdc_mmseg.datasets.utils.write_atomically`: a temporary file
``<name>.<pid>.partial`` renamed into place; a killed run's leftovers are
removed by the next run that reuses OUT); ``conversion.json`` is written
last, so a conversion that failed partway has none. A run with other
settings refuses to mix them unless ``overwrite`` clears the converter's own
outputs (and nothing else) first.
"""
import os
import os.path as osp
import shutil
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

from ...utils.fileio import json_text, read_json
from ..splits import write_split_files
from ..utils import TMP_SUFFIX, write_atomically
from .checks import ConversionError
from .records import (PENDING_NAME, RECORD_NAME, SAMPLE_FILES_KEY,
                      file_digest, sample_records, settings_part)

SPLITS_DIR = 'splits'


def write_output(root: str, rel: str, data: bytes) -> dict:
    """Write ``data`` atomically to ``root/rel``; returns its
    :func:`~.records.file_digest`."""
    write_atomically(osp.join(root, *rel.split('/')), data)
    return file_digest(data)


def write_record(path: str, record: dict) -> None:
    """Write a ``conversion.json`` or pending record (JSON, indent 2)."""
    write_atomically(path, json_text(record).encode('utf-8'))


def is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (both resolved with
    :func:`os.path.realpath`)."""
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def settings_difference(previous: dict, settings: dict) -> str:
    """``'key: <there> there, <now> now; ...'`` for the settings that
    differ."""
    diff = sorted(k for k in previous if previous[k] != settings.get(k))
    return '; '.join(f'{k}: {previous[k]!r} there, {settings.get(k)!r} now'
                     for k in diff)


class OutputFolder:
    """The converter's outputs in ``root``.

    Args:
        root (str): The output folder (OUT); created when missing.
        settings (dict): From :func:`~.records.make_settings`.
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
    def converter(self) -> str:
        return self.settings['converter']

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
        loses none) for :func:`~.records.is_current`. Other settings, or
        outputs without a readable record: :class:`ConversionError` unless
        ``overwrite``, which removes the owned entries (and nothing else)
        first.
        """
        self._check_locations(source, inputs)
        present = [e for e in self.owned if osp.lexists(self.path(e))]
        if present and not overwrite:
            self._reuse_previous(present)
        elif present:
            self._remove(present)
        for d in self.data_dirs:
            os.makedirs(self.path(d), exist_ok=True)
        self.save_pending(self.previous)
        if osp.lexists(self.path(RECORD_NAME)):
            os.remove(self.path(RECORD_NAME))
        if self.reuse:
            self._remove_leftover_temps()

    def _check_locations(self, source: str, inputs: Iterable[str]) -> None:
        """Refuse an OUT that is a file, lies inside SOURCE, has an owned
        entry resolving into SOURCE or an input, or holds SOURCE."""
        conv = self.converter
        if osp.exists(self.root) and not osp.isdir(self.root):
            raise ConversionError(
                f'{conv}: the output {self.root!r} exists and is not a '
                'folder.')
        if is_within(self.root, source):
            raise ConversionError(
                f'{conv}: the output folder {self.root!r} lies inside SOURCE '
                f'{osp.abspath(source)!r}; SOURCE is never modified, choose '
                'another -o.')
        self._refuse_writes_into(source, inputs)
        for d in self.data_dirs + (SPLITS_DIR, ):
            if is_within(source, self.path(d)):
                raise ConversionError(
                    f'{conv}: SOURCE {osp.abspath(source)!r} lies inside '
                    f'{self.path(d)!r}, which the converter writes; choose '
                    'another -o.')

    def _refuse_writes_into(self, source: str, inputs: Iterable[str]) -> None:
        """Raise before anything is written if an owned entry of OUT
        resolves (symbolic links followed) into SOURCE or an input."""
        conv = self.converter
        roots = [source] + sorted(set(inputs))
        for entry in self.owned:
            path = self.path(entry)
            for root in roots:
                if is_within(path, root):
                    raise ConversionError(
                        f'{conv}: {path!r} resolves to '
                        f'{osp.realpath(path)!r}, which lies inside SOURCE '
                        f'({osp.abspath(root)!r}); SOURCE is never modified, '
                        'so nothing was written. Remove the symbolic link or '
                        'choose another -o.')

    def _reuse_previous(self, present: Sequence[str]) -> None:
        """Keep the per-sample records of an earlier run with the same
        settings; refuse outputs without a readable record, or made with
        other settings."""
        conv = self.converter
        record = read_json(self.path(RECORD_NAME))
        previous = settings_part(record)
        if previous is None:
            record = read_json(self.path(PENDING_NAME))
            previous = settings_part(record)
        if previous is None:
            raise ConversionError(
                f'{conv}: {self.root!r} already holds '
                f'{", ".join(present)} but no readable {RECORD_NAME} '
                'telling how they were made (an interrupted or foreign '
                'conversion). Rerun with --overwrite to replace them '
                f'(only {", ".join(self.owned)} are removed), or choose '
                'another -o.')
        if previous != settings_part(self.settings):
            raise ConversionError(
                f'{conv}: {self.root!r} already holds a conversion made '
                'with other settings '
                f'({settings_difference(previous, self.settings)}). Mixing '
                'them is refused: rerun with --overwrite to replace it (only '
                f'{", ".join(self.owned)} are removed), or choose another '
                '-o.')
        self.reuse = True
        self.previous = sample_records(record)

    def _remove(self, entries: Sequence[str]) -> None:
        """Remove owned entries (``overwrite``); a link is removed, not
        followed."""
        for e in entries:
            p = self.path(e)
            if osp.isdir(p) and not osp.islink(p):
                shutil.rmtree(p)
            else:
                os.remove(p)

    def _remove_leftover_temps(self) -> None:
        """Remove the temporary files a killed run left in the data folders
        and next to the records."""
        for d in self.data_dirs:
            for fn in os.listdir(self.path(d)):
                if fn.endswith(TMP_SUFFIX):
                    os.remove(self.path(d, fn))
        for fn in os.listdir(self.root):
            if fn.startswith((RECORD_NAME + '.', PENDING_NAME + '.')) \
                    and fn.endswith(TMP_SUFFIX):
                os.remove(self.path(fn))

    def save_pending(self, samples: Mapping[str, dict]) -> None:
        """Write the pending record: the settings and the per-sample
        records of the outputs known to be complete."""
        record = dict(self.settings)
        record[SAMPLE_FILES_KEY] = {k: samples[k] for k in sorted(samples)}
        write_record(self.path(PENDING_NAME), record)

    def finish(self, split_files: Mapping[str, Sequence[str]],
               record: dict) -> List[str]:
        """Write the split files (replacing ``splits/``), then
        ``conversion.json``; returns the split file paths."""
        splits_dir = self.path(SPLITS_DIR)
        if osp.isdir(splits_dir):
            shutil.rmtree(splits_dir)
        paths = write_split_files(splits_dir, split_files)
        write_record(self.path(RECORD_NAME), record)
        os.remove(self.path(PENDING_NAME))
        return paths
