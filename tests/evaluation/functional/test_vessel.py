"""Vessel pixel scores: hand-computed confusion scores, the FOV restriction,
empty cases, and the exact ROC AUC against a brute-force pair count."""
import numpy as np
import pytest

from sgdc_mmseg.evaluation.functional import (auc_from_table,
                                              confusion_counts,
                                              merge_score_tables, roc_auc,
                                              score_table,
                                              scores_from_confusion,
                                              valid_pixels, vessel_scores)


def brute_auc(prob, gt):
    """P(score of a vessel pixel > score of a background pixel) + P(=)/2 by
    comparing every pair."""
    prob, gt = np.ravel(prob), np.ravel(gt).astype(bool)
    pos, neg = prob[gt], prob[~gt]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size


def test_hand_computed_scores():
    gt = np.array([[1, 1, 0, 0],
                   [1, 0, 0, 0]], bool)
    pred = np.array([[1, 0, 1, 0],
                     [1, 0, 0, 0]], bool)
    assert confusion_counts(pred, gt) == (2, 1, 1, 4)
    s = vessel_scores(pred, gt)
    assert s['Se'] == pytest.approx(2 / 3)
    assert s['Sp'] == pytest.approx(4 / 5)
    assert s['Acc'] == pytest.approx(6 / 8)
    assert s['F1'] == pytest.approx(4 / 6)


def test_fov_removes_outside_pixels():
    gt = np.zeros((6, 6), bool)
    gt[2:4, 2:4] = True
    pred = gt.copy()
    pred[0, :] = True                 # false alarms outside the FOV
    fov = np.zeros((6, 6), np.uint8)
    fov[1:5, 1:5] = 1
    assert vessel_scores(pred, gt)['Sp'] < 1
    valid = valid_pixels(gt.shape, fov)
    assert confusion_counts(pred, gt, valid) == (4, 0, 0, 12)
    assert vessel_scores(pred, gt, valid) == dict(Se=1.0, Sp=1.0, Acc=1.0,
                                                  F1=1.0)


def test_valid_pixels_combines_fov_and_ignore():
    labels = np.array([[0, 1, 255], [255, 1, 0]])
    fov = np.array([[1, 1, 1], [0, 1, 1]])
    assert valid_pixels(labels.shape, fov, labels).tolist() == [
        [True, True, False], [False, True, True]]
    assert valid_pixels(labels.shape, None, labels, ignore_index=None).all()
    with pytest.raises(ValueError, match=r'fov has shape \(2, 2\)'):
        valid_pixels((2, 3), np.ones((2, 2)))


def test_empty_cases():
    e = np.zeros((3, 3), bool)
    f = np.ones((3, 3), bool)
    none = np.zeros((3, 3), bool)
    # no valid pixel: nothing to score
    assert all(np.isnan(v) for v in vessel_scores(f, f, none).values())
    # no vessel in the ground truth
    s = vessel_scores(e, e)
    assert np.isnan(s['Se']) and s['Sp'] == 1 and s['Acc'] == 1
    assert s['F1'] == 1.0
    assert vessel_scores(e, e, empty_score=0.0)['F1'] == 0.0
    s = vessel_scores(f, e)
    assert np.isnan(s['Se']) and s['Sp'] == 0 and s['F1'] == 0
    # no background in the ground truth
    s = vessel_scores(f, f)
    assert np.isnan(s['Sp']) and s['Se'] == 1
    assert all(np.isnan(v) for v in scores_from_confusion(0, 0, 0, 0)
               .values())


def test_auc_hand_cases():
    prob = np.array([[0.1, 0.4], [0.35, 0.8]])
    gt = np.array([[0, 0], [1, 1]])
    # pairs (0.35 vs 0.1, 0.4) -> 1 of 2; (0.8 vs both) -> 2: 3 / 4
    assert roc_auc(prob, gt) == pytest.approx(0.75)
    assert roc_auc(np.array([[0.5, 0.5]]), np.array([[0, 1]])) == 0.5
    assert roc_auc(np.array([[0.2, 0.9]]), np.array([[0, 1]])) == 1.0
    assert roc_auc(np.array([[0.9, 0.2]]), np.array([[0, 1]])) == 0.0


def test_auc_equals_pairwise_count_with_ties():
    rng = np.random.default_rng(0)
    gt = rng.random((30, 40)) < 0.3
    prob = np.round(np.clip(gt * 0.3 + rng.random((30, 40)) * 0.7, 0, 1), 2)
    assert roc_auc(prob, gt) == pytest.approx(brute_auc(prob, gt), abs=1e-12)
    valid = rng.random((30, 40)) < 0.6
    assert roc_auc(prob, gt, valid) == pytest.approx(
        brute_auc(prob[valid], gt[valid]), abs=1e-12)


def test_auc_restricted_to_fov():
    gt = np.array([[0, 1, 0, 1]])
    prob = np.array([[0.1, 0.9, 0.95, 0.2]])
    fov = np.array([[1, 1, 0, 0]], bool)
    assert roc_auc(prob, gt) == 0.5
    assert roc_auc(prob, gt, fov) == 1.0


def test_pooled_auc_is_one_curve_over_all_pixels():
    """Merging tables gives the AUC of the concatenated pixels, which is
    not the mean of the per-image AUCs."""
    a_prob, a_gt = np.array([[0.1, 0.2]]), np.array([[0, 1]])
    b_prob, b_gt = np.array([[0.8, 0.9]]), np.array([[0, 1]])
    ta, tb = score_table(a_prob, a_gt), score_table(b_prob, b_gt)
    assert auc_from_table(ta) == auc_from_table(tb) == 1.0
    pooled = auc_from_table(merge_score_tables([ta, tb]))
    # vessel 0.2 loses to background 0.8: 3 of 4 pairs
    assert pooled == pytest.approx(0.75)
    rng = np.random.default_rng(1)
    probs = [np.round(rng.random((8, 9)), 1) for _ in range(3)]
    gts = [rng.random((8, 9)) < 0.4 for _ in range(3)]
    merged = merge_score_tables(score_table(p, g) for p, g in zip(probs, gts))
    assert auc_from_table(merged) == pytest.approx(
        brute_auc(np.concatenate([p.ravel() for p in probs]),
                  np.concatenate([g.ravel() for g in gts])), abs=1e-12)
    # the table is compact: one row per distinct score
    assert len(merged[0]) == len(np.unique(np.concatenate(probs)))
    assert int(merged[1].sum() + merged[2].sum()) == 3 * 72


def test_auc_undefined_without_both_classes():
    prob = np.array([[0.3, 0.6]])
    assert np.isnan(roc_auc(prob, np.array([[0, 0]])))
    assert np.isnan(roc_auc(prob, np.array([[1, 1]])))
    assert np.isnan(auc_from_table(merge_score_tables([])))


def test_errors():
    with pytest.raises(ValueError, match=r'shapes differ: pred \(2, 2\)'):
        confusion_counts(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match='NaN'):
        roc_auc(np.array([[np.nan, 0.5]]), np.array([[0, 1]]))
    with pytest.raises(ValueError, match='2-D'):
        roc_auc(np.ones(4), np.ones(4))
