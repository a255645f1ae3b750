"""What a conversion records, and when a sample can be skipped.

``conversion.json`` (:data:`RECORD_NAME`, written last) and, while a run is
under way or after it failed, ``.conversion_pending.json``
(:data:`PENDING_NAME`) hold the settings (:func:`make_settings`: converter,
package version, SOURCE, options, a digest of the sample names) and, per
sample (under :data:`SAMPLE_FILES_KEY`), the signature of its source files
(:meth:`~.sources.FileRef.signature`: size and modification time on disk,
size and CRC-32 in a zip; CoNIC: a SHA-1 of the patch) and the size and
SHA-1 of every output file as written (:func:`file_digest`).

A re-run with the same settings skips a sample only when both still match
(:func:`is_current`); a corrected source file or a damaged output is
converted again.
"""
import hashlib
import json
import os
import os.path as osp
import stat
from typing import Dict, Iterable, Mapping, Optional, Sequence

from ...version import __version__

#: The record of a finished conversion.
RECORD_NAME = 'conversion.json'
#: The record of a conversion under way (or one that failed).
PENDING_NAME = '.conversion_pending.json'
#: The settings keys of a record (what must match for outputs to be reused).
SETTINGS_KEYS = ('converter', 'sgdc_mmseg_version', 'source', 'options',
                 'samples_sha1')

#: Key of the per-sample records in ``conversion.json``.
SAMPLE_FILES_KEY = 'sample_files'


def file_digest(data: bytes) -> dict:
    """``{'size': ..., 'sha1': ...}`` of an output file's bytes."""
    return dict(size=len(data), sha1=hashlib.sha1(data).hexdigest())


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


def settings_part(record) -> Optional[dict]:
    """The :data:`SETTINGS_KEYS` of a record (None if it is no dict)."""
    if not isinstance(record, dict):
        return None
    return {k: record.get(k) for k in SETTINGS_KEYS}


def sample_records(record) -> Dict[str, dict]:
    """The per-sample records of a ``conversion.json`` or pending record
    (empty when absent or malformed)."""
    samples = record.get(SAMPLE_FILES_KEY) if isinstance(record, dict) \
        else None
    if not isinstance(samples, dict):
        return {}
    return {k: v for k, v in samples.items() if isinstance(v, dict)}
