"""Load mmengine checkpoints with torch's safe (``weights_only``) unpickler.

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

On torch < 2.4 (no ``add_safe_globals``) nothing is changed and a warning
says so.

Loading
-------
mmengine's local-file loader (``CheckpointLoader`` scheme ``''``) is replaced
by :func:`load_from_local` which always passes ``weights_only=True`` and turns
refusals into :class:`UntrustedCheckpointError` (naming the file and the
offending globals) and a missing file into :class:`FileNotFoundError` naming
it. Other schemes (http, ``open-mmlab://``...) keep mmengine's loaders, which
call ``torch.load`` with torch's default (``weights_only=True`` on torch >= 2.6)
and so benefit from the same allow-list.
"""
import os
import os.path as osp
import pickle
import re
import warnings

import torch

__all__ = [
    'UntrustedCheckpointError', 'install_safe_checkpoint_loading',
    'load_from_local', 'restricted_getattr', 'restricted_encode',
    'safe_globals_for_mmengine'
]

# Statistics methods that HistoryBuffer registers itself; pickled as
# ``getattr(HistoryBuffer, name)``.
HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')
ALLOWED_ENCODINGS = ('latin1', 'latin-1')
# Fixed-size numeric dtypes whose dtype classes may have their state rebuilt.
NUMERIC_DTYPES = ('?', 'b', 'B', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f2', 'f4',
                  'f8')

_INSTALLED = False


class UntrustedCheckpointError(pickle.UnpicklingError):
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


def _offending_globals(filename, message):
    """Names of the globals that made the safe unpickler refuse ``filename``.

    Combines a static scan of the pickle (for zip checkpoints) with what the
    unpickler's own message names.
    """
    names = []
    try:
        names.extend(
            sorted(torch.serialization.get_unsafe_globals_in_checkpoint(
                filename)))
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


def load_from_local(filename, map_location=None):
    """Load a local checkpoint with ``torch.load(..., weights_only=True)``.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UntrustedCheckpointError: the file needs a global outside the
            allow-list (see the module docstring); nothing in it was run.
    """
    filename = osp.expanduser(os.fspath(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'checkpoint file "{filename}" can not be found.')
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except pickle.UnpicklingError as err:
        message = str(err)
        offending = _offending_globals(filename, message)
        raise UntrustedCheckpointError(
            f'Refused to load checkpoint "{filename}": it needs '
            f'{", ".join(offending) or "an unknown global"}, which is not in '
            'the allow-list of sgdc_mmseg\'s safe checkpoint loader '
            '(mmengine checkpoints never need it). The file is not trusted '
            'and nothing in it was executed.'
            + _unpickler_reason(message)) from None


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
    reason = ' '.join(keep)[:400]
    return f' Unpickler said: {reason}' if reason else ''


def install_safe_checkpoint_loading():
    """Allow-list mmengine's globals and register :func:`load_from_local`.

    Safe to call more than once.
    """
    global _INSTALLED
    if _INSTALLED:
        return
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
    from mmengine.runner import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local,
                                     force=True)
    _INSTALLED = True
