"""The ``'cpp'`` backend of :func:`sgdc_mmseg.ops.sgdc_aggregate` (SGDC,
Structure-Guided Dynamic Convolution, MIDL 2026, arXiv 2602.23496): a fused
C++ kernel for CPU tensors in float32 and float64, built by PyTorch on first
use and cached; ``'auto'`` picks it for CPU tensors when it builds.

The kernel (``sgdc_mmseg/ops/csrc/sgdc_aggregate_cpu.cpp``) does the whole
forward in one pass and the whole backward in another. One task is one
image row of one (sample, head); ``at::parallel_for`` gives each thread a
contiguous range of tasks, and rows are independent, so there are no
reductions or atomics:

* forward: the row's softmax over the ``k*k`` taps (a branch-free
  polynomial ``exp`` in float32, exactly 0 below ``e^-87``, NaN kept),
  written to the saved kernels; then the head's channels four at a time,
  each tap's kernel vector loaded once for four channels and 2 x 4 vector
  accumulators in registers, reading the ``k`` input rows around the
  output row from a per-thread ring of zero-padded rows (moving to the
  next row copies one new row per channel, so each input row is read from
  memory about once and no padded copy of the tensor is made);
* backward: the gradient of ``x`` in the gather form (the same loop over
  rings of the output gradient's rows and of the kernels' rows) and the
  gradient of the logits (two tap rows of ``k`` vector accumulators per
  pass over the head's channels, then the softmax backward) in the same
  task.

Inner loops are 32-byte vectors of the GCC/Clang vector extension (AVX2 with
``-mavx2``). It saves the softmaxed kernels for the backward, like
``'shift'`` (:func:`saved_spec`): ``O(C*H*W + heads*k*k*H*W)``.
Measured against its roofline bound in ``docs/benchmarks.md``
(``--only bound``).

Building: ``torch.utils.cpp_extension.load`` compiles the source with the
machine's C++ compiler and ninja into PyTorch's extension cache
(``TORCH_EXTENSIONS_DIR``, default ``~/.cache/torch_extensions``) under a
name that holds a digest of the source, the flags and the torch version, so
a changed source or another torch builds anew and the next processes load
the cached library (about a second). ``-O3`` plus the vector ISA that
PyTorch itself dispatches to on this CPU
(``torch.backends.cpu.get_cpu_capability()``: AVX2+FMA or AVX-512) and
OpenMP, which ``at::parallel_for`` uses. ``tools/install.py`` builds it once
at install time. When the build fails (no compiler or ninja) :func:`can_run`
says why, a warning names the reason once, and ``'auto'`` uses ``'shift'``;
``SGDC_AGGREGATE_CPP=0`` skips the build altogether.

Interface of an operator backend (as :mod:`.shift` and :mod:`.triton`):
:func:`can_run`, :func:`saved_spec`, :func:`forward`, :func:`backward`.
"""
import hashlib
import os
import os.path as osp
import warnings

import torch

from ..checks import CAN_RUN, Verdict

NAME = 'cpp'
#: The kernel indexes dense ``[B, C, H, W]`` planes.
CONTIGUOUS_INPUTS = True
SUPPORTED_DTYPES = (torch.float32, torch.float64)
#: The C++ source of the kernel.
SOURCE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'csrc',
                  'sgdc_aggregate_cpu.cpp')
#: ``SGDC_AGGREGATE_CPP=0`` disables building (and so this backend).
BUILD_ENV = 'SGDC_AGGREGATE_CPP'

#: Compiler flags per ``torch.backends.cpu.get_cpu_capability()``.
ISA_FLAGS = {
    'AVX512': ('-mavx512f', '-mavx512vl', '-mavx512bw', '-mavx512dq',
               '-mavx2', '-mfma'),
    'AVX2': ('-mavx2', '-mfma'),
}
BASE_FLAGS = ('-O3', '-fno-trapping-math', '-fopenmp')

_state = {}


def build_flags():
    """``(capability, compiler flags)`` for this CPU."""
    capability = torch.backends.cpu.get_cpu_capability()
    return capability, BASE_FLAGS + ISA_FLAGS.get(capability, ())


def extension_name():
    """The cached extension's name: capability plus a digest of the source,
    the flags and the torch version."""
    capability, flags = build_flags()
    digest = hashlib.sha256()
    with open(SOURCE, 'rb') as f:
        digest.update(f.read())
    digest.update(' '.join(flags).encode())
    digest.update(torch.__version__.encode())
    return (f'sgdc_mmseg_aggregate_cpu_{capability.lower()}_'
            f'{digest.hexdigest()[:12]}')


def load(verbose=False):
    """The compiled extension module (built first if not cached); raises
    what the build raised. The result (or error) is kept for the process."""
    if 'module' in _state:
        return _state['module']
    if 'error' in _state:
        raise _state['error']
    if os.environ.get(BUILD_ENV, '').strip() == '0':
        _state['error'] = RuntimeError(
            f'the cpp backend is disabled by {BUILD_ENV}=0')
        raise _state['error']
    try:
        from torch.utils import cpp_extension
        _, flags = build_flags()
        module = cpp_extension.load(
            name=extension_name(), sources=[SOURCE],
            extra_cflags=list(flags), extra_ldflags=['-fopenmp'],
            verbose=verbose)
    except Exception as exc:  # no compiler, no ninja, a compile error
        _state['error'] = exc
        warnings.warn(
            'sgdc_aggregate: the C++ CPU kernel could not be built '
            f'({type(exc).__name__}: {str(exc).strip()[-300:]}); CPU tensors '
            "use the slower 'shift' backend", RuntimeWarning, stacklevel=3)
        raise
    _state['module'] = module
    return module


@torch.compiler.assume_constant_result
def extension_ready() -> bool:
    """Whether the extension is built and loaded (builds it on the first
    call; a constant for ``torch.compile``)."""
    try:
        load()
    except Exception:
        return False
    return True


def can_run(device, dtype):
    """Whether the kernel runs on promoted inputs of ``device`` and
    ``dtype``: a CPU device (``RuntimeError`` otherwise), float32 or
    float64 (``TypeError``) and the extension built (``RuntimeError`` with
    the build's error)."""
    if torch.device(device).type != 'cpu':
        return Verdict(
            f'the cpp backend of sgdc_aggregate needs CPU tensors, got '
            f"tensors on {device}; use backend='auto', 'triton' or 'shift'")
    if dtype not in SUPPORTED_DTYPES:
        return Verdict(
            'the cpp backend of sgdc_aggregate supports float32 and float64, '
            f"got {dtype}; use backend='shift' or backend='reference'",
            TypeError)
    if not extension_ready():
        err = _state.get('error')
        return Verdict(
            'the cpp backend of sgdc_aggregate could not be built '
            f'({type(err).__name__}: {str(err).strip()[-300:]}); '
            "use backend='shift'")
    return CAN_RUN


def saved_spec(x, kernel_logits, num_heads):
    """``(shape, dtype)`` of what :func:`forward` saves for the backward:
    the softmaxed kernels, like ``kernel_logits``."""
    return tuple(kernel_logits.shape), kernel_logits.dtype


def forward(x, kernel_logits, kernel_size, num_heads):
    """``(out, weights)``: the aggregation and the softmaxed kernels (shape
    and dtype of ``kernel_logits``), saved for :func:`backward`."""
    return tuple(load().forward(x, kernel_logits, kernel_size, num_heads))


def backward(grad_out, x, kernel_logits, weights, kernel_size, num_heads,
             need_x, need_logits):
    """``(grad_x, grad_logits)``, an empty tensor for a gradient that is
    not needed."""
    return tuple(load().backward(
        grad_out.to(x.dtype).contiguous(), x, weights.contiguous(),
        kernel_size, num_heads, need_x, need_logits))
