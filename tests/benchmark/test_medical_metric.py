"""sgdc_mmseg.benchmark.medical_metric: seeded pairs, and the scipy loop
and MedicalMetric agree on HD95."""
import numpy as np

from sgdc_mmseg.benchmark.medical_metric import (make_pairs,
                                                 scipy_hd95_loop,
                                                 time_medical_metric)


def test_pairs_are_seeded_binary_masks():
    a, b = make_pairs(3, 32, seed=1), make_pairs(3, 32, seed=1)
    assert all(np.array_equal(p, q) and np.array_equal(g, h)
               for (p, g), (q, h) in zip(a, b))
    pred, gt = a[0]
    assert pred.shape == gt.shape == (32, 32) and gt.dtype == np.uint8
    assert set(np.unique(gt)) <= {0, 1} and gt.any()


def test_scipy_loop_equals_medical_metric():
    pairs = make_pairs(5, 48, seed=0)
    seconds, res, hd = time_medical_metric(pairs)
    assert seconds > 0 and 'medical/mHD95' in res
    np.testing.assert_allclose(hd, scipy_hd95_loop(pairs), atol=1e-4)


def test_scipy_loop_hand_case():
    gt = np.zeros((9, 9), np.uint8)
    gt[2:5, 2:5] = 1
    pred = np.roll(gt, 3, axis=1)  # the square moved 3 px right
    assert scipy_hd95_loop([(pred, gt)]).tolist() == [3.0]
