import numpy as np
import pytest

from sgdc_mmseg.evaluation.functional import (has_valid_pixels, iou_dice,
                                              overlap_counts,
                                              restrict_to_valid,
                                              scores_from_counts)


def test_known_overlap():
    a = np.zeros((10, 10), bool)
    b = a.copy()
    a[0:4, 0:5] = True   # 20 px
    b[2:6, 0:5] = True   # 20 px, 10 shared
    assert overlap_counts(a, b) == (10, 20, 20)
    iou, dice = iou_dice(a, b)
    assert iou == pytest.approx(10 / 30)
    assert dice == pytest.approx(0.5)


def test_empty_rules():
    e = np.zeros((4, 4), bool)
    f = np.ones((4, 4), bool)
    assert iou_dice(e, e) == (1.0, 1.0)
    assert iou_dice(e, e, empty_score=0.0) == (0.0, 0.0)
    assert iou_dice(e, f) == (0.0, 0.0)
    assert scores_from_counts(0, 0, 5) == (0.0, 0.0)


def test_shape_mismatch():
    with pytest.raises(ValueError, match='shapes differ'):
        overlap_counts(np.ones((2, 2)), np.ones((2, 3)))


def test_valid_mask_restricts_both_masks():
    a = np.zeros((6, 6), bool)
    b = a.copy()
    a[0:2, 0:4] = True               # 8 px, 4 of them in the ignored half
    b[0:2, 0:2] = True               # 4 px
    valid = np.zeros((6, 6), bool)
    valid[:, :2] = True
    assert restrict_to_valid(a, b, valid)[0].sum() == 4
    assert iou_dice(a, b) == pytest.approx((0.5, 2 * 4 / 12))
    assert iou_dice(a, b, valid=valid) == (1.0, 1.0)
    assert has_valid_pixels(valid) and has_valid_pixels(None)


def test_no_valid_pixel_is_nan_not_perfect():
    """A ground truth entirely ignore_index leaves both masks empty; that is
    'nothing to score' (NaN), not the both-empty perfect score."""
    e = np.zeros((4, 4), bool)
    f = np.ones((4, 4), bool)
    none_valid = np.zeros((4, 4), bool)
    assert not has_valid_pixels(none_valid)
    for pred in (e, f):
        iou, dice = iou_dice(pred, e, valid=none_valid)
        assert np.isnan(iou) and np.isnan(dice)
    with pytest.raises(ValueError, match=r'valid shapes differ.*\(4, 5\)'):
        iou_dice(e, e, valid=np.ones((4, 5), bool))
