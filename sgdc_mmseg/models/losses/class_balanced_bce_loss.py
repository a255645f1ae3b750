"""Class-balanced binary cross-entropy for boundary maps (used by the SGE of
SGDC, MIDL 2026, arXiv 2602.23496)."""
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS

from ._utils import prepare_binary


@MODELS.register_module()
class ClassBalancedBCELoss(nn.Module):
    """BCE where boundary and non-boundary pixels weigh half each, per image.

    For an image with ``P`` valid boundary and ``N`` valid non-boundary
    pixels, each boundary pixel has weight ``0.5 / P`` and each other pixel
    ``0.5 / N`` (``1 / N`` or ``1 / P`` when the other kind is absent), so the
    loss of every image is a weighted mean over its valid pixels; the result
    is the mean over images with at least one valid pixel. Ignored pixels
    (``ignore_index``) do not count.

    Args:
        loss_weight (float): multiplier of the loss.
        loss_name (str): key of the loss in the loss dict.
    """

    def __init__(self, loss_weight=1.0, loss_name='loss_boundary_bce'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred, target, weight=None, ignore_index=255, **kwargs):
        logits, tgt, valid = prepare_binary(pred, target, weight, ignore_index)
        pos = tgt * valid
        neg = (1 - tgt) * valid
        num_pos = pos.sum(1, keepdim=True)
        num_neg = neg.sum(1, keepdim=True)
        both = (num_pos > 0) & (num_neg > 0)
        w_pos = 0.5 * both / num_pos.clamp_min(1) + (~both) / (
            num_pos + num_neg).clamp_min(1)
        w_neg = 0.5 * both / num_neg.clamp_min(1) + (~both) / (
            num_pos + num_neg).clamp_min(1)
        pixel_w = pos * w_pos + neg * w_neg
        bce = F.binary_cross_entropy_with_logits(logits, tgt, reduction='none')
        per_image = (bce * pixel_w).sum(1)
        # Images without a valid pixel contribute 0 and are not counted.
        num_images = ((num_pos + num_neg) > 0).sum().clamp_min(1)
        return self.loss_weight * per_image.sum() / num_images

    @property
    def loss_name(self):
        return self._loss_name
