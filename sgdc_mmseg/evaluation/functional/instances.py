"""Instance scores of nuclei segmentation on instance-id maps: AJI (and
AJI+) and panoptic quality PQ = DQ x SQ.

An instance-id map is a 2-D integer array: 0 is background, every other
value one instance (ids need not be consecutive). Binary masks become
instance maps by connected components (:func:`label_components`).

Definitions (G_i ground-truth instances, S_j predicted instances):

* **AJI**, the Aggregated Jaccard Index of Kumar et al., "A Dataset and a
  Technique for Generalized Nuclear Segmentation for Computational
  Pathology", IEEE TMI 36(7), 2017: every G_i is paired with the S_j of the
  largest IoU(G_i, S_j) among those that overlap it (ties: smallest id);
  ``C = Σ |G_i ∩ S_j*|``, ``U = Σ |G_i ∪ S_j*|``; a G_i that overlaps no
  prediction adds ``|G_i|`` to U; every prediction paired with no G_i adds
  its area to U; ``AJI = C / U``. As in the original, one prediction may be
  the pair of several ground-truth instances (its area then counts in U
  each time).
* **AJI+** (Graham et al., "HoVer-Net", Medical Image Analysis 58, 2019):
  the same sums over a one-to-one pairing that maximises the summed IoU
  (Hungarian assignment, scipy's ``linear_sum_assignment``) among
  overlapping pairs; unpaired instances of both sides add their areas to U.
* **PQ** (Kirillov et al., "Panoptic Segmentation", CVPR 2019): a pair
  matches when IoU > 0.5 (then it is unique); with TP matched pairs, FP
  unmatched predictions and FN unmatched ground-truth instances,
  ``DQ = TP / (TP + FP/2 + FN/2)`` (detection quality, an F1),
  ``SQ = Σ_matched IoU / TP`` (segmentation quality), ``PQ = DQ x SQ``.

Empty cases (one image): both maps empty -> every score is ``empty_score``
(1: nothing to find, nothing found); exactly one empty -> AJI = AJI+ = DQ =
SQ = PQ = 0. With both non-empty and no IoU > 0.5 pair, ``SQ`` (0/0) is 0,
so ``PQ = 0``.

Pooling over images: :func:`instance_counts` returns the sums (``C``, ``U``
of AJI and AJI+, TP, FP, FN and the summed matched IoU); adding them over
images and calling :func:`instance_scores_from_counts` gives the
*aggregated* AJI and PQ (the dataset-level PQ is CoNIC's "PQ+").
"""
from typing import Dict, Optional, Tuple

import numpy as np

#: Scores of :func:`instance_scores`, in order.
INSTANCE_SCORES = ('AJI', 'AJIplus', 'DQ', 'SQ', 'PQ')
#: Keys of :func:`instance_counts`.
INSTANCE_COUNTS = ('aji_inter', 'aji_union', 'ajip_inter', 'ajip_union',
                   'tp', 'fp', 'fn', 'iou_sum', 'n_gt', 'n_pred')
#: IoU above which a pair matches in PQ (Kirillov et al.).
PQ_IOU_THRESHOLD = 0.5


def label_components(mask: np.ndarray, connectivity: int = 2) -> np.ndarray:
    """Connected components of a 2-D mask (nonzero = foreground) as an
    int32 instance map with ids ``1..K``.

    Args:
        connectivity (int): 1 for 4-neighbours, 2 for 8-neighbours (the
            default, as scikit-image's ``label`` and MATLAB's ``bwlabel``).
    """
    from scipy import ndimage
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'label_components needs a 2-D mask, got shape '
                         f'{mask.shape}')
    if connectivity not in (1, 2):
        raise ValueError(f'connectivity must be 1 or 2, got {connectivity!r}')
    structure = ndimage.generate_binary_structure(2, connectivity)
    labels, _ = ndimage.label(mask != 0, structure=structure)
    return labels.astype(np.int32, copy=False)


def relabel(instances: np.ndarray) -> np.ndarray:
    """Ids made consecutive ``1..K`` (order kept), int64; 0 stays 0.
    Negative ids are an error."""
    instances = np.asarray(instances)
    if instances.ndim != 2:
        raise ValueError(f'instance maps must be 2-D, got shape '
                         f'{instances.shape}')
    if not np.issubdtype(instances.dtype, np.integer):
        if not np.all(np.mod(instances, 1) == 0):
            raise ValueError('instance ids must be integers, got '
                             f'{instances.dtype} with fractions')
    if instances.size and instances.min() < 0:
        raise ValueError(f'instance ids must be >= 0, got {instances.min()}')
    ids, inverse = np.unique(instances.astype(np.int64), return_inverse=True)
    out = inverse.reshape(instances.shape).astype(np.int64)
    if ids.size and ids[0] != 0:
        out += 1
    return out


def overlap_table(gt: np.ndarray, pred: np.ndarray
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray,
                             np.ndarray, np.ndarray]:
    """Areas and overlaps of two instance maps (relabelled ``1..G``,
    ``1..P``).

    Returns:
        tuple: ``(gt_area [G], pred_area [P], pair_gt, pair_pred,
        pair_inter)``: the areas (index ``i`` is id ``i + 1``) and, for
        every overlapping pair, its 0-based ids and intersection (pairs
        sorted by gt then pred id).
    """
    gt, pred = relabel(gt), relabel(pred)
    if gt.shape != pred.shape:
        raise ValueError(f'gt and pred instance maps differ in shape: '
                         f'{gt.shape} vs {pred.shape}')
    n_gt, n_pred = int(gt.max(initial=0)), int(pred.max(initial=0))
    gt_area = np.bincount(gt.ravel(), minlength=n_gt + 1)[1:]
    pred_area = np.bincount(pred.ravel(), minlength=n_pred + 1)[1:]
    both = (gt > 0) & (pred > 0)
    codes = (gt[both] - 1) * max(n_pred, 1) + (pred[both] - 1)
    pairs, inter = np.unique(codes, return_counts=True)
    pair_gt, pair_pred = np.divmod(pairs, max(n_pred, 1))
    return (gt_area.astype(np.int64), pred_area.astype(np.int64),
            pair_gt.astype(np.int64), pair_pred.astype(np.int64),
            inter.astype(np.int64))


def instance_counts(gt: np.ndarray, pred: np.ndarray) -> Dict[str, float]:
    """The sums behind AJI, AJI+ and PQ of one image (keys
    :data:`INSTANCE_COUNTS`); add them over images to pool."""
    from scipy.optimize import linear_sum_assignment
    gt_area, pred_area, pg, pp, inter = overlap_table(gt, pred)
    n_gt, n_pred = len(gt_area), len(pred_area)
    union = gt_area[pg] + pred_area[pp] - inter
    iou = inter / np.maximum(union, 1)

    # AJI (Kumar et al.): each gt with its best-IoU overlapping prediction
    # (ties: smallest prediction id; pairs are sorted by gt, then pred).
    order = np.lexsort((pp, -iou, pg))  # by gt, IoU descending, pred id
    first = np.ones(len(order), dtype=bool)
    first[1:] = pg[order][1:] != pg[order][:-1]
    best = order[first]
    used = np.zeros(n_pred, dtype=bool)
    used[pp[best]] = True
    paired_gt = np.zeros(n_gt, dtype=bool)
    paired_gt[pg[best]] = True
    aji_inter = int(inter[best].sum())
    aji_union = int(union[best].sum() + gt_area[~paired_gt].sum()
                    + pred_area[~used].sum())

    # AJI+: one-to-one pairing maximising the summed IoU, solved on the
    # instances that overlap anything (the others stay unpaired).
    ajip_inter = 0
    if len(iou):
        rows_id, row = np.unique(pg, return_inverse=True)
        cols_id, col = np.unique(pp, return_inverse=True)
        matrix = np.zeros((len(rows_id), len(cols_id)))
        matrix[row, col] = iou
        inter_m = np.zeros(matrix.shape, dtype=np.int64)
        inter_m[row, col] = inter
        rows, cols = linear_sum_assignment(matrix, maximize=True)
        keep = matrix[rows, cols] > 0
        ajip_inter = int(inter_m[rows[keep], cols[keep]].sum())
    # paired: |G ∪ S| = |G| + |S| - |G ∩ S|; unpaired: their areas
    ajip_union = int(gt_area.sum() + pred_area.sum()) - ajip_inter

    # PQ: IoU > 0.5 pairs are unique matches.
    match = iou > PQ_IOU_THRESHOLD
    tp = int(match.sum())
    return dict(aji_inter=aji_inter, aji_union=aji_union,
                ajip_inter=ajip_inter, ajip_union=ajip_union, tp=tp,
                fp=n_pred - tp, fn=n_gt - tp, iou_sum=float(iou[match].sum()),
                n_gt=n_gt, n_pred=n_pred)


def instance_scores_from_counts(counts: Dict[str, float],
                                empty_score: float = 1.0
                                ) -> Dict[str, float]:
    """AJI, AJI+, DQ, SQ, PQ (fractions) from :func:`instance_counts` or
    their sums, with the empty rules of the module docstring."""
    if counts['n_gt'] == 0 and counts['n_pred'] == 0:
        return {k: float(empty_score) for k in INSTANCE_SCORES}
    tp, fp, fn = counts['tp'], counts['fp'], counts['fn']
    aji = counts['aji_inter'] / counts['aji_union']
    ajip = counts['ajip_inter'] / counts['ajip_union']
    dq = tp / (tp + 0.5 * fp + 0.5 * fn)
    sq = counts['iou_sum'] / tp if tp > 0 else 0.0
    return dict(AJI=float(aji), AJIplus=float(ajip), DQ=float(dq),
                SQ=float(sq), PQ=float(dq * sq))


def instance_scores(gt: np.ndarray, pred: np.ndarray,
                    empty_score: float = 1.0) -> Dict[str, float]:
    """AJI, AJI+, DQ, SQ and PQ of two instance maps, in ``[0, 1]``."""
    return instance_scores_from_counts(instance_counts(gt, pred),
                                       empty_score=empty_score)


def aggregated_jaccard_index(gt: np.ndarray, pred: np.ndarray,
                             empty_score: float = 1.0) -> float:
    """AJI (Kumar et al. 2017) of two instance maps."""
    return instance_scores(gt, pred, empty_score)['AJI']


def panoptic_quality(gt: np.ndarray, pred: np.ndarray,
                     empty_score: float = 1.0
                     ) -> Tuple[float, float, float]:
    """``(PQ, DQ, SQ)`` (Kirillov et al. 2019) of two instance maps."""
    s = instance_scores(gt, pred, empty_score)
    return s['PQ'], s['DQ'], s['SQ']


def remove_pixels(instances: np.ndarray,
                  keep: Optional[np.ndarray]) -> np.ndarray:
    """``instances`` with the pixels outside ``keep`` set to 0 (a copy;
    unchanged when ``keep`` is None)."""
    instances = np.asarray(instances)
    if keep is None:
        return instances
    if np.shape(keep) != instances.shape:
        raise ValueError(f'mask of shape {np.shape(keep)} does not fit the '
                         f'instance map {instances.shape}')
    return np.where(np.asarray(keep, dtype=bool), instances, 0)
