"""Structure-Guided Dynamic Convolution (SGDC) block: "Structure-Guided
Dynamic Convolution for Medical Image Segmentation" (MIDL 2026,
arXiv 2602.23496).

``x' = x + ls1 * DropPath(b1 + b2)`` and ``x'' = x' + ls2 *
DropPath(MLP(LN(x')))`` where, with ``[a1, a2, K] = attn(x + proj(g))``:
``b1 = dwconv3x3(x * sigmoid(a1))`` and ``b2 = aggregate(LN(x), softmax(K))
* sigmoid(a2)``; ``aggregate`` applies per-pixel, per-head ``k x k`` kernels
(no pooling). Parameter names follow the paper's code so its weights load
with ``strict=True``.

``kernel_source`` selects where the kernel logits come from, everything else
being equal: ``'structure'`` (the guidance is added before ``attn``: SGDC),
``'self'`` (``attn(x)`` without guidance) and ``'pool'`` (gates from
``attn(x)``, kernels from :class:`PooledContextKernel`).
"""
import torch
import torch.nn as nn
from mmcv.cnn.bricks import DropPath
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ...ops import BACKENDS, sgdc_aggregate
from ..utils.arg_checks import (check_choice, check_divisible, check_int,
                                check_number)
from .layer_norm_2d import LayerNorm2d
from .pooled_context_kernel import PooledContextKernel

KERNEL_SOURCES = ('structure', 'pool', 'self')
AGGREGATE_BACKENDS = ('auto', ) + tuple(BACKENDS)


def check_sgdc_args(owner, channels, guide_channels, num_heads, kernel_size,
                    mlp_ratio, drop_path, layer_scale_init, kernel_source,
                    pool_size, backend, drop_path_name='drop_path'):
    """Construction checks of :class:`SGDC` (also run by ``SGDCHead`` under
    its own name, with ``drop_path_name='drop_path_rate'``).

    ``num_heads`` a positive int; ``kernel_size`` a positive odd int;
    ``channels`` a positive int divisible by ``num_heads`` (each head owns
    ``channels / num_heads`` channels in the aggregation);
    ``guide_channels`` a positive int for ``kernel_source='structure'``
    (unused, hence unchecked, otherwise); ``mlp_ratio > 0`` with
    ``int(channels * mlp_ratio) >= 1`` hidden channels; ``drop_path`` in
    ``[0, 1)`` (1 drops every sample and divides by 0); ``layer_scale_init``
    finite; ``pool_size`` None or a positive int; ``kernel_source`` in
    :data:`KERNEL_SOURCES`; ``backend`` ``'auto'`` or one of
    :data:`sgdc_mmseg.ops.BACKENDS`.
    """
    check_choice(owner, 'kernel_source', kernel_source, KERNEL_SOURCES)
    channels = check_int(owner, 'channels', channels)
    num_heads = check_int(owner, 'num_heads', num_heads)
    check_divisible(owner, 'channels', channels, 'num_heads', num_heads)
    check_int(owner, 'kernel_size', kernel_size, odd=True)
    if kernel_source == 'structure':
        check_int(owner, 'guide_channels', guide_channels)
    mlp_ratio = check_number(owner, 'mlp_ratio', mlp_ratio, minimum=0,
                             min_inclusive=False)
    if int(channels * mlp_ratio) < 1:
        raise ValueError(
            f'{owner}: mlp_ratio must give at least one hidden channel '
            f'(int(channels * mlp_ratio) >= 1), got {mlp_ratio!r} with '
            f'channels={channels}')
    check_number(owner, drop_path_name, drop_path, minimum=0, maximum=1,
                 max_inclusive=False)
    check_number(owner, 'layer_scale_init', layer_scale_init)
    check_int(owner, 'pool_size', pool_size, allow_none=True)
    check_choice(owner, 'backend', backend, AGGREGATE_BACKENDS)


@MODELS.register_module()
class SGDC(nn.Module):
    """SGDC block.

    Args:
        channels (int): feature channels (``dim`` in the paper's code).
        guide_channels (int): channels of the guidance map. Default 16.
        num_heads (int): kernel heads; channels of a head share a kernel.
        kernel_size (int): odd size of the dynamic kernels. Default 7.
        mlp_ratio (float): hidden width of the MLP relative to ``channels``.
        drop_path (float): stochastic depth rate.
        layer_scale_init (float): initial value of ``ls1`` and ``ls2``.
        kernel_source (str): ``'structure'`` (default), ``'pool'`` or
            ``'self'``; see the module docstring.
        pool_size (int, optional): context grid of ``'pool'``.
        align_corners (bool): of the bilinear resize of the guidance.
        backend (str): backend of :func:`sgdc_mmseg.ops.sgdc_aggregate`
            (``'auto'`` or one of its backends).

    Arguments are checked at construction (:func:`check_sgdc_args`): a wrong
    type (bools are not ints) raises ``TypeError``, a value out of range
    ``ValueError``, both naming ``SGDC``, the argument and the value.
    """

    def __init__(self,
                 channels,
                 guide_channels=16,
                 num_heads=4,
                 kernel_size=7,
                 mlp_ratio=4.0,
                 drop_path=0.0,
                 layer_scale_init=1e-6,
                 kernel_source='structure',
                 pool_size=None,
                 align_corners=False,
                 backend='auto'):
        super().__init__()
        check_sgdc_args(type(self).__name__, channels, guide_channels,
                        num_heads, kernel_size, mlp_ratio, drop_path,
                        layer_scale_init, kernel_source, pool_size, backend)
        self.channels = channels
        self.num_heads = num_heads
        self.kernel_size = kernel_size
        self.kernel_source = kernel_source
        self.align_corners = align_corners
        self.backend = backend
        area = kernel_size * kernel_size

        if kernel_source == 'structure':
            self.guide_channels = guide_channels
            self.proj_guidance = nn.Conv2d(guide_channels, channels, 1)
        else:
            self.guide_channels = 0
            self.proj_guidance = None
        if kernel_source == 'pool':
            self.attn = nn.Conv2d(channels, 2 * channels, 1)
            self.kernel_gen = PooledContextKernel(channels, num_heads,
                                                  kernel_size, pool_size)
        else:
            self.attn = nn.Conv2d(channels, 2 * channels + num_heads * area,
                                  1)
            self.kernel_gen = None
        self.norm1 = LayerNorm2d(channels)
        self.norm2 = LayerNorm2d(channels)
        self.dwconv = nn.Conv2d(channels, channels, 3, padding=1,
                                groups=channels)
        hidden = int(channels * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1),
            nn.GELU(),
            nn.Conv2d(hidden, channels, 1),
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.ls1 = nn.Parameter(layer_scale_init * torch.ones(channels))
        self.ls2 = nn.Parameter(layer_scale_init * torch.ones(channels))

    def forward(self, x, guidance=None):
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f'SGDC: x must be [B, {self.channels}, H, W], '
                             f'got {tuple(x.shape)}')
        if self.kernel_source == 'structure':
            if guidance is None:
                raise ValueError(
                    "SGDC: kernel_source='structure' needs a guidance map")
            if guidance.dim() != 4 or guidance.shape[1] != self.guide_channels:
                raise ValueError(
                    f'SGDC: guidance must be [B, {self.guide_channels}, h, w],'
                    f' got {tuple(guidance.shape)}')
            g = resize(guidance, size=x.shape[2:], mode='bilinear',
                       align_corners=self.align_corners)
            w = self.attn(x + self.proj_guidance(g))
        else:
            w = self.attn(x)
        c = self.channels
        gate1 = w[:, :c]
        gate2 = w[:, c:2 * c]
        if self.kernel_gen is None:
            kernel_logits = w[:, 2 * c:]
        else:
            kernel_logits = self.kernel_gen(x)

        b1 = self.dwconv(x * torch.sigmoid(gate1))
        b2 = sgdc_aggregate(self.norm1(x).contiguous(),
                            kernel_logits.contiguous(), self.kernel_size,
                            self.num_heads, backend=self.backend)
        b2 = b2 * torch.sigmoid(gate2)
        x = x + self.drop_path(self.ls1.view(1, -1, 1, 1) * (b1 + b2))
        y = self.mlp(self.norm2(x))
        return x + self.drop_path(self.ls2.view(1, -1, 1, 1) * y)

    def extra_repr(self):
        return (f'channels={self.channels}, num_heads={self.num_heads}, '
                f'kernel_size={self.kernel_size}, '
                f'kernel_source={self.kernel_source!r}')
