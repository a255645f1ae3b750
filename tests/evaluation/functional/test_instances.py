"""AJI, AJI+ and PQ on hand-computed instance maps, the tie rule, empty
cases, and agreement with straightforward loop implementations."""
import numpy as np
import pytest

from sgdc_mmseg.evaluation.functional import (aggregated_jaccard_index,
                                              instance_counts,
                                              instance_scores,
                                              instance_scores_from_counts,
                                              label_components,
                                              overlap_table,
                                              panoptic_quality, relabel,
                                              remove_pixels)


def box(shape, rows, cols, value=1, out=None):
    out = np.zeros(shape, np.int32) if out is None else out
    out[rows, cols] = value
    return out


def loop_aji(gt, pred):
    """Kumar et al.'s AJI written as a loop over ground-truth instances
    (only overlapping predictions compete; ties: smallest id)."""
    c = u = 0
    used = set()
    pred_ids = [i for i in np.unique(pred) if i]
    for g in [i for i in np.unique(gt) if i]:
        G = gt == g
        best, best_iou = None, 0.0
        for p in pred_ids:
            S = pred == p
            inter = np.logical_and(G, S).sum()
            iou = inter / np.logical_or(G, S).sum()
            if inter and iou > best_iou:
                best, best_iou = p, iou
        if best is None:
            u += G.sum()
            continue
        S = pred == best
        c += np.logical_and(G, S).sum()
        u += np.logical_or(G, S).sum()
        used.add(best)
    u += sum((pred == p).sum() for p in pred_ids if p not in used)
    return c / u


def loop_pq(gt, pred):
    tp, iou_sum = 0, 0.0
    gts = [i for i in np.unique(gt) if i]
    preds = [i for i in np.unique(pred) if i]
    for g in gts:
        for p in preds:
            G, S = gt == g, pred == p
            iou = np.logical_and(G, S).sum() / np.logical_or(G, S).sum()
            if iou > 0.5:
                tp += 1
                iou_sum += iou
    fp, fn = len(preds) - tp, len(gts) - tp
    dq = tp / (tp + 0.5 * fp + 0.5 * fn)
    return dq * (iou_sum / tp if tp else 0.0), dq


def four_predictions():
    """G1, G2: 4x4 squares. S1: left half of G1 (IoU 0.5, not a PQ match:
    the threshold is strict); S2: right half of G1 and 8 background px;
    S3 = G2; S4: a 4-px false alarm."""
    shape = (10, 12)
    gt = box(shape, slice(0, 4), slice(0, 4), 1)
    box(shape, slice(0, 4), slice(6, 10), 2, gt)
    pred = box(shape, slice(0, 4), slice(0, 2), 1)
    box(shape, slice(0, 4), slice(2, 6), 2, pred)
    box(shape, slice(0, 4), slice(6, 10), 3, pred)
    box(shape, slice(8, 10), slice(8, 10), 4, pred)
    return gt, pred


def test_hand_computed_aji_and_pq():
    gt, pred = four_predictions()
    # AJI: G1 -> S1 (IoU 8/16 beats 8/24): C 8, U 16; G2 -> S3: C 16, U 16;
    # unused S2 (16 px) and S4 (4 px) join U: 24 / 52
    s = instance_scores(gt, pred)
    assert s['AJI'] == pytest.approx(24 / 52)
    assert s['AJIplus'] == pytest.approx(24 / 52)
    # PQ: only G2-S3 matches: TP 1, FP 3, FN 1
    assert s['DQ'] == pytest.approx(1 / 3)
    assert s['SQ'] == 1.0
    assert s['PQ'] == pytest.approx(1 / 3)
    c = instance_counts(gt, pred)
    assert (c['tp'], c['fp'], c['fn'], c['n_gt'], c['n_pred']) == \
        (1, 3, 1, 2, 4)
    assert aggregated_jaccard_index(gt, pred) == s['AJI']
    assert panoptic_quality(gt, pred) == (s['PQ'], s['DQ'], s['SQ'])


def test_merged_prediction_aji_vs_aji_plus():
    """One prediction covering two touching nuclei: AJI pairs it with both
    (C = 32, U = 64), AJI+ with one (C = 16, U = 16 + 16 + 32 - 16)."""
    shape = (6, 10)
    gt = box(shape, slice(0, 4), slice(0, 4), 1)
    box(shape, slice(0, 4), slice(4, 8), 2, gt)
    pred = (gt > 0).astype(np.int32)
    s = instance_scores(gt, pred)
    assert s['AJI'] == pytest.approx(0.5)
    assert s['AJIplus'] == pytest.approx(1 / 3)
    # IoU of each pair is exactly 0.5: no PQ match
    assert (s['DQ'], s['SQ'], s['PQ']) == (0.0, 0.0, 0.0)


def test_aji_tie_takes_the_smallest_prediction_id():
    """Two predictions with the same IoU 0.25 but different areas: the one
    with the smaller id is the pair, the other joins U."""
    shape = (8, 8)
    gt = box(shape, slice(0, 4), slice(0, 4), 1)          # 16 px
    small = box(shape, slice(0, 1), slice(0, 4), 1)       # 4 px inside
    big = np.zeros(shape, np.int32)
    big[1:4, 0:2] = 1                                     # 6 px inside
    big[5:7, 0:4] = 1                                     # 8 px outside
    pred = np.where(small > 0, 1, np.where(big > 0, 2, 0))
    # pair = small (id 1): C 4, U 16; big adds 14 -> 4 / 30
    assert aggregated_jaccard_index(gt, pred) == pytest.approx(4 / 30)
    swapped = np.where(pred == 1, 2, np.where(pred == 2, 1, 0))
    # pair = big (now id 1): C 6, U 24; small adds 4 -> 6 / 28
    assert aggregated_jaccard_index(gt, swapped) == pytest.approx(6 / 28)
    assert loop_aji(gt, pred) == pytest.approx(4 / 30)


def test_gt_without_overlap_adds_its_area():
    shape = (6, 12)
    gt = box(shape, slice(0, 2), slice(0, 2), 1)
    box(shape, slice(4, 6), slice(8, 12), 2, gt)           # 8 px, missed
    pred = box(shape, slice(0, 2), slice(0, 2), 1)
    # C 4, U 4 + 8
    assert aggregated_jaccard_index(gt, pred) == pytest.approx(4 / 12)


def test_empty_cases():
    e = np.zeros((5, 5), np.int32)
    f = box((5, 5), slice(1, 3), slice(1, 3), 7)
    assert instance_scores(e, e) == dict(AJI=1.0, AJIplus=1.0, DQ=1.0,
                                         SQ=1.0, PQ=1.0)
    assert all(np.isnan(v) for v in
               instance_scores(e, e, empty_score=float('nan')).values())
    for gt, pred in ((e, f), (f, e)):
        assert instance_scores(gt, pred) == dict(AJI=0.0, AJIplus=0.0,
                                                 DQ=0.0, SQ=0.0, PQ=0.0)


def test_against_loops_on_random_maps():
    rng = np.random.default_rng(0)
    for seed in range(6):
        gt = label_components(rng.random((24, 24)) < 0.45)
        pred = label_components(rng.random((24, 24)) < 0.45)
        s = instance_scores(gt, pred)
        assert s['AJI'] == pytest.approx(loop_aji(gt, pred))
        pq, dq = loop_pq(gt, pred)
        assert s['PQ'] == pytest.approx(pq)
        assert s['DQ'] == pytest.approx(dq)
        assert 0 <= s['AJIplus'] <= 1


def test_pooling_sums_counts():
    gt, pred = four_predictions()
    c1 = instance_counts(gt, pred)
    c2 = instance_counts(gt, gt)
    total = {k: c1[k] + c2[k] for k in c1}
    s = instance_scores_from_counts(total)
    assert s['AJI'] == pytest.approx((24 + 32) / (52 + 32))
    # TP 1 + 2, FP 3, FN 1
    assert s['DQ'] == pytest.approx(3 / (3 + 1.5 + 0.5))


def test_label_components_connectivity():
    mask = np.array([[1, 0], [0, 1]])
    assert label_components(mask).max() == 1
    assert label_components(mask, connectivity=1).max() == 2
    with pytest.raises(ValueError, match='connectivity'):
        label_components(mask, connectivity=3)


def test_relabel_and_overlap_table():
    inst = np.array([[0, 7, 7], [3, 3, 0]], np.uint16)
    assert relabel(inst).tolist() == [[0, 2, 2], [1, 1, 0]]
    assert relabel(np.array([[5, 5], [9, 9]])).tolist() == [[1, 1], [2, 2]]
    with pytest.raises(ValueError, match='>= 0'):
        relabel(np.array([[-1, 0]]))
    with pytest.raises(ValueError, match='integers'):
        relabel(np.array([[0.5, 0]]))
    gt_area, pred_area, pg, pp, inter = overlap_table(
        inst, np.array([[1, 1, 0], [1, 0, 0]]))
    assert gt_area.tolist() == [2, 2] and pred_area.tolist() == [3]
    assert list(zip(pg, pp, inter)) == [(0, 0, 1), (1, 0, 1)]
    with pytest.raises(ValueError, match='differ in shape'):
        overlap_table(inst, np.zeros((2, 2), int))


def test_remove_pixels():
    inst = np.array([[1, 2], [3, 4]])
    keep = np.array([[True, False], [True, True]])
    assert remove_pixels(inst, keep).tolist() == [[1, 0], [3, 4]]
    assert remove_pixels(inst, None) is not None
    with pytest.raises(ValueError, match='does not fit'):
        remove_pixels(inst, np.ones((1, 2), bool))
