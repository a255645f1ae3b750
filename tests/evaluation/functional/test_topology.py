"""clDice: thickness errors cost nothing, breaks do; FOV restriction; empty
cases; pooling by counts."""
import numpy as np
import pytest
from scipy import ndimage

from sgdc_mmseg.evaluation.functional import (cldice, cldice_counts,
                                              cldice_from_counts, iou_dice,
                                              skeleton)


def line(shape=(21, 30), row=10, cols=slice(0, 30), width=1):
    mask = np.zeros(shape, bool)
    half = width // 2
    mask[row - half:row + half + 1, cols] = True
    return mask


def test_identical_and_thicker_prediction_score_one():
    gt = line(width=5)
    assert cldice(gt, gt) == 1.0
    pred = line(width=7)            # too thick: pixel Dice drops, not clDice
    assert iou_dice(pred, gt)[1] == pytest.approx(2 * 150 / (150 + 210))
    assert cldice(pred, gt) == 1.0


def test_break_in_a_one_pixel_line():
    """A 1-px line is its own skeleton: a 5-px gap in a 30-px line gives
    Tprec = 25/25, Tsens = 25/30, clDice = 2 (5/6) / (11/6) = 10/11."""
    gt = line()
    pred = gt.copy()
    pred[10, 10:15] = False
    assert cldice_counts(pred, gt) == (25, 25, 25, 30)
    assert cldice(pred, gt) == pytest.approx(10 / 11)


def test_spurious_branch_lowers_precision_only():
    gt = line()
    pred = gt.copy()
    pred[0:10, 20] = True           # a 10-px branch that is not a vessel
    inter_p, n_p, inter_g, n_g = cldice_counts(pred, gt)
    assert inter_g == n_g == 30     # the true centre line is covered
    assert n_p > inter_p            # part of the predicted skeleton is off
    assert cldice(pred, gt) < 1


def test_fov_restriction_before_skeletonising():
    gt = line()
    pred = gt.copy()
    pred[0:10, 20] = True
    fov = np.ones(gt.shape, bool)
    fov[0:9, :] = False             # the branch lies (almost) outside
    fov[9, 20] = False
    assert cldice(pred, gt, fov) == 1.0


def test_empty_cases():
    e = np.zeros((5, 5), bool)
    f = line((5, 5), 2, slice(0, 5))
    assert cldice(e, e) == 1.0
    assert cldice(e, e, empty_score=0.0) == 0.0
    assert cldice(f, e) == 0.0 and cldice(e, f) == 0.0
    assert np.isnan(cldice(f, f, np.zeros((5, 5), bool)))
    assert cldice_from_counts(0, 3, 0, 4) == 0.0
    with pytest.raises(ValueError, match='shapes differ'):
        cldice(f, f, np.zeros((5, 4), bool))


def test_pooled_counts():
    a = cldice_counts(line(), line())
    gap = line()
    gap[10, 10:15] = False
    b = cldice_counts(gap, line())
    total = np.add(a, b)
    assert tuple(total) == (55, 55, 55, 60)
    assert cldice_from_counts(*total) == pytest.approx(
        2 * 1 * (55 / 60) / (1 + 55 / 60))


def test_skeleton_keeps_every_component():
    """The empty rule relies on it: thinning never deletes a whole
    8-connected component."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        mask = rng.random((16, 16)) < rng.uniform(0.1, 0.9)
        labels, n = ndimage.label(mask, np.ones((3, 3)))
        kept = set(np.unique(labels[skeleton(mask)])) - {0}
        assert len(kept) == n
    assert not skeleton(np.zeros((4, 4), bool)).any()
    with pytest.raises(ValueError, match='2-D'):
        skeleton(np.ones((2, 2, 2), bool))
