"""Per-pixel dynamic-kernel aggregation of SGDC (Structure-Guided Dynamic
Convolution, MIDL 2026, arXiv 2602.23496).

For every pixel and head, a softmax over ``kernel_size**2`` logits gives a
kernel that is shared by the channels of that head and weights the pixel's
zero-padded ``k x k`` neighbourhood. This module knows nothing of mmseg.

Backends behind :func:`sgdc_aggregate`:

* ``'reference'``: the unfold form of the paper's code. It writes a
  ``C * k**2 * H * W`` tensor and is kept for checking and export.
* ``'shift'``: accumulates the ``k * k`` shifted views of the zero-padded
  input, weighted by the softmaxed kernels, in place, with its own backward
  (the same accumulation run in reverse), a few rows at a time so each
  chunk is reused from cache by all taps. It keeps the padded input and the
  kernel weights: ``O(C*H*W + heads*k*k*H*W)`` instead of ``O(C*k*k*H*W)``.
  Default (``'auto'``) on CPU, and on CUDA when Triton is missing.
* ``'triton'``: fused Triton kernels (softmax fused in, fp32 accumulation)
  for CUDA tensors in fp32, fp16 and bf16; see
  :mod:`sgdc_mmseg.ops.sgdc_aggregate_triton`. Default (``'auto'``) on CUDA
  when Triton is installed. Under ``TRITON_INTERPRET=1`` it also runs on CPU
  tensors (for testing only).
"""
import os

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

BACKENDS = ('reference', 'shift', 'triton')
# Overrides what backend='auto' picks, for every call (e.g. to fall back to
# 'shift' on a GPU where the Triton kernels fail, or to time backends).
BACKEND_ENV = 'SGDC_AGGREGATE_BACKEND'


def check_aggregate_args(x, kernel_logits, kernel_size, num_heads):
    """Validate the arguments of :func:`sgdc_aggregate` with clear errors."""
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(
            f'kernel_size must be a positive odd int, got {kernel_size!r}')
    if not isinstance(num_heads, int) or num_heads < 1:
        raise ValueError(f'num_heads must be a positive int, got {num_heads!r}')
    if x.dim() != 4:
        raise ValueError(f'x must be [B, C, H, W], got shape {tuple(x.shape)}')
    b, c, h, w = x.shape
    if c % num_heads != 0:
        raise ValueError(
            f'channels ({c}) must be divisible by num_heads ({num_heads})')
    expected = (b, num_heads * kernel_size**2, h, w)
    if tuple(kernel_logits.shape) != expected:
        raise ValueError(
            f'kernel_logits must have shape {expected} '
            f'(B, num_heads*kernel_size**2, H, W), got '
            f'{tuple(kernel_logits.shape)}')


def sgdc_aggregate_reference(x, kernel_logits, kernel_size, num_heads):
    """Unfold implementation (materialises the k*k neighbourhood copies)."""
    b, c, h, w = x.shape
    area = kernel_size * kernel_size
    patches = F.unfold(x, kernel_size=kernel_size, padding=kernel_size // 2)
    patches = patches.reshape(b, num_heads, c // num_heads, area, h * w)
    weights = kernel_logits.reshape(b, num_heads, area, h * w).softmax(dim=2)
    out = torch.einsum('bhckl,bhkl->bhcl', patches, weights)
    return out.reshape(b, c, h, w)


#: Elements of ``x`` (all channels) per chunk of the shift backend's loops:
#: 1 Mi values (4 MiB in fp32), so that a chunk of the input, the output and
#: the gradient stay in the last-level cache for all ``k*k`` taps while each
#: of the ``k*k`` per-tap operations stays large enough to be split over the
#: threads without its start-up cost dominating. Measured on 2 cores
#: (B=2, C=256, 128x128, k=7, fp32): forward+backward 1.6x faster than one
#: chunk (whole tensors); 4x smaller or 2x larger chunks were slower.
SHIFT_CHUNK_ELEMENTS = 1 << 20


def _chunks(b, c, h, w, target=None):
    """``(batch slice, row start, row end)`` chunks of ``[b, c, h, w]`` with
    about ``target`` elements each: several rows of all samples and
    channels, or, when that is too large, one row of as many samples as
    fit (at least one)."""
    target = SHIFT_CHUNK_ELEMENTS if target is None else target
    row = c * w
    if b * row <= target:
        per_batch, rows = max(1, b), max(1, target // max(1, b * row))
    else:
        per_batch, rows = max(1, target // row), 1
    for b0 in range(0, b, per_batch):
        for i0 in range(0, h, rows):
            yield slice(b0, min(b, b0 + per_batch)), i0, min(h, i0 + rows)


class _ShiftAggregate(torch.autograd.Function):
    """Forward and backward by shifted accumulation, chunk by chunk.

    Every loop runs over chunks of a few rows (:func:`_chunks`) and, inside
    a chunk, over the ``k*k`` taps, so the chunk's data is reused from cache
    by all taps instead of streaming the whole tensor ``k*k`` times.

    * forward: ``out[c, p] = sum_t w_t[p] * xpad[c, p + t]``
      (``mul`` for the first tap, ``addcmul_`` for the others).
    * grad x: the transposed accumulation, ``gpad[c, p + t] += w_t[p] *
      g[c, p]``, into a zero-padded buffer that is cropped at the end.
    * grad weights: ``gw_t[p] = sum_{c in head} g[c, p] * xpad[c, p + t]``
      through one chunk-sized buffer; then the softmax backward, in place.

    Saves the zero-padded input and the softmaxed kernels only:
    ``O(C*H*W + heads*k*k*H*W)``; the backward's temporaries are of the
    same order (padded gradient, kernel gradient) plus one chunk.
    """

    @staticmethod
    def forward(ctx, x, kernel_logits, kernel_size, num_heads):
        b, c, h, w = x.shape
        k, r = kernel_size, kernel_size // 2
        weights = kernel_logits.reshape(b, num_heads, k * k, h,
                                        w).softmax(dim=2)
        # contiguous: a channels-last x would give a channels-last padded
        # copy, whose shifted row slices are slow to read
        padded = F.pad(x, (r, r, r, r)).contiguous().view(
            b, num_heads, c // num_heads, h + 2 * r, w + 2 * r)
        out = x.new_empty(b, num_heads, c // num_heads, h, w)
        for bs, i0, i1 in _chunks(b, c, h, w):
            acc = out[bs, :, :, i0:i1]
            # [b, heads, 1, k*k, rows, w]: tap t broadcasts over channels
            wt = weights[bs, :, :, i0:i1].unsqueeze(2)
            for tap in range(k * k):
                dy, dx = divmod(tap, k)
                src = padded[bs, :, :, i0 + dy:i1 + dy, dx:dx + w]
                if tap == 0:
                    torch.mul(src, wt[:, :, :, 0], out=acc)
                else:
                    acc.addcmul_(src, wt[:, :, :, tap])
        ctx.save_for_backward(padded, weights)
        ctx.kernel_size = k
        return out.view(b, c, h, w)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        padded, weights = ctx.saved_tensors
        k = ctx.kernel_size
        r = k // 2
        b, heads, cph, hp, wp = padded.shape
        h, w = hp - 2 * r, wp - 2 * r
        need_x, need_logits = ctx.needs_input_grad[:2]
        g = grad_out.contiguous().view(b, heads, cph, h, w)
        grad_x = grad_logits = None
        if need_x:
            grad_padded = torch.zeros_like(padded)
        if need_logits:
            grad_w = torch.empty_like(weights)
            buf = None
        for bs, i0, i1 in _chunks(b, heads * cph, h, w):
            gc = g[bs, :, :, i0:i1]
            wt = weights[bs, :, :, i0:i1].unsqueeze(2)
            if need_logits:
                if buf is None:
                    buf = torch.empty_like(gc)
                prod = buf[:gc.shape[0], :, :, :i1 - i0]
            for tap in range(k * k):
                dy, dx = divmod(tap, k)
                rows = slice(i0 + dy, i1 + dy)
                if need_x:
                    grad_padded[bs, :, :, rows, dx:dx + w].addcmul_(
                        gc, wt[:, :, :, tap])
                if need_logits:
                    torch.mul(gc, padded[bs, :, :, rows, dx:dx + w],
                              out=prod)
                    torch.sum(prod, dim=2, out=grad_w[bs, :, tap, i0:i1])
        if need_x:
            grad_x = grad_padded[..., r:r + h, r:r + w].reshape(
                b, heads * cph, h, w)
        if need_logits:
            # softmax backward over the taps, in place:
            # w * (gw - sum_s w_s gw_s)
            dot = (grad_w * weights).sum(dim=2, keepdim=True)
            grad_logits = grad_w.sub_(dot).mul_(weights).view(
                b, heads * k * k, h, w)
        return grad_x, grad_logits, None, None


def sgdc_aggregate_shift(x, kernel_logits, kernel_size, num_heads):
    """Shift-and-accumulate implementation (no k*k copies of ``x``).

    ``x`` and ``kernel_logits`` are computed in their promoted floating
    dtype (e.g. an fp32 ``x`` with bf16 logits under autocast gives fp32).
    """
    if x.device != kernel_logits.device:
        raise ValueError(
            f'x and kernel_logits must be on the same device, got '
            f'{x.device} and {kernel_logits.device}')
    dtype = torch.promote_types(x.dtype, kernel_logits.dtype)
    if not dtype.is_floating_point:
        raise ValueError(
            f'x and kernel_logits must be floating point, got {x.dtype} '
            f'and {kernel_logits.dtype}')
    return _ShiftAggregate.apply(x.to(dtype), kernel_logits.to(dtype),
                                 kernel_size, num_heads)


def select_backend(x):
    """The backend ``'auto'`` picks for ``x``: the one named by the
    environment variable ``SGDC_AGGREGATE_BACKEND`` when it is set, else
    ``'triton'`` for a CUDA tensor when Triton is importable and ``'shift'``
    otherwise."""
    forced = os.environ.get(BACKEND_ENV, '').strip()
    if forced:
        if forced not in BACKENDS:
            raise ValueError(f'environment variable {BACKEND_ENV}={forced!r}'
                             f' is not one of {BACKENDS}')
        return forced
    if x.is_cuda:
        from .sgdc_aggregate_triton import triton_available
        if triton_available():
            return 'triton'
    return 'shift'


def sgdc_aggregate(x, kernel_logits, kernel_size, num_heads, backend='auto'):
    """Aggregate each pixel's neighbourhood with per-pixel softmax kernels.

    Args:
        x (Tensor): features ``[B, C, H, W]`` (already layer-normed in SGDC).
        kernel_logits (Tensor): ``[B, num_heads * kernel_size**2, H, W]``,
            before the softmax; channel ``h * k*k + i`` is tap ``i``
            (row-major) of head ``h``.
        kernel_size (int): odd kernel size ``k``.
        num_heads (int): heads; head ``h`` owns channels
            ``[h*C/heads, (h+1)*C/heads)``.
        backend (str): ``'auto'`` or one of :data:`BACKENDS`.

    Returns:
        Tensor: ``[B, C, H, W]``.
    """
    check_aggregate_args(x, kernel_logits, kernel_size, num_heads)
    if backend == 'auto':
        backend = select_backend(x)
    if backend == 'reference':
        return sgdc_aggregate_reference(x, kernel_logits, kernel_size,
                                        num_heads)
    if backend == 'shift':
        return sgdc_aggregate_shift(x, kernel_logits, kernel_size, num_heads)
    if backend == 'triton':
        from .sgdc_aggregate_triton import sgdc_aggregate_triton
        return sgdc_aggregate_triton(x, kernel_logits, kernel_size, num_heads)
    raise ValueError(
        f'unknown backend {backend!r}; choose "auto" or one of {BACKENDS}')
