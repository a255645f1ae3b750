"""Per-pixel dynamic-kernel aggregation of SGDC (Structure-Guided Dynamic
Convolution, MIDL 2026, arXiv 2602.23496).

For every pixel and head, a softmax over ``kernel_size**2`` logits gives a
kernel that is shared by the channels of that head and weights the pixel's
zero-padded ``k x k`` neighbourhood. This module knows nothing of mmseg.

``backend='reference'`` is the unfold form of the paper's code: it writes a
``C * k**2 * H * W`` tensor and is kept for checking and export.
"""
import torch
import torch.nn.functional as F

BACKENDS = ('reference', )


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
        backend = 'reference'
    if backend == 'reference':
        return sgdc_aggregate_reference(x, kernel_logits, kernel_size,
                                        num_heads)
    raise ValueError(
        f'unknown backend {backend!r}; choose "auto" or one of {BACKENDS}')
