"""Overlap scores of binary masks: IoU (Jaccard) and Dice.

Ignored pixels: pass ``valid`` (e.g. ``gt != ignore_index``) to remove the
pixels outside it from both masks. An image with *no* valid pixel has
nothing to score: :func:`iou_dice` then returns ``(nan, nan)``, never the
both-empty ``empty_score`` (which would count it as a perfect image), and
:func:`has_valid_pixels` lets callers skip it up front.
"""
from typing import Optional, Tuple

import numpy as np


def overlap_counts(pred: np.ndarray, gt: np.ndarray) -> Tuple[int, int, int]:
    """``(|pred & gt|, |pred|, |gt|)`` of two boolean masks."""
    pred = np.asarray(pred, dtype=bool)
    gt = np.asarray(gt, dtype=bool)
    if pred.shape != gt.shape:
        raise ValueError(f'pred and gt shapes differ: {pred.shape} vs '
                         f'{gt.shape}')
    inter = int(np.count_nonzero(pred & gt))
    return inter, int(np.count_nonzero(pred)), int(np.count_nonzero(gt))


def has_valid_pixels(valid: Optional[np.ndarray]) -> bool:
    """Whether an image has anything to score: ``valid`` is None (every
    pixel counts) or has at least one ``True`` pixel."""
    return valid is None or bool(np.any(valid))


def restrict_to_valid(pred: np.ndarray, gt: np.ndarray,
                      valid: Optional[np.ndarray]
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """``(pred & valid, gt & valid)`` as boolean masks (unchanged when
    ``valid`` is None); all three must have the same shape."""
    pred = np.asarray(pred, dtype=bool)
    gt = np.asarray(gt, dtype=bool)
    if valid is None:
        return pred, gt
    valid = np.asarray(valid, dtype=bool)
    if not pred.shape == gt.shape == valid.shape:
        raise ValueError(f'pred, gt and valid shapes differ: {pred.shape}, '
                         f'{gt.shape} and {valid.shape}')
    return pred & valid, gt & valid


def iou_dice(pred: np.ndarray,
             gt: np.ndarray,
             empty_score: float = 1.0,
             valid: Optional[np.ndarray] = None) -> Tuple[float, float]:
    """IoU and Dice of two boolean masks, in ``[0, 1]``.

    When both masks are empty both scores are ``empty_score`` (1 by default:
    nothing to find, nothing found). When exactly one is empty both are 0.

    Args:
        valid (np.ndarray, optional): boolean mask of the pixels that count
            (e.g. ``gt_labels != ignore_index``); pixels outside it are
            removed from both masks. When it has no ``True`` pixel the image
            has nothing to score and both results are NaN (not
            ``empty_score``).
    """
    pred, gt = restrict_to_valid(pred, gt, valid)
    if not has_valid_pixels(valid):
        return float('nan'), float('nan')
    inter, n_pred, n_gt = overlap_counts(pred, gt)
    return scores_from_counts(inter, n_pred, n_gt, empty_score)


def scores_from_counts(inter: int,
                       n_pred: int,
                       n_gt: int,
                       empty_score: float = 1.0) -> Tuple[float, float]:
    """IoU and Dice from the intersection and the two areas."""
    total = n_pred + n_gt
    if total == 0:
        return float(empty_score), float(empty_score)
    return inter / (total - inter), 2.0 * inter / total
