"""Losses for the SGE boundary branch."""
from .binary_dice_loss import BinaryDiceLoss
from .class_balanced_bce_loss import ClassBalancedBCELoss

__all__ = ['BinaryDiceLoss', 'ClassBalancedBCELoss']
