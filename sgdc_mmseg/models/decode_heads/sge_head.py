"""SGE as an mmseg decode head: boundary supervision and structural guidance
for SGDC (MIDL 2026, arXiv 2602.23496).

Use it stand-alone as ``auxiliary_head=dict(type='SGEHead', ...)`` in any
``EncoderDecoder`` (boundary supervision only), or inside :class:`SGDCHead`,
which builds it from its ``sge`` config and uses its guidance map.
"""
import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..layers import SGE
from ..layers.sge import check_sge_args
from ..utils import check_int, seg_to_boundary
from ._inputs import check_index_channels, select_inputs


@MODELS.register_module()
class SGEHead(BaseDecodeHead):
    """Structural Guidance Extractor head.

    Args:
        in_channels (Sequence[int]): channels of the (low, high) inputs,
            e.g. ``(256, 2048)`` for ResNet-50 stages 1 and 4.
        in_index (Sequence[int]): backbone outputs ``(low, high)``.
        channels (int): projection width of the SGE (``bottleneck``).
        fuse_channels (int): width after fusion (``mid``).
        guide_channels (int): guidance channels; 0 (default) builds no
            guidance branch, as needed for a stand-alone auxiliary head.
            :class:`SGDCHead` sets it for ``kernel_source='structure'``.
        reduction_ratio (int): of the SGE refiners.
        boundary_width (int): radius (>= 1) of the boundary derived from
            ``gt_sem_seg`` (see :func:`seg_to_boundary`); ignored for samples
            that carry ``gt_edge_map`` (mmseg's ``GenerateEdge``).
        loss_decode (dict | list[dict]): boundary losses called as
            ``loss(edge_logits [B,1,H,W], target [B,H,W], weight=None,
            ignore_index=...)`` (mmseg's binary convention, so
            ``CrossEntropyLoss(use_sigmoid=True)`` fits too). Default: :class:`ClassBalancedBCELoss` plus
            :class:`BinaryDiceLoss` (keys ``loss_boundary_bce``,
            ``loss_boundary_dice``).

    The arguments are checked at construction (bools are not ints): the
    channel widths and ``reduction_ratio`` positive ints, ``channels``
    divisible by ``reduction_ratio``, ``guide_channels >= 0``,
    ``boundary_width >= 1``; a wrong type raises ``TypeError``, a wrong
    value ``ValueError``, both naming the argument and the value.

    ``forward(inputs)`` returns ``(edge_logits, guidance)`` at the low input's
    resolution (``guidance`` is None when ``guide_channels=0``).
    """

    def __init__(self,
                 in_channels=(256, 2048),
                 in_index=(0, 3),
                 channels=256,
                 fuse_channels=256,
                 guide_channels=0,
                 reduction_ratio=4,
                 boundary_width=1,
                 loss_decode=(dict(type='ClassBalancedBCELoss',
                                   loss_weight=1.0),
                              dict(type='BinaryDiceLoss', loss_weight=1.0)),
                 norm_cfg=dict(type='BN'),
                 init_cfg=None,
                 **kwargs):
        name = type(self).__name__
        check_index_channels(name, in_channels, in_index, expected_len=2)
        check_sge_args(name, low_channels=in_channels[0],
                       high_channels=in_channels[1], channels=channels,
                       fuse_channels=fuse_channels,
                       guide_channels=guide_channels,
                       reduction_ratio=reduction_ratio)
        boundary_width = check_int(name, 'boundary_width', boundary_width)
        if kwargs.pop('input_transform', 'multiple_select') != 'multiple_select':
            raise ValueError('SGEHead: input_transform is always '
                             "'multiple_select' (each level is used as is)")
        kwargs.setdefault('num_classes', 2)
        kwargs.setdefault('out_channels', 1)
        kwargs.setdefault('threshold', 0.5)
        kwargs.setdefault('dropout_ratio', 0.0)
        super().__init__(
            in_channels=list(in_channels),
            channels=channels,
            in_index=list(in_index),
            input_transform='multiple_select',
            loss_decode=list(loss_decode) if isinstance(
                loss_decode, (list, tuple)) else loss_decode,
            norm_cfg=norm_cfg,
            init_cfg=init_cfg,
            **kwargs)
        # The SGE predicts the boundary itself: BaseDecodeHead's classifier
        # would be an unused parameter (DDP rejects those).
        del self.conv_seg
        self.dropout = None
        self.boundary_width = boundary_width
        self.sge = SGE(
            low_channels=self.in_channels[0],
            high_channels=self.in_channels[1],
            channels=channels,
            fuse_channels=fuse_channels,
            guide_channels=guide_channels,
            reduction_ratio=reduction_ratio,
            conv_cfg=self.conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=self.act_cfg,
            align_corners=self.align_corners)

    @property
    def guide_channels(self):
        return self.sge.guide_channels

    def _transform_inputs(self, inputs):
        return select_inputs(self, inputs)

    def forward(self, inputs):
        low, high = self._transform_inputs(inputs)
        return self.sge(low, high)

    def boundary_targets(self, batch_data_samples):
        """Per-sample boundary targets ``[B, H, W]`` (0/1/ignore_index)."""
        maps = [
            s.gt_edge_map.data if 'gt_edge_map' in s else s.gt_sem_seg.data
            for s in batch_data_samples
        ]
        shapes = {tuple(m.shape[-2:]) for m in maps}
        if len(shapes) != 1:
            raise ValueError(
                f'SGEHead: boundary targets differ in size {sorted(shapes)}; '
                'pad the batch (SegDataPreProcessor with size/size_divisor)')
        maps = torch.stack([m.reshape(m.shape[-2:]).long() for m in maps])
        # One pass over the samples that need their boundary derived.
        derive = [i for i, s in enumerate(batch_data_samples)
                  if 'gt_edge_map' not in s]
        if derive:
            maps[derive] = seg_to_boundary(maps[derive], self.boundary_width,
                                           self.ignore_index)
        return maps

    def loss(self, inputs, batch_data_samples, train_cfg):
        edge_logits, _ = self.forward(inputs)
        return self.loss_by_feat(edge_logits, batch_data_samples)

    def loss_by_feat(self, edge_logits, batch_data_samples):
        """Boundary losses; ``edge_logits`` are upsampled to the labels."""
        target = self.boundary_targets(batch_data_samples).to(
            edge_logits.device)
        edge_logits = resize(edge_logits, size=target.shape[-2:],
                             mode='bilinear', align_corners=self.align_corners)
        losses = dict()
        losses_decode = self.loss_decode if isinstance(
            self.loss_decode, torch.nn.ModuleList) else [self.loss_decode]
        for loss_fn in losses_decode:
            name = loss_fn.loss_name
            if name in losses:
                raise ValueError(f'SGEHead: two boundary losses are named '
                                 f'{name!r}; give each a distinct loss_name')
            losses[name] = loss_fn(edge_logits, target,
                                   ignore_index=self.ignore_index)
        return losses

    def predict(self, inputs, batch_img_metas, test_cfg):
        """Boundary logits ``[B, 1, H, W]`` resized to the input image."""
        edge_logits, _ = self.forward(inputs)
        return self.predict_by_feat(edge_logits, batch_img_metas)
