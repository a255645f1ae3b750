"""Per-pixel dynamic-kernel aggregation of SGDC (Structure-Guided Dynamic
Convolution, MIDL 2026, arXiv 2602.23496): the dispatcher.

For every pixel and head, a softmax over ``kernel_size**2`` logits gives a
kernel that is shared by the channels of that head and weights the pixel's
zero-padded ``k x k`` neighbourhood. This package knows nothing of mmseg.

:func:`sgdc_aggregate` applies the shared checks
(:mod:`sgdc_mmseg.ops.checks`: sizes, one device, the promoted floating
dtype), resolves the backend, asks it whether it can run
(``can_run(device, dtype)``, an error with its reason when it cannot) and
calls it. Backends (:mod:`sgdc_mmseg.ops.backends`, one module each):

* ``'reference'``: the unfold form of the paper's code, plain PyTorch
  (``O(C*k*k*H*W)`` memory; for checking and export).
* ``'shift'``: shift and accumulate with its own backward
  (``O(C*H*W + heads*k*k*H*W)``); any device.
* ``'cpp'``: a fused C++ kernel for CPU tensors (float32, float64), built
  by PyTorch on first use and cached (needs a C++ compiler and ninja).
* ``'triton'``: fused Triton kernels for CUDA tensors (under
  ``TRITON_INTERPRET=1`` also CPU tensors, for testing only).

``'shift'``, ``'cpp'`` and ``'triton'`` run behind the ``torch.library`` operator
``torch.ops.sgdc_mmseg.sgdc_aggregate`` (:mod:`sgdc_mmseg.ops.aggregate_op`).

``backend='auto'`` (:func:`select_backend`) is ``'triton'`` for CUDA tensors
when the Triton backend can run on them, ``'cpp'`` for CPU tensors when
the C++ kernel builds and takes their dtype, and ``'shift'`` otherwise; the
environment variable ``SGDC_AGGREGATE_BACKEND`` overrides it for every call.
It is resolved in Python before the operator is called, so a compiled or
exported graph holds the backend chosen when it was traced (``'cpp'`` or
``'shift'`` for CPU tensors).
"""
import os

from .aggregate_op import OP_BACKENDS, OP_NAMESPACE, run_aggregate_op
from .backends import BACKEND_NAMES, get_backend
from .backends.reference import sgdc_aggregate_reference
from .checks import check_aggregate_args, promote_inputs

__all__ = ['BACKENDS', 'BACKEND_ENV', 'OP_BACKENDS', 'OP_NAMESPACE',
           'sgdc_aggregate', 'sgdc_aggregate_reference',
           'sgdc_aggregate_shift', 'select_backend']

BACKENDS = BACKEND_NAMES
# Overrides what backend='auto' picks, for every call (e.g. to fall back to
# 'shift' on a GPU where the Triton kernels fail, or to time backends).
BACKEND_ENV = 'SGDC_AGGREGATE_BACKEND'


def select_backend(x):
    """The backend ``'auto'`` picks for (promoted) ``x``: the one named by
    the environment variable ``SGDC_AGGREGATE_BACKEND`` when it is set, else
    ``'triton'`` for a CUDA tensor when the Triton backend can run on it
    ``'cpp'`` for a CPU tensor when the C++ kernel can run on it (built,
    float32 or float64) and ``'shift'`` otherwise."""
    forced = os.environ.get(BACKEND_ENV, '').strip()
    if forced:
        if forced not in BACKENDS:
            raise ValueError(f'environment variable {BACKEND_ENV}={forced!r}'
                             f' is not one of {BACKENDS}')
        return forced
    if x.is_cuda and get_backend('triton').can_run(x.device, x.dtype):
        return 'triton'
    if x.device.type == 'cpu' and get_backend('cpp').can_run(x.device,
                                                             x.dtype):
        return 'cpp'
    return 'shift'


def sgdc_aggregate(x, kernel_logits, kernel_size, num_heads, backend='auto'):
    """Aggregate each pixel's neighbourhood with per-pixel softmax kernels.

    Args:
        x (Tensor): features ``[B, C, H, W]`` (already layer-normed in SGDC).
        kernel_logits (Tensor): ``[B, num_heads * kernel_size**2, H, W]``,
            before the softmax; channel ``h * k*k + i`` is tap ``i``
            (row-major) of head ``h``. On the device of ``x``; both
            floating point, computed in their promoted dtype (every
            backend).
        kernel_size (int): odd kernel size ``k``.
        num_heads (int): heads; head ``h`` owns channels
            ``[h*C/heads, (h+1)*C/heads)``.
        backend (str): ``'auto'`` (:func:`select_backend`) or one of
            :data:`BACKENDS`. ``'shift'``, ``'cpp'`` and ``'triton'`` run the
            ``sgdc_mmseg::sgdc_aggregate`` operator, ``'reference'`` the
            plain-PyTorch unfold form.

    Returns:
        Tensor: ``[B, C, H, W]`` in the promoted dtype.

    Raises:
        ValueError: bad sizes, an unknown backend, inputs on two devices or
            not floating point.
        RuntimeError, TypeError: the backend asked for cannot run on these
            inputs (its ``can_run`` reason).
    """
    check_aggregate_args(x, kernel_logits, kernel_size, num_heads)
    if backend != 'auto' and backend not in BACKENDS:
        raise ValueError(
            f'unknown backend {backend!r}; choose "auto" or one of {BACKENDS}')
    x, kernel_logits = promote_inputs(x, kernel_logits)
    if backend == 'auto':
        backend = select_backend(x)
    module = get_backend(backend)
    module.can_run(x.device, x.dtype).require()
    if backend == 'reference':
        return sgdc_aggregate_reference(x, kernel_logits, kernel_size,
                                        num_heads)
    if module.CONTIGUOUS_INPUTS:
        x, kernel_logits = x.contiguous(), kernel_logits.contiguous()
    return run_aggregate_op(x, kernel_logits, kernel_size, num_heads,
                            backend)


def sgdc_aggregate_shift(x, kernel_logits, kernel_size, num_heads):
    """:func:`sgdc_aggregate` with ``backend='shift'`` (no k*k copies of
    ``x``)."""
    return sgdc_aggregate(x, kernel_logits, kernel_size, num_heads,
                          backend='shift')
