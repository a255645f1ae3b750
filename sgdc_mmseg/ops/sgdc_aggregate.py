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
  (the same accumulation run in reverse). It keeps the padded input and the
  kernel weights: ``O(C*H*W + heads*k*k*H*W)`` instead of ``O(C*k*k*H*W)``.
  Default (``'auto'``) on CPU, and on CUDA when Triton is missing.
* ``'triton'``: fused Triton kernels (softmax fused in, fp32 accumulation)
  for CUDA tensors in fp32, fp16 and bf16; see
  :mod:`sgdc_mmseg.ops.sgdc_aggregate_triton`. Default (``'auto'``) on CUDA
  when Triton is installed. Under ``TRITON_INTERPRET=1`` it also runs on CPU
  tensors (for testing only).
"""
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

BACKENDS = ('reference', 'shift', 'triton')


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


class _ShiftAggregate(torch.autograd.Function):
    """Forward and backward by shifted in-place accumulation.

    Saves the zero-padded input and the softmaxed kernels only.
    """

    @staticmethod
    def forward(ctx, x, kernel_logits, kernel_size, num_heads):
        b, c, h, w = x.shape
        r = kernel_size // 2
        weights = kernel_logits.reshape(b, num_heads, kernel_size**2, h,
                                        w).softmax(dim=2)
        padded = F.pad(x, (r, r, r, r)).reshape(b, num_heads, c // num_heads,
                                                h + 2 * r, w + 2 * r)
        out = x.new_zeros(b, num_heads, c // num_heads, h, w)
        for tap in range(kernel_size**2):
            dy, dx = divmod(tap, kernel_size)
            out.addcmul_(padded[..., dy:dy + h, dx:dx + w],
                         weights[:, :, tap:tap + 1])
        ctx.save_for_backward(padded, weights)
        ctx.kernel_size = kernel_size
        return out.reshape(b, c, h, w)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        padded, weights = ctx.saved_tensors
        k = ctx.kernel_size
        r = k // 2
        b, heads, cph, hp, wp = padded.shape
        h, w = hp - 2 * r, wp - 2 * r
        grad_out = grad_out.reshape(b, heads, cph, h, w)
        grad_x = grad_logits = None
        if ctx.needs_input_grad[0]:
            grad_padded = torch.zeros_like(padded)
        if ctx.needs_input_grad[1]:
            grad_w = torch.empty_like(weights)
        for tap in range(k * k):
            dy, dx = divmod(tap, k)
            if ctx.needs_input_grad[0]:
                grad_padded[..., dy:dy + h, dx:dx + w].addcmul_(
                    grad_out, weights[:, :, tap:tap + 1])
            if ctx.needs_input_grad[1]:
                torch.sum(grad_out * padded[..., dy:dy + h, dx:dx + w],
                          dim=2, out=grad_w[:, :, tap])
        if ctx.needs_input_grad[0]:
            grad_x = grad_padded[..., r:r + h, r:r + w].reshape(
                b, heads * cph, h, w)
        if ctx.needs_input_grad[1]:
            # softmax backward over the taps
            dot = (grad_w * weights).sum(dim=2, keepdim=True)
            grad_logits = (weights * (grad_w - dot)).reshape(
                b, heads * k * k, h, w)
        return grad_x, grad_logits, None, None


def sgdc_aggregate_shift(x, kernel_logits, kernel_size, num_heads):
    """Shift-and-accumulate implementation (no k*k copies of ``x``)."""
    return _ShiftAggregate.apply(x, kernel_logits, kernel_size, num_heads)


def select_backend(x):
    """The backend ``'auto'`` picks for ``x``: ``'triton'`` for a CUDA
    tensor when Triton is importable, ``'shift'`` otherwise."""
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
