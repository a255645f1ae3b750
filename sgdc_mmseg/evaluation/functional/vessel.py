"""Pixel scores of retinal-vessel segmentation, the way the vessel
literature reports them on DRIVE: inside the field of view (FOV).

All functions take numpy arrays of one image: ``pred`` (boolean vessel
mask), ``prob`` (vessel probability, any real score whose order matters),
``gt`` (boolean vessel mask) and ``valid`` (boolean: the pixels that count,
normally ``fov & (labels != ignore_index)``; None = every pixel). Pixels
outside ``valid`` are removed before anything is counted.

* :func:`confusion_counts` -> ``(TP, FP, FN, TN)`` over the valid pixels.
* :func:`vessel_scores` / :func:`scores_from_confusion`: sensitivity
  ``Se = TP / (TP + FN)``, specificity ``Sp = TN / (TN + FP)``, accuracy
  ``Acc = (TP + TN) / (TP + FP + FN + TN)`` and
  ``F1 = 2 TP / (2 TP + FP + FN)`` (= Dice), as fractions in ``[0, 1]``.
  Summing the counts of several images first gives the *pooled* scores
  (over all FOV pixels of all images, the convention of the DRIVE papers).
* :func:`roc_auc`: area under the ROC curve of ``prob`` against ``gt``,
  exact, ties counted one half (the Mann-Whitney statistic
  ``P(prob_vessel > prob_background) + P(=)/2``, which equals the
  trapezoidal area under the empirical ROC curve). :func:`score_table`
  condenses an image into its distinct scores with the number of vessel and
  background pixels at each, :func:`merge_score_tables` pools several images
  exactly and :func:`auc_from_table` integrates one.

Empty cases (one image):

* no valid pixel (e.g. an empty FOV): nothing to score; every score is NaN.
* no vessel pixel in the ground truth: ``Se`` and ``AUC`` are undefined
  (NaN); ``F1`` is ``empty_score`` (1) when the prediction is empty too and
  0 otherwise; ``Sp`` and ``Acc`` as defined.
* no background pixel in the ground truth: ``Sp`` and ``AUC`` are NaN.
"""
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

#: Names of :func:`scores_from_confusion`'s scores, in order.
CONFUSION_SCORES = ('Se', 'Sp', 'Acc', 'F1')


def _as_bool(name: str, array) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f'{name} must be a 2-D mask, got shape '
                         f'{array.shape}')
    return array.astype(bool, copy=False)


def _check_shapes(**arrays) -> None:
    shapes = {k: np.shape(v) for k, v in arrays.items() if v is not None}
    if len(set(shapes.values())) > 1:
        raise ValueError('shapes differ: ' + ', '.join(
            f'{k} {s}' for k, s in shapes.items()))


def valid_pixels(shape: Tuple[int, int],
                 fov: Optional[np.ndarray] = None,
                 labels: Optional[np.ndarray] = None,
                 ignore_index: Optional[int] = 255) -> np.ndarray:
    """The pixels that count: inside ``fov`` (nonzero; the whole image when
    None) and, when ``labels`` is given, not ``ignore_index``."""
    shape = tuple(shape)
    valid = np.ones(shape, dtype=bool)
    for name, array in (('fov', fov), ('labels', labels)):
        if array is not None and np.shape(array) != shape:
            raise ValueError(f'{name} has shape {np.shape(array)}, the image '
                             f'{shape}')
    if fov is not None:
        valid &= np.asarray(fov) != 0
    if labels is not None and ignore_index is not None:
        valid &= np.asarray(labels) != ignore_index
    return valid


def confusion_counts(pred: np.ndarray,
                     gt: np.ndarray,
                     valid: Optional[np.ndarray] = None
                     ) -> Tuple[int, int, int, int]:
    """``(TP, FP, FN, TN)`` of two boolean masks over the ``valid`` pixels
    (all pixels when None)."""
    pred, gt = _as_bool('pred', pred), _as_bool('gt', gt)
    _check_shapes(pred=pred, gt=gt, valid=valid)
    if valid is not None:
        valid = _as_bool('valid', valid)
        pred, gt = pred[valid], gt[valid]
    tp = int(np.count_nonzero(pred & gt))
    n_pred, n_gt = int(np.count_nonzero(pred)), int(np.count_nonzero(gt))
    fp, fn = n_pred - tp, n_gt - tp
    tn = int(pred.size) - tp - fp - fn
    return tp, fp, fn, tn


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float('nan')


def scores_from_confusion(tp: int, fp: int, fn: int, tn: int,
                          empty_score: float = 1.0) -> Dict[str, float]:
    """``Se``, ``Sp``, ``Acc``, ``F1`` (fractions) from the four counts,
    with the empty rules of the module docstring (all NaN when the counts
    add up to 0)."""
    total = tp + fp + fn + tn
    if total == 0:
        return {k: float('nan') for k in CONFUSION_SCORES}
    f1_den = 2 * tp + fp + fn
    return dict(
        Se=_ratio(tp, tp + fn),
        Sp=_ratio(tn, tn + fp),
        Acc=_ratio(tp + tn, total),
        F1=2.0 * tp / f1_den if f1_den > 0 else float(empty_score))


def vessel_scores(pred: np.ndarray,
                  gt: np.ndarray,
                  valid: Optional[np.ndarray] = None,
                  empty_score: float = 1.0) -> Dict[str, float]:
    """:func:`scores_from_confusion` of :func:`confusion_counts`."""
    return scores_from_confusion(*confusion_counts(pred, gt, valid),
                                 empty_score=empty_score)


# ------------------------------------------------------------------ AUC
def score_table(prob: np.ndarray,
                gt: np.ndarray,
                valid: Optional[np.ndarray] = None
                ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An image's valid pixels condensed for the ROC curve.

    Returns:
        tuple: ``(scores, n_pos, n_neg)``: the distinct values of ``prob``
        (float64, ascending) and, at each, the number of vessel and of
        background pixels. Exact: :func:`auc_from_table` of it equals the
        AUC over the pixels, and tables of several images can be pooled
        with :func:`merge_score_tables`. Its length is the number of
        distinct scores (at most the number of valid pixels).
    """
    prob = np.asarray(prob, dtype=np.float64)
    gt = _as_bool('gt', gt)
    if prob.ndim != 2:
        raise ValueError(f'prob must be a 2-D map, got shape {prob.shape}')
    _check_shapes(prob=prob, gt=gt, valid=valid)
    if valid is not None:
        valid = _as_bool('valid', valid)
        prob, gt = prob[valid], gt[valid]
    else:
        prob, gt = prob.ravel(), gt.ravel()
    if np.isnan(prob).any():
        raise ValueError('prob contains NaN')
    return _table(prob, gt.astype(np.int64), (~gt).astype(np.int64))


def _table(values, pos, neg):
    scores, inverse = np.unique(values, return_inverse=True)
    n = len(scores)
    return (scores,
            np.bincount(inverse, weights=pos, minlength=n).astype(np.int64),
            np.bincount(inverse, weights=neg, minlength=n).astype(np.int64))


def merge_score_tables(tables: Iterable[tuple]
                       ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One table of the pixels of all ``tables`` (pooled AUC)."""
    tables = list(tables)
    if not tables:
        empty = np.zeros(0, np.int64)
        return np.zeros(0, np.float64), empty, empty
    values = np.concatenate([np.asarray(t[0], np.float64) for t in tables])
    pos = np.concatenate([np.asarray(t[1], np.int64) for t in tables])
    neg = np.concatenate([np.asarray(t[2], np.int64) for t in tables])
    return _table(values, pos, neg)


def auc_from_table(table) -> float:
    """ROC AUC of a :func:`score_table`; NaN without a vessel or without a
    background pixel (the ROC curve is undefined)."""
    _, pos, neg = table
    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return float('nan')
    # background pixels strictly below each score, plus half the ties
    neg_below = np.cumsum(neg) - neg
    return float(np.sum(pos * (neg_below + 0.5 * neg)) / (n_pos * n_neg))


def roc_auc(prob: np.ndarray,
            gt: np.ndarray,
            valid: Optional[np.ndarray] = None) -> float:
    """Exact ROC AUC of ``prob`` against the boolean ``gt`` over the valid
    pixels (ties count one half); NaN when the valid ground truth has no
    vessel or no background pixel."""
    return auc_from_table(score_table(prob, gt, valid))
