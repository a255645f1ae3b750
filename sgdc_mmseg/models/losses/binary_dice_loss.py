"""Dice loss for 1-channel (sigmoid) boundary logits with pixel-wise ignore.

mmseg's ``DiceLoss`` one-hot encodes the label and its ``ignore_index`` drops
a class, so it does not fit a single boundary channel whose padded pixels are
255; this loss ignores pixels instead.
"""
import torch
import torch.nn as nn
from mmseg.registry import MODELS

from ._utils import prepare_binary


@MODELS.register_module()
class BinaryDiceLoss(nn.Module):
    """``1 - (2 sum(p t) + s) / (sum(p) + sum(t) + s)`` per image, averaged.

    ``p = sigmoid(logits)``; sums run over valid pixels only.

    Args:
        smooth (float): ``s`` above; keeps the loss defined (0) on an image
            without boundary pixels predicted as such.
        loss_weight (float): multiplier of the loss.
        loss_name (str): key of the loss in the loss dict.
    """

    def __init__(self, smooth=1.0, loss_weight=1.0,
                 loss_name='loss_boundary_dice'):
        super().__init__()
        self.smooth = smooth
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred, target, weight=None, ignore_index=255, **kwargs):
        logits, tgt, valid = prepare_binary(pred, target, weight, ignore_index)
        prob = torch.sigmoid(logits) * valid
        tgt = tgt * valid
        inter = (prob * tgt).sum(1)
        dice = (2 * inter + self.smooth) / (
            prob.sum(1) + tgt.sum(1) + self.smooth)
        return self.loss_weight * (1 - dice).mean()

    @property
    def loss_name(self):
        return self._loss_name
