"""SGDC decode head (MIDL 2026, arXiv 2602.23496): multi-level fusion, SGDC
blocks guided by an internal SGE, and the paper's comparison points.

``kernel_source`` x ``sge`` gives the 2x2 ablation of guidance vs boundary
supervision, everything else equal:

=============  ===============  ===========================================
kernel_source  sge              meaning
=============  ===============  ===========================================
'structure'    required         SGDC: kernels from features + SGE guidance,
                                boundary loss on the SGE
'pool'         None             pooling-based dynamic kernels (ContMix-style)
'pool'         dict             the same + SGE boundary loss (auxiliary only)
'self'         None             unguided kernels from the features alone
'self'         dict             the same + SGE boundary loss (auxiliary only)
=============  ===============  ===========================================

Modules a variant does not use are not built (no unused parameters for DDP).
"""
import copy

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..layers import SGDC
from ..layers.sgdc import check_sgdc_args
from ..utils import check_int
from ._inputs import check_index_channels, select_inputs
from .sge_head import SGEHead


@MODELS.register_module()
class SGDCHead(BaseDecodeHead):
    """Decode head with Structure-Guided Dynamic Convolution blocks.

    The selected backbone levels (``in_index``, listed from fine to coarse)
    are projected to ``channels`` (1x1 ConvModule), merged top-down by
    upsampling and addition, and smoothed by one 3x3 ConvModule at the finest
    level (a light FPN). ``num_blocks`` :class:`SGDC` blocks follow, then the
    classifier.

    Args:
        num_blocks (int): SGDC blocks. Default 2.
        guide_channels (int): channels of the SGE guidance. Default 16.
        num_heads (int): kernel heads of the blocks. Default 4.
        kernel_size (int): odd dynamic kernel size. Default 7.
        mlp_ratio (float): MLP ratio of the blocks. Default 4.
        drop_path_rate (float): stochastic depth, linearly increasing over
            the blocks from 0 to this value.
        layer_scale_init (float): initial layer scale. Default 1e-6.
        kernel_source (str): ``'structure'``, ``'pool'`` or ``'self'``.
        pool_size (int, optional): context grid of ``'pool'``.
        sge (dict | None): config of the :class:`SGEHead` built through the
            registry. Its ``in_index`` refers to the backbone outputs. Missing
            ``norm_cfg``, ``align_corners`` and ``ignore_index`` are taken
            from this head; ``guide_channels`` is set from this head.
        backend (str): backend of the aggregation op.
        **kwargs: :class:`BaseDecodeHead` arguments (``in_channels``,
            ``in_index``, ``channels``, ``num_classes``, ``loss_decode``...).

    The arguments are checked at construction, before anything is built
    (bools are not ints): ``num_blocks``, ``num_heads``, ``channels`` and
    (for ``'structure'``) ``guide_channels`` positive ints, ``channels``
    divisible by ``num_heads``, ``kernel_size`` a positive odd int,
    ``mlp_ratio > 0``, ``drop_path_rate`` in ``[0, 1)``, ``pool_size`` None
    or a positive int, ``kernel_source`` and ``backend`` from their sets,
    ``in_channels``/``in_index`` int lists of one length. A wrong type
    raises ``TypeError``, a wrong value ``ValueError``, both naming
    ``SGDCHead``, the argument and the value.

    The training forward returns ``(seg_logits, edge_logits)``
    (``edge_logits`` is None without ``sge``); the eval forward returns
    ``seg_logits``.
    """

    def __init__(self,
                 num_blocks=2,
                 guide_channels=16,
                 num_heads=4,
                 kernel_size=7,
                 mlp_ratio=4.0,
                 drop_path_rate=0.0,
                 layer_scale_init=1e-6,
                 kernel_source='structure',
                 pool_size=None,
                 sge=None,
                 backend='auto',
                 **kwargs):
        name = type(self).__name__
        check_sgdc_args(name, kwargs.get('channels'), guide_channels,
                        num_heads, kernel_size, mlp_ratio, drop_path_rate,
                        layer_scale_init, kernel_source, pool_size, backend,
                        drop_path_name='drop_path_rate')
        if kernel_source == 'structure' and sge is None:
            raise ValueError("SGDCHead: kernel_source='structure' needs an "
                             "sge config, e.g. sge=dict(type='SGEHead', "
                             'in_channels=(256, 2048), in_index=(0, 3))')
        num_blocks = check_int(name, 'num_blocks', num_blocks)
        in_channels = kwargs.get('in_channels')
        in_index = kwargs.get('in_index', -1)
        if not isinstance(in_channels, (list, tuple)):
            in_channels, in_index = [in_channels], [in_index]
        check_index_channels(name, in_channels, in_index)
        kwargs['in_channels'] = list(in_channels)
        kwargs['in_index'] = list(in_index)
        if kwargs.pop('input_transform', 'multiple_select') != 'multiple_select':
            raise ValueError('SGDCHead: input_transform is always '
                             "'multiple_select' (each level is used as is)")
        super().__init__(input_transform='multiple_select', **kwargs)
        self.kernel_source = kernel_source

        layer = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                     act_cfg=self.act_cfg)
        self.lateral_convs = nn.ModuleList(
            ConvModule(c, self.channels, 1, **layer)
            for c in self.in_channels)
        self.fpn_conv = ConvModule(self.channels, self.channels, 3, padding=1,
                                   **layer)

        self.sge = self._build_sge(sge, guide_channels)
        dpr = [drop_path_rate * i / max(num_blocks - 1, 1)
               for i in range(num_blocks)]
        self.blocks = nn.ModuleList(
            SGDC(self.channels,
                 guide_channels=guide_channels,
                 num_heads=num_heads,
                 kernel_size=kernel_size,
                 mlp_ratio=mlp_ratio,
                 drop_path=dpr[i],
                 layer_scale_init=layer_scale_init,
                 kernel_source=kernel_source,
                 pool_size=pool_size,
                 align_corners=self.align_corners,
                 backend=backend) for i in range(num_blocks))

    def _build_sge(self, sge, guide_channels):
        if sge is None:
            return None
        cfg = copy.deepcopy(dict(sge))
        want = guide_channels if self.kernel_source == 'structure' else 0
        if cfg.get('guide_channels', want) != want:
            raise ValueError(
                f'SGDCHead: sge.guide_channels={cfg["guide_channels"]} but '
                f'kernel_source={self.kernel_source!r} needs {want} '
                '(leave it unset; it follows guide_channels)')
        cfg['guide_channels'] = want
        sge_type = cfg.get('type')
        sge_cls = MODELS.get(sge_type) if isinstance(sge_type, str) else sge_type
        if not (isinstance(sge_cls, type) and issubclass(sge_cls, SGEHead)):
            raise ValueError('SGDCHead: sge must build an SGEHead (or a '
                             f'subclass), got type={sge_type!r}')
        cfg.setdefault('norm_cfg', self.norm_cfg)
        cfg.setdefault('align_corners', self.align_corners)
        cfg.setdefault('ignore_index', self.ignore_index)
        return MODELS.build(cfg)

    def _transform_inputs(self, inputs):
        return select_inputs(self, inputs)

    def fuse(self, feats):
        """Light FPN: lateral 1x1, top-down sum, 3x3 at the finest level."""
        laterals = [conv(f) for conv, f in zip(self.lateral_convs, feats)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + resize(
                laterals[i], size=laterals[i - 1].shape[2:], mode='bilinear',
                align_corners=self.align_corners)
        return self.fpn_conv(laterals[0])

    def forward(self, inputs, return_structure=False):
        """Fuse the levels, run the SGE where needed, the blocks and the
        classifier.

        The SGE runs when the head has one and either it guides the kernels
        (``'structure'``), the head trains (its boundary loss), or
        ``return_structure`` asks for what it sees. A non-structure SGE has
        no guidance branch (``guide_channels=0``), so running it changes
        nothing the blocks see: ``seg_logits`` are the same either way.

        Returns:
            ``(seg_logits, edge_logits)`` in training (``edge_logits`` None
            without ``sge``), ``seg_logits`` in eval; with
            ``return_structure``, in either mode, a dict: ``seg_logits``
            ``[B, num_classes, h, w]``, ``edge_logits`` ``[B, 1, h, w]``
            (None without ``sge``) and ``guidance`` ``[B, guide_channels,
            h, w]`` (None unless ``kernel_source='structure'``), all at the
            finest input level.
        """
        feat = self.fuse(self._transform_inputs(inputs))
        edge_logits = guidance = None
        if self.sge is not None and (return_structure or self.training
                                     or self.kernel_source == 'structure'):
            edge_logits, guidance = self.sge(inputs)
        for block in self.blocks:
            feat = block(feat, guidance)
        seg_logits = self.cls_seg(feat)
        if return_structure:
            return dict(seg_logits=seg_logits, edge_logits=edge_logits,
                        guidance=guidance)
        if self.training:
            return seg_logits, edge_logits
        return seg_logits

    def forward_with_structure(self, inputs):
        """``forward(inputs, return_structure=True)``: the dict of
        ``seg_logits``, ``edge_logits`` and ``guidance`` (for inspection;
        in eval mode ``seg_logits`` equal ``forward(inputs)``). Unlike the
        plain forward, the SGE also runs for ``'pool'``/``'self'`` heads
        that carry one, so their edge map can be looked at too."""
        return self.forward(inputs, return_structure=True)

    def loss_by_feat(self, seg_logits, batch_data_samples):
        """Segmentation losses plus the SGE boundary losses."""
        edge_logits = None
        if isinstance(seg_logits, (tuple, list)):
            seg_logits, edge_logits = seg_logits
        losses = super().loss_by_feat(seg_logits, batch_data_samples)
        if edge_logits is not None:
            for name, value in self.sge.loss_by_feat(
                    edge_logits, batch_data_samples).items():
                if name in losses:
                    raise ValueError(
                        f'SGDCHead: SGE loss {name!r} clashes with a '
                        'segmentation loss; rename one via loss_name')
                losses[name] = value
        return losses

    def predict(self, inputs, batch_img_metas, test_cfg):
        seg_logits = self.forward(inputs)
        if isinstance(seg_logits, (tuple, list)):
            seg_logits = seg_logits[0]
        return self.predict_by_feat(seg_logits, batch_img_metas)
