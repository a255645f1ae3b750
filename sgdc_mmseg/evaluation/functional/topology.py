"""clDice: a topology-aware overlap of tubular structures (Shit et al.,
"clDice - a Novel Topology-Preserving Loss Function for Tubular Structure
Segmentation", CVPR 2021, arXiv 2003.07311).

For a predicted mask V_P and a ground-truth mask V_L with skeletons S_P and
S_L (scikit-image's :func:`skimage.morphology.skeletonize`, the
Zhang-Suen-style thinning for 2-D images):

* topology precision ``Tprec = |S_P ∩ V_L| / |S_P|`` (how much of the
  predicted centre lines lies in true vessels),
* topology sensitivity ``Tsens = |S_L ∩ V_P| / |S_L|`` (how much of the
  true centre lines is covered),
* ``clDice = 2 Tprec Tsens / (Tprec + Tsens)``.

Restriction: pixels outside ``valid`` (e.g. the field of view, ignored
labels) are removed from both masks *before* skeletonising, so the
skeletons are those of the masks inside the field of view.

Empty cases: both masks empty -> ``empty_score`` (1: nothing to find,
nothing found); exactly one empty -> 0; ``Tprec + Tsens = 0`` -> 0. A
non-empty mask always has a non-empty skeleton (thinning keeps at least one
pixel of every connected component). No valid pixel -> NaN.

:func:`cldice_counts` returns the four counts so that several images can be
pooled by summing them (:func:`cldice_from_counts`).
"""
from typing import Optional, Tuple

import numpy as np


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Boolean skeleton of a 2-D boolean mask (scikit-image)."""
    from skimage.morphology import skeletonize
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f'skeleton needs a 2-D mask, got shape {mask.shape}')
    if not mask.any():
        return np.zeros_like(mask)
    return skeletonize(mask)


def cldice_counts(pred: np.ndarray,
                  gt: np.ndarray,
                  valid: Optional[np.ndarray] = None
                  ) -> Tuple[int, int, int, int]:
    """``(|S_P ∩ V_L|, |S_P|, |S_L ∩ V_P|, |S_L|)`` of two boolean masks,
    restricted to ``valid`` before skeletonising."""
    pred = np.asarray(pred, dtype=bool)
    gt = np.asarray(gt, dtype=bool)
    shapes = [pred.shape, gt.shape] + ([np.shape(valid)]
                                       if valid is not None else [])
    if len(set(shapes)) > 1:
        raise ValueError('pred, gt and valid shapes differ: '
                         + ', '.join(map(str, shapes)))
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        pred, gt = pred & valid, gt & valid
    s_pred, s_gt = skeleton(pred), skeleton(gt)
    return (int(np.count_nonzero(s_pred & gt)), int(np.count_nonzero(s_pred)),
            int(np.count_nonzero(s_gt & pred)), int(np.count_nonzero(s_gt)))


def cldice_from_counts(sp_in_gt: int, n_sp: int, sg_in_pred: int, n_sg: int,
                       empty_score: float = 1.0) -> float:
    """clDice from :func:`cldice_counts` (or their sums over images)."""
    if n_sp == 0 and n_sg == 0:
        return float(empty_score)
    if n_sp == 0 or n_sg == 0:
        return 0.0
    tprec, tsens = sp_in_gt / n_sp, sg_in_pred / n_sg
    if tprec + tsens == 0:
        return 0.0
    return 2.0 * tprec * tsens / (tprec + tsens)


def cldice(pred: np.ndarray,
           gt: np.ndarray,
           valid: Optional[np.ndarray] = None,
           empty_score: float = 1.0) -> float:
    """clDice of two boolean masks over the ``valid`` pixels, in
    ``[0, 1]``; NaN when ``valid`` has no ``True`` pixel."""
    if valid is not None and not np.any(valid):
        if np.shape(valid) != np.shape(pred) or \
                np.shape(pred) != np.shape(gt):
            cldice_counts(pred, gt, valid)  # raises the shape error
        return float('nan')
    return cldice_from_counts(*cldice_counts(pred, gt, valid),
                              empty_score=empty_score)
