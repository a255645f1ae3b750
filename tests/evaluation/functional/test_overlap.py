import numpy as np
import pytest

from sgdc_mmseg.evaluation.functional import (iou_dice, overlap_counts,
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
