"""``StructureEncoderDecoder``: mmseg's ``EncoderDecoder`` whose test-time
predictions also carry the SGE edge map (SGDC, arXiv 2602.23496).

mmseg's segmentors return ``seg_logits`` and ``pred_sem_seg`` only, so the
Structural Guidance Extractor's boundary map, which the head computes anyway,
never reaches an evaluator. This segmentor runs the decode head's
``forward_with_structure`` instead of its plain forward and adds, to every
predicted data sample, ``edge_logits``: a ``PixelData`` of shape
``[1, H, W]`` holding the SGE's edge *logits* at the original image size —
the same geometry as ``seg_logits`` (whole or slide inference with the
config's ``test_cfg``, padding removed, flips undone, bilinear resize to
``ori_shape``). ``NucleiMetric(pred_instances='sge')`` splits touching
nuclei with it (``evaluation/functional/instance_split.py``).

Semantics:

* ``seg_logits`` and ``pred_sem_seg`` are exactly those of
  ``EncoderDecoder`` (the structure forward returns the same segmentation
  logits in eval mode; a test checks it).
* A decode head without an SGE (``sge=None``, or a head without
  ``forward_with_structure``, e.g. mmseg's ``FCNHead``) gets plain
  ``EncoderDecoder`` behaviour: no ``edge_logits`` (metrics in ``'auto'``
  mode fall back, in ``'sge'`` mode they name the missing key).
* Slide inference averages the edge logits of overlapping windows, as it
  does the segmentation logits.
* ``SegTTAModel`` merges ``seg_logits`` only: under ``--tta`` the merged
  sample has no edge map.
"""
from typing import List

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor

#: The data-sample key of the edge map (NucleiMetric reads it).
EDGE_KEY = 'edge_logits'


@MODELS.register_module()
class StructureEncoderDecoder(EncoderDecoder):
    """``EncoderDecoder`` that also predicts the SGE edge map; takes exactly
    ``EncoderDecoder``'s arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._structure_pass = False

    @property
    def predicts_edges(self) -> bool:
        """Whether the decode head has an SGE whose edge map can be
        returned."""
        head = self.decode_head
        return (getattr(head, 'sge', None) is not None
                and callable(getattr(head, 'forward_with_structure', None)))

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """In the structure pass: ``[seg_logits, edge_logits]`` concatenated
        on the channel axis, resized like the head's ``predict``."""
        if not self._structure_pass:
            return super().encode_decode(inputs, batch_img_metas)
        out = self.decode_head.forward_with_structure(
            self.extract_feat(inputs))
        logits = torch.cat([out['seg_logits'], out['edge_logits']], dim=1)
        return self.decode_head.predict_by_feat(logits, batch_img_metas)

    def predict(self, inputs: Tensor, data_samples=None):
        if not self.predicts_edges:
            return super().predict(inputs, data_samples)
        if data_samples is not None:
            batch_img_metas = [s.metainfo for s in data_samples]
        else:
            shape = inputs.shape[2:]
            batch_img_metas = [
                dict(ori_shape=shape, img_shape=shape, pad_shape=shape,
                     padding_size=[0, 0, 0, 0])
            ] * inputs.shape[0]
        # slide_inference allocates self.out_channels channels
        self._structure_pass, self.out_channels = True, self.out_channels + 1
        try:
            logits = self.inference(inputs, batch_img_metas)
        finally:
            self._structure_pass = False
            self.out_channels -= 1
        seg, edge = logits[:, :-1], logits[:, -1:]
        samples = self.postprocess_result(seg, data_samples)
        # The edge map goes through the same geometry (padding, flip,
        # resize to ori_shape) as two channels, so postprocess_result keeps
        # raw logits (one channel would be passed through a sigmoid).
        edge_samples = self.postprocess_result(
            torch.cat([edge, torch.zeros_like(edge)], dim=1),
            None if data_samples is None else
            [SegDataSample(metainfo=s.metainfo) for s in samples])
        for sample, edge_sample in zip(samples, edge_samples):
            sample.set_data(
                {EDGE_KEY: PixelData(data=edge_sample.seg_logits.data[:1])})
        return samples
