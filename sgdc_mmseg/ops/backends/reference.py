"""The ``'reference'`` backend of :func:`sgdc_mmseg.ops.sgdc_aggregate`:
the unfold form of the paper's code.

It writes a ``C * k**2 * H * W`` tensor (``F.unfold``), so it is kept for
checking and export, not for training. It is plain PyTorch, differentiable
to any order, and is the form the operator decomposes into for ONNX
(:mod:`sgdc_mmseg.ops.export`) and differentiates its backward through
(double backward, :mod:`sgdc_mmseg.ops.aggregate_op`). It runs wherever
PyTorch runs ``unfold``, ``softmax`` and ``einsum``.
"""
import torch
import torch.nn.functional as F

from ..checks import CAN_RUN

NAME = 'reference'


def can_run(device, dtype):
    """Always (any device, any floating dtype: plain PyTorch ops)."""
    return CAN_RUN


def sgdc_aggregate_reference(x, kernel_logits, kernel_size, num_heads):
    """Unfold implementation (materialises the k*k neighbourhood copies);
    the arguments as :func:`sgdc_mmseg.ops.sgdc_aggregate`, unchecked."""
    b, c, h, w = x.shape
    area = kernel_size * kernel_size
    patches = F.unfold(x, kernel_size=kernel_size, padding=kernel_size // 2)
    patches = patches.reshape(b, num_heads, c // num_heads, area, h * w)
    weights = kernel_logits.reshape(b, num_heads, area, h * w).softmax(dim=2)
    out = torch.einsum('bhckl,bhkl->bhcl', patches, weights)
    return out.reshape(b, c, h, w)
