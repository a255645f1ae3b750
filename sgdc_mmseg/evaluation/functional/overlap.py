"""Overlap scores of binary masks: IoU (Jaccard) and Dice."""
from typing import Tuple

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


def iou_dice(pred: np.ndarray,
             gt: np.ndarray,
             empty_score: float = 1.0) -> Tuple[float, float]:
    """IoU and Dice of two boolean masks, in ``[0, 1]``.

    When both masks are empty both scores are ``empty_score`` (1 by default:
    nothing to find, nothing found). When exactly one is empty both are 0.
    """
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
