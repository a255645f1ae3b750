"""Pooling-based dynamic-kernel generator: the baseline that SGDC (MIDL 2026,
arXiv 2602.23496) compares against.

It follows the kernel generator of OverLoCK's ContMix (Lou & Yu, "OverLoCK:
An Overview-first-Look-Closely-next ConvNet with Context-Mixing Dynamic
Kernels", CVPR 2025), with the block's own features as the context:

1. the context is adaptive-average-pooled to ``pool_size x pool_size`` region
   centres and projected to keys (1x1 conv);
2. every pixel's query (1x1 conv) is compared with each region centre by a
   scaled dot product, per head, giving ``pool_size**2`` affinities;
3. a 1x1 conv (shared by the heads) maps those affinities to the
   ``kernel_size**2`` kernel logits of that pixel and head.

The result has the same layout as SGDC's kernel logits, so the aggregation,
gates, residual and MLP of the block stay identical.
"""
import torch.nn as nn
import torch.nn.functional as F

from ..utils.arg_checks import check_divisible, check_int


class PooledContextKernel(nn.Module):
    """Kernel logits ``[B, heads*k*k, H, W]`` from average-pooled context.

    Args:
        channels (int): feature channels (divisible by ``num_heads``).
        num_heads (int): heads.
        kernel_size (int): size ``k`` of the generated kernels.
        pool_size (int, optional): side of the pooled context grid (a
            positive int); None (default) means ``kernel_size``.
    """

    def __init__(self, channels, num_heads, kernel_size, pool_size=None):
        super().__init__()
        name = type(self).__name__
        channels = check_int(name, 'channels', channels)
        num_heads = check_int(name, 'num_heads', num_heads)
        check_divisible(name, 'channels', channels, 'num_heads', num_heads)
        kernel_size = check_int(name, 'kernel_size', kernel_size, odd=True)
        pool_size = check_int(name, 'pool_size', pool_size, allow_none=True)
        self.num_heads = num_heads
        self.kernel_size = kernel_size
        self.pool_size = kernel_size if pool_size is None else pool_size
        self.head_dim = channels // num_heads
        self.query = nn.Conv2d(channels, channels, 1)
        self.key = nn.Conv2d(channels, channels, 1)
        self.affinity_to_kernel = nn.Conv2d(self.pool_size**2,
                                            kernel_size**2, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        heads, d, s2 = self.num_heads, self.head_dim, self.pool_size**2
        q = self.query(x).reshape(b, heads, d, h * w)
        ctx = F.adaptive_avg_pool2d(x, self.pool_size)
        k = self.key(ctx).reshape(b, heads, d, s2)
        affinity = (q.transpose(2, 3) @ k) * d**-0.5  # b, heads, hw, s2
        affinity = affinity.permute(0, 1, 3, 2).reshape(b * heads, s2, h, w)
        logits = self.affinity_to_kernel(affinity)
        return logits.reshape(b, heads * self.kernel_size**2, h, w)
