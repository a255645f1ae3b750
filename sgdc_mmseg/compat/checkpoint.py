"""Load mmengine checkpoints safely and save them atomically.

Since torch 2.6, ``torch.load`` unpickles with ``weights_only=True`` by default:
only tensors, containers and an allow-list of globals may appear in the file.
mmengine 0.10.x checkpoints need a few more, so every ``load_from``/``resume``
failed with "Weights only load failed". Turning safety off
(``weights_only=False``) would let a downloaded ``.pth`` run arbitrary code, so
instead :func:`install_safe_checkpoint_loading` allow-lists exactly what
mmengine writes and nothing else.

What a real checkpoint holds
----------------------------
Measured with ``torch.serialization.get_unsafe_globals_in_checkpoint`` and
``pickletools`` on checkpoints written by ``CheckpointHook`` (iteration and
``save_best`` checkpoints, SGD and AdamW with gradient clipping, LinearLR and
PolyLR schedulers, and a checkpoint written again after ``resume``). Besides
what torch already admits (tensors, storages, ``OrderedDict``,
``_codecs.encode``) they contain:

* ``mmengine.logging.history_buffer.HistoryBuffer`` -- the message hub's log
  buffers (``checkpoint['message_hub']['log_scalars']``);
* ``numpy._core.multiarray._reconstruct``, ``numpy.ndarray`` and
  ``numpy.dtype`` -- the buffers' numpy arrays;
* ``numpy._core.multiarray.scalar`` -- numpy scalars (metrics such as
  ``best_score``, ``runtime_info`` values);
* ``builtins.getattr`` -- ``HistoryBuffer.__getstate__`` stores its statistics
  methods (``HistoryBuffer.min``/``max``/``current``/``mean``), which pickle
  protocol 2 writes as ``getattr(HistoryBuffer, 'min')``.

Not named in the file, but needed: unpickling ``numpy.dtype('f8')`` yields an
instance of ``numpy.dtypes.Float64DType`` whose state is then restored, and
torch only restores the state of objects whose exact type is allow-listed.
The checkpoints above use ``Float64DType``, ``Int64DType`` and
``Float32DType``; the dtype classes of all fixed-size numeric dtypes (bool,
(u)int8-64, float16/32/64) are admitted, as logged values may use any of
them; object, string and structured dtypes are not. numpy 1.x wrote
``numpy.core.multiarray...`` instead of ``numpy._core.multiarray...``; both
spellings map to the same functions.

``getattr`` and ``_codecs.encode``
----------------------------------
The real ``getattr`` is not admitted: ``getattr`` on any allowed object could
reach bound methods or module globals (for instance ``ndarray.tofile``) and
plant them in objects that later call them. Under the name
``builtins.getattr`` torch instead finds :func:`restricted_getattr`, which
answers only ``(HistoryBuffer, 'min' | 'max' | 'current' | 'mean')`` and
raises :class:`pickle.UnpicklingError` for anything else (torch accepts such
``(callable, 'qualified.name')`` pairs in ``add_safe_globals``).

``_codecs.encode`` (numpy writes raw bytes as ``encode(str, 'latin1')``) is
part of torch's *own* default allow-list, which the unpickler consults before
user entries, so a substitute registered under that name would never be used.
:func:`restricted_encode` (only ``latin1``/``latin-1`` of a ``str``) is still
registered under that name so that a future torch that lets user entries take
precedence, or drops ``encode`` from its defaults, keeps mmengine checkpoints
loading without admitting other codecs.

On torch < 2.4 (no ``add_safe_globals``) the loaders are left as mmengine's
(full unpickling) and a warning says so; saving is made atomic regardless.

Loading: what is covered
------------------------
:func:`install_safe_checkpoint_loading` (run once by ``import sgdc_mmseg``)
makes every loader of ``mmengine.runner.checkpoint`` unpickle with
``torch.load(..., weights_only=True)`` and the allow-list above, and turn
failures into the errors below. mmengine keeps its loaders in two places,
and both are patched:

* ``CheckpointLoader`` stores the loader *functions* per scheme when they are
  registered, so the schemes whose mmengine loader calls ``torch.load``
  itself are re-registered: ``''`` (local files) -> :func:`load_from_local`,
  ``pavi://`` -> :func:`load_from_pavi`, ``s3://``/``petrel://`` (also
  ``name:s3://``) -> :func:`load_from_ceph`, ``open-mmlab://`` and
  ``openmmlab://`` -> :func:`load_from_openmmlab` (its URL table,
  ``MMENGINE_HOME/open_mmlab.json`` included, and its deprecated names are
  mmengine's; a table entry that is not a URL is a file under
  ``MMENGINE_HOME``).
* mmengine's ``load_from_http`` (``http://``, ``https://``; its rank-0-first
  download in distributed runs is kept) and the loaders that call it *by
  module-level name* (``torchvision://``, ``modelzoo://``, ``mmcls://`` and
  URL entries of ``open-mmlab://``) download through the module-level name
  ``load_url``, which is torch's ``torch.hub.load_state_dict_from_url`` and
  unpickles with ``weights_only=False`` by default. That name (also in
  ``mmengine.utils.dl_utils``) is replaced by :func:`load_url`: the same
  download and cache (``model_dir`` or ``torch.hub.get_dir()/checkpoints``,
  i.e. ``$TORCH_HOME/hub/checkpoints``; a cached file is reused, not
  downloaded again; torch's ``check_hash``, ``file_name`` and old single-file
  zip handling) but with ``weights_only=True``.
* The module-level names ``load_from_local``, ``load_from_pavi``,
  ``load_from_ceph`` and ``load_from_openmmlab`` are replaced too, for code
  that calls them directly.

Everything that loads through ``CheckpointLoader`` is thereby covered:
``load_checkpoint(model, filename)``, ``_load_checkpoint``, a config's
``load_from`` and ``resume``, ``init_cfg=dict(type='Pretrained', ...)``
(with or without ``prefix``), backbones' ``pretrained=`` (mmseg turns it
into such an ``init_cfg``) and mmseg backbones that call
``CheckpointLoader.load_checkpoint`` themselves. A scheme registered later by
other code is not covered; :func:`install_safe_checkpoint_loading` warns
about registered schemes whose loader it does not know. Code that calls
``torch.load`` itself is not covered either (torch's own default is
``weights_only=True`` since 2.6, with the same allow-list).

Errors
------
Every failure to read a checkpoint that is not a missing file names the file
(for downloads: the URL and the cached copy, which is kept; delete it to
download again) and says what is wrong:

* :class:`CheckpointError` (a :class:`ValueError`): the base class;
  ``error.filename`` is the file, URL or URI.
* :class:`CorruptCheckpointError`: the file is not a loadable checkpoint:
  empty (0 bytes); truncated (a ``torch.save`` zip archive without its end
  record, or a legacy ``torch.save`` file that ends early: cut off while
  being written or downloaded); a plain Python pickle or any other data that
  is not a ``torch.save`` file; or a ``torch.save`` file whose contents are
  damaged. It was not loaded.
* :class:`UntrustedCheckpointError`: a complete ``torch.save`` file that
  needs a global outside the allow-list (named in the message); it is also a
  :class:`pickle.UnpicklingError`, as before. Nothing in it was executed.
* A missing local file stays a :class:`FileNotFoundError` naming it, and
  download failures stay torch's/urllib's errors (:class:`OSError`).
* Other failures of a sound-looking file (for instance CUDA tensors loaded
  without ``map_location`` on a machine without CUDA) keep torch's exception
  type, with a note naming the file added to it.

A pretrained backbone (``init_cfg=dict(type='Pretrained', ...)``) whose
download fails raises :class:`~.pretrained.PretrainedUnavailableError`
naming the URL and the ways out (:mod:`.pretrained`, installed by
:func:`install_safe_checkpoint_loading`).

Saving
------
mmengine's ``save_checkpoint`` (used by ``Runner.save_checkpoint``, hence by
``CheckpointHook``) serialises the checkpoint into memory and then writes the
bytes straight to the final path (``LocalBackend.put``: ``open(path, 'wb')``
and ``write``). A process killed during that write leaves a truncated
``iter_N.pth`` under its final name; ``CheckpointHook`` writes
``last_checkpoint`` only after the save returns, so it still names the
previous checkpoint, and auto-resume uses that one, but the truncated file
stays (and an ``iter_N.pth`` that was being overwritten is destroyed).
:func:`save_checkpoint` replaces it (module-level names in
``mmengine.runner``, ``mmengine.runner.checkpoint`` and
``mmengine.runner.runner``) and, for local paths, writes the same bytes to a
hidden temporary file in the same folder (``.iter_N.pth.<random>.partial``),
calls ``fsync`` on it, renames it over the final name with :func:`os.replace`
(atomic on POSIX and Windows) and calls ``fsync`` on the folder; so a
checkpoint is either absent or complete under its final name, and
``last_checkpoint`` (written after the rename) only names files that were
complete. A ``.partial`` file left by a killed save is removed by the next
save of the same name. Other backends (petrel, pavi, a ``file_client_args``
file client) keep mmengine's behaviour. The file is replaced, not rewritten
in place: a symlink at the final name is replaced by the file.

Left to mmengine, but reported clearly: ``CheckpointHook`` deletes the oldest
checkpoint (``max_keep_ckpts``) *before* it saves the new one, and writes
``last_checkpoint`` with a plain ``open(..., 'w')``. A run killed in between
can leave ``last_checkpoint`` naming a deleted file (or, in a window of a few
bytes, empty). mmengine's auto-resume then failed on ``""`` or that path;
:func:`find_latest_checkpoint` (replacing mmengine's module-level name used
by ``Runner``) raises :class:`CheckpointError` naming ``last_checkpoint``,
what it holds, and the complete checkpoints that are in the folder.
"""
import io
import logging
import os
import os.path as osp
import pickle
import re
import warnings
from tempfile import TemporaryDirectory
from urllib.parse import urlparse

import torch

from ..utils.fileio import atomic_write, remove_stale_temps

__all__ = [
    'CheckpointError', 'CorruptCheckpointError', 'UntrustedCheckpointError',
    'install_safe_checkpoint_loading', 'load_from_local', 'load_url',
    'load_from_openmmlab', 'load_from_pavi', 'load_from_ceph',
    'safe_torch_load', 'explain_load_failure', 'save_checkpoint',
    'atomic_write_bytes', 'find_latest_checkpoint',
    'restricted_getattr', 'restricted_encode', 'safe_globals_for_mmengine'
]

# Statistics methods that HistoryBuffer registers itself; pickled as
# ``getattr(HistoryBuffer, name)``.
HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')
ALLOWED_ENCODINGS = ('latin1', 'latin-1')
# Fixed-size numeric dtypes whose dtype classes may have their state rebuilt.
NUMERIC_DTYPES = ('?', 'b', 'B', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f2', 'f4',
                  'f8')
# How a torch.save file starts: a zip archive (torch >= 1.6) or, in the
# legacy format, the pickled magic number.
ZIP_MAGIC = b'PK\x03\x04'
LEGACY_MAGIC = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)[:-1]
PARTIAL_SUFFIX = '.partial'

_INSTALLED = False


class CheckpointError(ValueError):
    """A checkpoint could not be loaded; the message names it and says why.

    Attributes:
        filename (str | None): The file, URL or URI that failed.
    """

    def __init__(self, message, filename=None):
        super().__init__(message)
        self.filename = filename


class CorruptCheckpointError(CheckpointError):
    """Empty, truncated, damaged, or not a ``torch.save`` file at all."""


class UntrustedCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint needs globals outside the allow-list; nothing was run."""


def _history_buffer_cls():
    from mmengine.logging.history_buffer import HistoryBuffer
    return HistoryBuffer


def restricted_getattr(obj, name, *default):
    """``getattr`` admitted under the pickled name ``builtins.getattr``.

    Only ``HistoryBuffer.min``/``max``/``current``/``mean`` may be looked up;
    any other (object, attribute) pair raises :class:`pickle.UnpicklingError`.
    """
    history_buffer = _history_buffer_cls()
    if (obj is history_buffer and isinstance(name, str)
            and name in HISTORY_BUFFER_METHODS and not default):
        return getattr(obj, name)
    target = getattr(obj, '__qualname__', None) or type(obj).__qualname__
    raise pickle.UnpicklingError(
        f'builtins.getattr({target}, {name!r}) is not allowed: the safe '
        'checkpoint loader of sgdc_mmseg only admits getattr(HistoryBuffer, '
        f'{"|".join(HISTORY_BUFFER_METHODS)})')


def restricted_encode(obj, encoding='utf-8', errors='strict'):
    """``_codecs.encode`` limited to ``str`` -> ``bytes`` with latin-1."""
    if (isinstance(obj, str) and encoding in ALLOWED_ENCODINGS
            and errors == 'strict'):
        return obj.encode('latin1')
    raise pickle.UnpicklingError(
        f'_codecs.encode(..., {encoding!r}, {errors!r}) on '
        f'{type(obj).__name__} is not allowed: only latin1 encoding of str '
        'is admitted')


def _numpy_multiarray():
    """``numpy._core.multiarray`` (numpy 2) or ``numpy.core.multiarray``."""
    import importlib
    try:
        return importlib.import_module('numpy._core.multiarray')
    except ImportError:  # numpy < 2 without the _core alias
        return importlib.import_module('numpy.core.multiarray')


def safe_globals_for_mmengine():
    """The ``(object, 'pickled.name')`` pairs admitted for mmengine files."""
    import numpy as np
    multiarray = _numpy_multiarray()
    entries = [
        (_history_buffer_cls(), 'mmengine.logging.history_buffer.HistoryBuffer'),
        (np.ndarray, 'numpy.ndarray'),
        (np.dtype, 'numpy.dtype'),
        (restricted_getattr, 'builtins.getattr'),
        (restricted_encode, '_codecs.encode'),
    ]
    for module_name in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        entries.append((multiarray._reconstruct, f'{module_name}._reconstruct'))
        entries.append((multiarray.scalar, f'{module_name}.scalar'))
    for code in NUMERIC_DTYPES:
        dtype_cls = type(np.dtype(code))
        name = f'{dtype_cls.__module__}.{dtype_cls.__qualname__}'
        entries.append((dtype_cls, name))
    return entries


def _offending_globals(source, message):
    """Names of the globals that made the safe unpickler refuse ``source``.

    Combines a static scan of the pickle (for zip checkpoints) with what the
    unpickler's own message names.
    """
    names = []
    try:
        names.extend(
            sorted(torch.serialization.get_unsafe_globals_in_checkpoint(
                _reopen(source))))
    except Exception:  # legacy (non-zip) format or unreadable file
        pass
    for pattern in (r'GLOBAL (\S+) ', r'(builtins\.getattr\([^)]*\))',
                    r'(_codecs\.encode\([^)]*\))',
                    r'unrecognized function (.+?)(?: which belongs|$)',
                    r"but got <class '([^']+)'>"):
        for found in re.findall(pattern, message, flags=re.MULTILINE):
            if found not in names:
                names.append(found)
    return names


def _unpickler_reason(message):
    """torch's own reason, without its advice to pass weights_only=False."""
    text = message.split('WeightsUnpickler error:', 1)[-1]
    keep = []
    for line in text.splitlines():
        line = line.strip()
        if not line or 'weights_only' in line or 'Check the documentation' \
                in line or line.startswith('(1)') or line.startswith('(2)'):
            continue
        keep.append(line)
    return ' '.join(keep)[:400]


def _reopen(source):
    """A fresh readable object for ``source`` (a path or bytes)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source)
    return source


def _inspect(source):
    """``(size, first 32 bytes, is a complete zip archive)`` of ``source``."""
    import zipfile
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return len(data), data[:32], zipfile.is_zipfile(io.BytesIO(data))
    with open(source, 'rb') as f:
        head = f.read(32)
    return osp.getsize(source), head, zipfile.is_zipfile(source)


# What torch says when the bytes of a torch.save file are damaged (rather
# than, e.g., saved on a device that is not available here).
DAMAGE_MARKERS = ('Unsupported operand', 'PytorchStreamReader',
                  'inline_container')


def _is_damage(error, message):
    """Whether torch failed on bytes it cannot parse."""
    return isinstance(error, EOFError) or any(marker in message
                                              for marker in DAMAGE_MARKERS)


def _is_refusal(error, message):
    """Whether ``error`` is the weights-only unpickler refusing a global."""
    return (isinstance(error, pickle.UnpicklingError)
            and not _is_damage(error, message))


def explain_load_failure(source, label, error, filename=None):
    """The :class:`CheckpointError` that explains why ``torch.load`` failed.

    Args:
        source (str | bytes): The file that was loaded (a path or its bytes).
        label (str): How to name it in the message (quoted file, URL...).
        error (Exception): What ``torch.load(..., weights_only=True)`` raised.
        filename (str, optional): Stored as the error's ``filename``.

    Returns:
        CheckpointError | None: ``None`` when the file looks like a sound
        checkpoint and the failure is not explained by it (e.g. tensors
        saved on a CUDA device loaded without ``map_location`` on a machine
        without one): then torch's error is raised with a note naming the
        file.
    """
    try:
        size, head, complete_zip = _inspect(source)
    except OSError:
        return None
    message = str(error)
    reason = _unpickler_reason(message)
    torch_said = reason or type(error).__name__

    def corrupt(what):
        return CorruptCheckpointError(
            f'Checkpoint {label} {what}; it was not loaded.',
            filename)

    if size == 0:
        return corrupt('is empty (0 bytes): it was created but never '
                       'written, e.g. the process saving or downloading it '
                       'was stopped')
    if head.startswith(ZIP_MAGIC):
        if not complete_zip:
            return corrupt(
                f'is truncated ({size} bytes): it is the start of a '
                'torch.save zip archive without the archive\'s end record, '
                'so it was cut off while being saved or downloaded')
        if _is_damage(error, message):
            return corrupt(f'is a zip archive but not a readable torch.save '
                           f'checkpoint (torch: {torch_said})')
        if not _is_refusal(error, message):
            return None  # e.g. saved on a device that is not available
    elif head.startswith(LEGACY_MAGIC):
        if isinstance(error, EOFError):
            return corrupt(
                f'is truncated ({size} bytes): a legacy-format torch.save '
                'file that ends early, so it was cut off while being saved '
                'or downloaded')
        if _is_damage(error, message):
            return corrupt(f'is a legacy-format torch.save file with damaged '
                           f'contents (torch: {torch_said})')
        if not _is_refusal(error, message):
            return None
    elif head[:1] == b'\x80' and head[1:2] in (b'\x02', b'\x03', b'\x04',
                                              b'\x05'):
        return corrupt(
            'is not a checkpoint: it is a plain Python pickle (pickle '
            f'protocol {head[1]}), not a file written by torch.save (which is '
            'a zip archive or starts with torch\'s magic number)')
    else:
        return corrupt(
            'is not a checkpoint: it is neither a torch.save zip archive nor '
            f'a legacy torch.save file (it starts with {head[:8]!r})')
    offending = _offending_globals(source, message)
    return UntrustedCheckpointError(
        f'Refused to load checkpoint {label}: it needs '
        f'{", ".join(offending) or "an unknown global"}, which is not in '
        'the allow-list of sgdc_mmseg\'s safe checkpoint loader '
        '(mmengine checkpoints never need it). The file is not trusted '
        'and nothing in it was executed.'
        + (f' Unpickler said: {reason}' if reason else ''), filename)


def _add_note(error, note):
    """``error.add_note(note)`` where Python has it (3.11+)."""
    if hasattr(error, 'add_note'):
        error.add_note(note)


def safe_torch_load(source, map_location=None, label=None, filename=None):
    """``torch.load(source, weights_only=True)`` with clear errors.

    Args:
        source (str | bytes): A local path or the checkpoint's bytes.
        map_location: As :func:`torch.load`.
        label (str, optional): How to name the file in messages; defaults to
            the quoted path.
        filename (str, optional): ``filename`` of the raised error; defaults
            to ``source`` when that is a path.

    Raises:
        CorruptCheckpointError: empty, truncated or not a checkpoint.
        UntrustedCheckpointError: needs a global outside the allow-list.
    """
    is_path = not isinstance(source, (bytes, bytearray, memoryview))
    if filename is None and is_path:
        filename = os.fspath(source)
    if label is None:
        label = f'"{filename}"' if filename is not None else '(in memory)'
    try:
        return torch.load(_reopen(source), map_location=map_location,
                          weights_only=True)
    except (OSError, MemoryError):
        raise
    except Exception as err:  # noqa: B902 (torch raises many types)
        explained = explain_load_failure(source, label, err, filename)
        if explained is None:
            _add_note(err, f'(while loading checkpoint {label})')
            raise
        raise explained from None


def load_from_local(filename, map_location=None):
    """Load a local checkpoint with ``torch.load(..., weights_only=True)``.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        CorruptCheckpointError: empty, truncated or not a checkpoint.
        UntrustedCheckpointError: the file needs a global outside the
            allow-list (see the module docstring); nothing in it was run.
    """
    filename = osp.expanduser(os.fspath(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'checkpoint file "{filename}" can not be found.')
    return safe_torch_load(filename, map_location)


def load_url(url, model_dir=None, map_location=None, progress=True,
             check_hash=False, file_name=None):
    """``torch.hub.load_state_dict_from_url`` with ``weights_only=True``.

    Same arguments, download and cache as torch's (the cached copy in
    ``model_dir``, default ``torch.hub.get_dir()/checkpoints``, is reused);
    replaces the name ``load_url`` that mmengine's ``load_from_http`` calls.

    Raises:
        CorruptCheckpointError, UntrustedCheckpointError: as
            :func:`safe_torch_load`, naming the URL and the cached file.
        OSError: the download failed (torch's/urllib's error).
    """
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    cached = osp.join(model_dir, file_name or osp.basename(urlparse(url).path))
    try:
        return torch.hub.load_state_dict_from_url(
            url, model_dir=model_dir, map_location=map_location,
            progress=progress, check_hash=check_hash, file_name=file_name,
            weights_only=True)
    except (OSError, MemoryError):
        raise
    except Exception as err:  # noqa: B902 (torch raises many types)
        if not osp.isfile(cached):
            raise
        label = (f'"{url}" (downloaded to "{cached}"; that copy is kept and '
                 'reused: delete it to download again)')
        explained = explain_load_failure(cached, label, err, url)
        if explained is None:
            _add_note(err, f'(while loading checkpoint {label})')
            raise
        raise explained from None


def load_from_pavi(filename, map_location=None):
    """mmengine's ``pavi://`` loader, unpickling with :func:`safe_torch_load`.
    """
    if not filename.startswith('pavi://'):
        raise ValueError(f'expected a "pavi://" path, got "{filename}"')
    try:
        from pavi import modelcloud
    except ImportError:
        raise ImportError(
            'Please install pavi to load checkpoint from modelcloud.')
    model = modelcloud.get(filename[len('pavi://'):])
    with TemporaryDirectory() as tmp_dir:
        downloaded = osp.join(tmp_dir, model.name)
        model.download(downloaded)
        return safe_torch_load(downloaded, map_location,
                               label=f'"{filename}"', filename=filename)


def load_from_ceph(filename, map_location=None, backend='petrel'):
    """mmengine's ``s3://``/``petrel://`` loader, unpickling with
    :func:`safe_torch_load`."""
    from mmengine.fileio import get_file_backend
    file_backend = get_file_backend(
        filename, backend_args={'backend': backend})
    return safe_torch_load(file_backend.get(filename), map_location,
                           label=f'"{filename}"', filename=filename)


def load_from_openmmlab(filename, map_location=None):
    """mmengine's ``open-mmlab://``/``openmmlab://`` loader, made safe.

    The model name is looked up in mmengine's tables
    (``get_deprecated_model_names``, ``get_external_models``); a URL is
    loaded by mmengine's ``load_from_http`` (hence :func:`load_url`), any
    other entry as a file under mmengine's home by :func:`load_from_local`.
    """
    from mmengine.logging import print_log
    from mmengine.runner import checkpoint as mm_ckpt
    prefix = 'open-mmlab://' if filename.startswith('open-mmlab://') \
        else 'openmmlab://'
    model_name = filename[len(prefix):]
    deprecated = mm_ckpt.get_deprecated_model_names()
    if model_name in deprecated:
        print_log(f'{prefix}{model_name} is deprecated in favor of '
                  f'{prefix}{deprecated[model_name]}', logger='current',
                  level=logging.WARNING)
        model_name = deprecated[model_name]
    model_urls = mm_ckpt.get_external_models()
    if model_name not in model_urls:
        raise KeyError(f'"{filename}": no model named "{model_name}" in '
                       "mmengine's open-mmlab model table")
    model_url = model_urls[model_name]
    if model_url.startswith(('http://', 'https://')):
        return mm_ckpt.load_from_http(model_url, map_location=map_location)
    return load_from_local(osp.join(mm_ckpt._get_mmengine_home(), model_url),
                           map_location)


def atomic_write_bytes(data, path):
    """Write ``data`` to ``path`` so that ``path`` is absent/old or complete.

    The bytes go to ``.<name>.<random>.partial`` in the same folder, are
    flushed and ``fsync``'d, and the file is renamed over ``path`` with
    :func:`os.replace`; then the folder is ``fsync``'d. ``.partial`` files of
    the same name left by a killed writer are removed first. The folder is
    created if needed (as ``LocalBackend.put`` does).
    """
    path = os.fspath(path)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    remove_stale_temps(path, PARTIAL_SUFFIX)
    atomic_write(path, data, fsync=True, temp_suffix=PARTIAL_SUFFIX)


_MMENGINE_SAVE_CHECKPOINT = None


def save_checkpoint(checkpoint, filename, file_client_args=None,
                    backend_args=None):
    """mmengine's ``save_checkpoint``, atomic for local files.

    For a local ``filename`` (no ``file_client_args``, a ``LocalBackend``)
    the bytes are exactly those mmengine writes (``torch.save`` into memory)
    and are written with :func:`atomic_write_bytes`; anything else is passed
    to mmengine's own ``save_checkpoint``.
    """
    if file_client_args is None and not str(filename).startswith('pavi://'):
        from mmengine.fileio import LocalBackend, get_file_backend
        backend = get_file_backend(filename, backend_args=backend_args)
        if isinstance(backend, LocalBackend):
            with io.BytesIO() as buffer:
                torch.save(checkpoint, buffer)
                atomic_write_bytes(buffer.getvalue(), filename)
            return
    return _MMENGINE_SAVE_CHECKPOINT(
        checkpoint, filename, file_client_args=file_client_args,
        backend_args=backend_args)


_MMENGINE_FIND_LATEST_CHECKPOINT = None


def find_latest_checkpoint(path):
    """mmengine's ``find_latest_checkpoint`` that refuses a broken record.

    Returns what ``<path>/last_checkpoint`` names (``None`` without one).

    Raises:
        CheckpointError: ``last_checkpoint`` is empty or names a local file
            that does not exist; the message lists the ``.pth`` files in
            ``path`` that load as checkpoints were saved there.
    """
    last = _MMENGINE_FIND_LATEST_CHECKPOINT(path)
    if last is None or '://' in last or (last and osp.isfile(last)):
        return last
    record = osp.join(path, 'last_checkpoint')
    present = sorted(name for name in os.listdir(path)
                     if name.endswith('.pth') and not name.startswith('.'))
    what = 'is empty' if not last else \
        f'names "{last}", which does not exist'
    raise CheckpointError(
        f'Cannot auto-resume: "{record}" {what} (the file was deleted or '
        'moved, or a run was killed while writing last_checkpoint). '
        'Checkpoints in '
        f'"{path}": {present or "none"}; resume from one explicitly '
        '(load_from=<file> with resume=True, tools/train.py --resume <file>) '
        'or fix or delete last_checkpoint.', record)


# Scheme prefixes re-registered with CheckpointLoader, and mmengine's loaders
# left in place because they load through ``load_url`` (patched).
_OWN_SCHEMES = {
    '': 'load_from_local',
    'pavi://': 'load_from_pavi',
    r'(\S+\:)?s3://': 'load_from_ceph',
    r'(\S+\:)?petrel://': 'load_from_ceph',
    'open-mmlab://': 'load_from_openmmlab',
    'openmmlab://': 'load_from_openmmlab',
}
_VIA_LOAD_URL = ('load_from_http', 'load_from_torchvision', 'load_from_mmcls')


def _patch_mmengine_loading():
    import mmengine.utils.dl_utils as dl_utils
    import mmengine.utils.dl_utils.hub as dl_hub
    from mmengine.runner import CheckpointLoader
    from mmengine.runner import checkpoint as mm_ckpt

    own = globals()
    for name in set(_OWN_SCHEMES.values()):
        setattr(mm_ckpt, name, own[name])
    for prefix, name in _OWN_SCHEMES.items():
        CheckpointLoader.register_scheme(prefixes=prefix, loader=own[name],
                                         force=True)
    for module in (mm_ckpt, dl_utils, dl_hub):
        module.load_url = load_url

    known = {own[name] for name in _OWN_SCHEMES.values()}
    known.update(getattr(mm_ckpt, name) for name in _VIA_LOAD_URL)
    unknown = sorted(prefix for prefix, loader in
                     CheckpointLoader._schemes.items() if loader not in known)
    if unknown:
        warnings.warn(
            'sgdc_mmseg does not know the checkpoint loaders of the schemes '
            f'{unknown}; they may unpickle unsafely. Load only files you '
            'trust through them.')


def _patch_mmengine_saving():
    import mmengine.runner as mm_runner
    import mmengine.runner.runner as mm_runner_mod
    from mmengine.runner import checkpoint as mm_ckpt
    global _MMENGINE_SAVE_CHECKPOINT, _MMENGINE_FIND_LATEST_CHECKPOINT
    if _MMENGINE_SAVE_CHECKPOINT is None:
        _MMENGINE_SAVE_CHECKPOINT = mm_ckpt.save_checkpoint
        _MMENGINE_FIND_LATEST_CHECKPOINT = mm_ckpt.find_latest_checkpoint
    for module in (mm_ckpt, mm_runner, mm_runner_mod):
        module.save_checkpoint = save_checkpoint
        module.find_latest_checkpoint = find_latest_checkpoint


def install_safe_checkpoint_loading():
    """Allow-list mmengine's globals, make every mmengine checkpoint loader
    safe and local checkpoint saving atomic (see the module docstring).

    Safe to call more than once.
    """
    global _INSTALLED
    if _INSTALLED:
        return
    _patch_mmengine_saving()
    # failed downloads of pretrained backbones name the ways out
    from .pretrained import install_pretrained_errors
    install_pretrained_errors()
    if not hasattr(torch.serialization, 'add_safe_globals'):
        # torch < 2.4 cannot extend its weights_only unpickler; its
        # torch.load defaults to full unpickling, mmengine's loader is kept.
        warnings.warn(
            f'torch {torch.__version__} cannot allow-list globals for '
            'weights_only loading; checkpoints are loaded by mmengine as '
            'before (full unpickling: load only files you trust). '
            'Upgrade to torch >= 2.6 for safe loading.')
        _INSTALLED = True
        return
    torch.serialization.add_safe_globals(safe_globals_for_mmengine())
    _patch_mmengine_loading()
    _INSTALLED = True
