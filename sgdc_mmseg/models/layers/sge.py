"""Structural Guidance Extractor (SGE) of SGDC: "Structure-Guided Dynamic
Convolution for Medical Image Segmentation" (MIDL 2026, arXiv 2602.23496).

The SGE turns a low-level (e.g. ResNet stage 1, stride 4) and a high-level
(e.g. stage 4, stride 32) feature into a 1-channel boundary map and a
``guide_channels`` guidance map at the low level's resolution.

Submodule and parameter names follow the paper's public code so that its
weights load with ``load_state_dict(strict=True)``: ``s1_proj``/``refine1``
are the low-level path, ``s4_proj``/``refine4`` the high-level path.
"""
import torch
import torch.nn as nn
from mmcv.cnn import (ConvModule, build_activation_layer, build_conv_layer,
                      build_norm_layer)
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..utils.arg_checks import check_divisible, check_int
from .sobel import FixedSobel, cxc_sobel_modulate, sobel_modulate


class BottleneckRefiner(nn.Module):
    """``act(x + BN(1x1(act(BN(3x3(act(BN(1x1(x)))))))))``.

    ``refine`` is an ``nn.Sequential`` whose indices match the paper's code
    (convs at 0, 3, 6; norms at 1, 4, 7).
    """

    def __init__(self, channels, reduction_ratio=4, conv_cfg=None,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU')):
        super().__init__()
        name = type(self).__name__
        channels = check_int(name, 'channels', channels)
        reduction_ratio = check_int(name, 'reduction_ratio', reduction_ratio)
        check_divisible(name, 'channels', channels, 'reduction_ratio',
                        reduction_ratio)
        reduced = channels // reduction_ratio

        def conv(cin, cout, k):
            return build_conv_layer(conv_cfg, cin, cout, k, padding=k // 2,
                                    bias=False)

        self.refine = nn.Sequential(
            conv(channels, reduced, 1),
            build_norm_layer(norm_cfg, reduced)[1],
            build_activation_layer(act_cfg),
            conv(reduced, reduced, 3),
            build_norm_layer(norm_cfg, reduced)[1],
            build_activation_layer(act_cfg),
            conv(reduced, channels, 1),
            build_norm_layer(norm_cfg, channels)[1],
        )
        self.act = build_activation_layer(act_cfg)

    def forward(self, x):
        return self.act(x + self.refine(x))


def check_sge_args(owner, low_channels, high_channels, channels,
                   fuse_channels, guide_channels, reduction_ratio):
    """Construction checks of :class:`SGE` (also run by ``SGEHead`` under
    its own name): positive int widths, ``guide_channels >= 0`` and
    ``channels`` divisible by the positive int ``reduction_ratio``."""
    for name, value in (('low_channels', low_channels),
                        ('high_channels', high_channels),
                        ('channels', channels),
                        ('fuse_channels', fuse_channels),
                        ('reduction_ratio', reduction_ratio)):
        check_int(owner, name, value)
    check_int(owner, 'guide_channels', guide_channels, minimum=0)
    check_divisible(owner, 'channels', channels, 'reduction_ratio',
                    reduction_ratio)


@MODELS.register_module()
class SGE(nn.Module):
    """Structural Guidance Extractor.

    Args:
        low_channels (int): channels of the low-level input.
        high_channels (int): channels of the high-level input.
        channels (int): projection width of both paths (``bottleneck`` in the
            paper's code). Default 256.
        fuse_channels (int): width after fusion (``mid``). Default 256.
        guide_channels (int): channels of the guidance map (``guide_ch``);
            0 builds no guidance branch (boundary prediction only).
            Default 16.
        reduction_ratio (int): bottleneck reduction of the refiners;
            ``channels`` must be divisible by it.
        conv_cfg, norm_cfg, act_cfg (dict): mmcv layer configs; defaults give
            the paper's Conv-BN-ReLU.
        align_corners (bool): of the bilinear upsampling of the high path.

    Arguments are checked at construction (:func:`check_sge_args`): a wrong
    type (bools are not ints) raises ``TypeError``, a value out of range
    ``ValueError``, both naming ``SGE``, the argument and the value.

    Forward:
        ``forward(low, high) -> (edge_logits [B,1,h,w], guidance
        [B,guide_channels,h,w] or None)`` with ``(h, w)`` of ``low``.
    """

    #: The Sobel modulation of both paths: the channel-sum shortcut
    #: (:class:`CxCSobelSGE` swaps in the paper's ``C x C`` form).
    modulate = staticmethod(sobel_modulate)

    def __init__(self,
                 low_channels,
                 high_channels,
                 channels=256,
                 fuse_channels=256,
                 guide_channels=16,
                 reduction_ratio=4,
                 conv_cfg=None,
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU'),
                 align_corners=False):
        super().__init__()
        check_sge_args(type(self).__name__, low_channels=low_channels,
                       high_channels=high_channels, channels=channels,
                       fuse_channels=fuse_channels,
                       guide_channels=guide_channels,
                       reduction_ratio=reduction_ratio)
        self.low_channels = low_channels
        self.high_channels = high_channels
        self.channels = channels
        self.guide_channels = guide_channels
        self.align_corners = align_corners
        layer = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)

        self.s4_proj = ConvModule(high_channels, channels, 1, **layer)
        self.s1_proj = ConvModule(low_channels, channels, 1, **layer)
        self.sobel_x = FixedSobel(channels, 'x')
        self.sobel_y = FixedSobel(channels, 'y')
        self.refine4 = BottleneckRefiner(channels, reduction_ratio, **layer)
        self.refine1 = BottleneckRefiner(channels, reduction_ratio, **layer)
        self.fuse = ConvModule(2 * channels, fuse_channels, 3, padding=1,
                               **layer)
        self.out_edge_map = nn.Conv2d(fuse_channels, 1, 1, bias=False)
        if guide_channels > 0:
            self.out_guidance = nn.Conv2d(fuse_channels, guide_channels, 1,
                                          bias=False)
        else:
            self.out_guidance = None

    def forward(self, low, high):
        for name, t, c in (('low', low, self.low_channels),
                           ('high', high, self.high_channels)):
            if t.dim() != 4 or t.shape[1] != c:
                raise ValueError(
                    f'SGE: {name} input must be [B, {c}, H, W], got '
                    f'{tuple(t.shape)}')
        high = self.refine4(self.modulate(self.s4_proj(high), self.sobel_x,
                                          self.sobel_y))
        low = self.refine1(self.modulate(self.s1_proj(low), self.sobel_x,
                                         self.sobel_y))
        high = resize(high, size=low.shape[2:], mode='bilinear',
                      align_corners=self.align_corners)
        fused = self.fuse(torch.cat([high, low], dim=1))
        edge_logits = self.out_edge_map(fused)
        guidance = None if self.out_guidance is None else self.out_guidance(
            fused)
        return edge_logits, guidance


class CxCSobelSGE(SGE):
    """:class:`SGE` with the paper's ``C x C`` Sobel convolutions
    (:func:`~.sobel.cxc_sobel_modulate`) in place of the channel-sum
    shortcut; same arguments, parameters and state dict. The reference the
    shortcut is tested and benchmarked against (not in the registry)."""

    modulate = staticmethod(cxc_sobel_modulate)
