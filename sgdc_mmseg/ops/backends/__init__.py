"""The backends of :func:`sgdc_mmseg.ops.sgdc_aggregate`, one module each.

Every backend module has ``NAME`` and ``can_run(device, dtype)``, which
answers for inputs that passed the shared checks (:mod:`..checks`: one
device, promoted floating dtype) with a :class:`~..checks.Verdict` (false
with the reason when it cannot run). Besides:

* :mod:`.reference`: ``sgdc_aggregate_reference``, the plain-PyTorch unfold
  form (no operator).
* :mod:`.shift`, :mod:`.cpp` and :mod:`.triton`, the operator backends (run inside
  ``torch.ops.sgdc_mmseg.sgdc_aggregate``): ``CONTIGUOUS_INPUTS``,
  ``saved_spec``, ``forward`` and ``backward``.

The reference, shift and cpp modules are imported with this package (the
cpp module builds its C++ extension only when first asked whether it can
run), the Triton module on first use (:func:`get_backend`), so that the
``triton`` package is imported only when the Triton backend is asked
about. No backend
imports the dispatcher or the operator.
"""
from . import cpp, reference, shift

#: Names of the backends, in the order of the documentation.
BACKEND_NAMES = ('reference', 'shift', 'cpp', 'triton')
#: Backends that run behind the ``sgdc_mmseg::sgdc_aggregate`` operator.
OP_BACKEND_NAMES = ('shift', 'cpp', 'triton')


def get_backend(name):
    """The module of backend ``name`` (one of :data:`BACKEND_NAMES`)."""
    if name == 'reference':
        return reference
    if name == 'shift':
        return shift
    if name == 'cpp':
        return cpp
    if name == 'triton':
        # imports the triton package, when installed (an import statement,
        # not a cache: torch.compile traces this function)
        from . import triton
        return triton
    raise ValueError(
        f'unknown backend {name!r}; choose one of {BACKEND_NAMES}')


def can_run(name, device, dtype):
    """The :class:`~..checks.Verdict` of backend ``name`` for promoted
    inputs of ``device`` and ``dtype``."""
    return get_backend(name).can_run(device, dtype)
