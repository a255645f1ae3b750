"""HD95 / ASSD against a brute-force computation written here.

The reference builds the surfaces with scipy's binary erosion (4-connected
cross, background border) and takes every pairwise Euclidean distance with
``cdist``: no distance transform, no cropping.
"""
import cv2
import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist

from sgdc_mmseg.evaluation.functional import (
    average_symmetric_surface_distance, hausdorff_distance_95,
    image_diagonal, mask_surface, surface_distances, surface_metrics)


def ref_surface(mask):
    cross = ndimage.generate_binary_structure(2, 1)
    return mask & ~ndimage.binary_erosion(mask, cross, border_value=0)


def ref_directed(a, b, spacing=(1.0, 1.0)):
    pa = np.argwhere(ref_surface(a)) * np.asarray(spacing)
    pb = np.argwhere(ref_surface(b)) * np.asarray(spacing)
    return cdist(pa, pb).min(axis=1)


def ref_hd95(a, b, spacing=(1.0, 1.0)):
    return max(np.percentile(ref_directed(a, b, spacing), 95),
               np.percentile(ref_directed(b, a, spacing), 95))


def ref_assd(a, b, spacing=(1.0, 1.0)):
    d = np.concatenate([ref_directed(a, b, spacing),
                        ref_directed(b, a, spacing)])
    return d.mean()


def blob(rng, shape, n=3):
    mask = np.zeros(shape, np.uint8)
    for _ in range(n):
        c = (int(rng.integers(0, shape[1])), int(rng.integers(0, shape[0])))
        axes = (int(rng.integers(2, shape[1] // 3)),
                int(rng.integers(2, shape[0] // 3)))
        cv2.ellipse(mask, c, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask.astype(bool)


def test_two_pixels_at_a_3_4_5_distance():
    a = np.zeros((10, 12), bool)
    b = a.copy()
    a[1, 2] = True
    b[4, 6] = True
    assert hausdorff_distance_95(a, b) == pytest.approx(5.0, abs=1e-6)
    assert average_symmetric_surface_distance(a, b) == pytest.approx(5.0)


def test_concentric_squares_distances_are_exact_integers():
    # Inner square rows/cols 10..19, outer 6..23: each inner surface pixel
    # is exactly 4 px from the outer surface (straight sides).
    inner = np.zeros((32, 32), bool)
    outer = inner.copy()
    inner[10:20, 10:20] = True
    outer[6:24, 6:24] = True
    d_in_out, d_out_in = surface_distances(inner, outer)
    np.testing.assert_allclose(d_in_out, 4.0, atol=1e-5)
    # Outer corners are 4*sqrt(2) from the inner corners, sides 4.
    assert d_out_in.max() == pytest.approx(4 * np.sqrt(2), abs=1e-4)
    assert d_out_in.min() == pytest.approx(4.0, abs=1e-5)
    assert hausdorff_distance_95(inner, outer) == pytest.approx(
        ref_hd95(inner, outer), abs=1e-4)


def test_disc_radius_difference():
    a = np.zeros((101, 101), np.uint8)
    b = a.copy()
    cv2.circle(a, (50, 50), 20, 1, -1)
    cv2.circle(b, (50, 50), 35, 1, -1)
    a, b = a.astype(bool), b.astype(bool)
    hd = hausdorff_distance_95(a, b)
    assert hd == pytest.approx(ref_hd95(a, b), abs=1e-4)
    # Rasterised circles: distances stay within a pixel of 35 - 20.
    assert 14.0 <= hd <= 16.0
    assert average_symmetric_surface_distance(a, b) == pytest.approx(
        ref_assd(a, b), abs=1e-4)


@pytest.mark.parametrize('seed', range(6))
def test_random_masks_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(20, 90)), int(rng.integers(20, 90)))
    a, b = blob(rng, shape), blob(rng, shape)
    assert a.any() and b.any()
    hd95, assd = surface_metrics(a, b)
    assert hd95 == pytest.approx(ref_hd95(a, b), abs=1e-4)
    assert assd == pytest.approx(ref_assd(a, b), abs=1e-4)
    assert hausdorff_distance_95(a, b) == pytest.approx(hd95)
    assert average_symmetric_surface_distance(a, b) == pytest.approx(assd)


def test_masks_touching_the_border_and_large_distances():
    # Surface pixels on the image border; distances of several hundred px
    # stay within 1e-4 in float32.
    a = np.zeros((600, 700), bool)
    b = a.copy()
    a[:40, :50] = True
    b[550:, 640:] = True
    assert hausdorff_distance_95(a, b) == pytest.approx(ref_hd95(a, b),
                                                        abs=1e-4)
    assert average_symmetric_surface_distance(a, b) == pytest.approx(
        ref_assd(a, b), abs=1e-4)


@pytest.fixture(params=[1, 2], ids=['cv2-1-thread', 'cv2-2-threads'])
def cv2_threads(request):
    # OpenCV's distance transform is less accurate with one thread.
    old = cv2.getNumThreads()
    cv2.setNumThreads(request.param)
    yield request.param
    cv2.setNumThreads(old)


def test_thousand_pixel_images_stay_within_1e4(cv2_threads):
    # Distances up to ~1400 px, where float32 has its coarsest steps among
    # the sizes that matter: random blobs in opposite corners plus a shifted
    # copy, checked against the brute force.
    rng = np.random.default_rng(5)
    a = np.zeros((1000, 1000), bool)
    a[:120, :150] = blob(rng, (120, 150))
    b = np.zeros_like(a)
    b[880:, 860:] = blob(rng, (120, 140))
    b |= np.roll(a, (7, -3), axis=(0, 1))
    for x, y in ((a, b), (b, a)):
        d_xy, d_yx = surface_distances(x, y)
        assert d_xy.dtype == np.float64
        np.testing.assert_allclose(d_xy, ref_directed(x, y), atol=1e-4)
        np.testing.assert_allclose(d_yx, ref_directed(y, x), atol=1e-4)
    hd95, assd = surface_metrics(a, b)
    assert hd95 > 1000
    assert hd95 == pytest.approx(ref_hd95(a, b), abs=1e-4)
    assert assd == pytest.approx(ref_assd(a, b), abs=1e-4)


@pytest.mark.parametrize('spacing', [0.5, (2.0, 0.7)])
def test_spacing(spacing):
    rng = np.random.default_rng(11)
    a, b = blob(rng, (40, 50)), blob(rng, (40, 50))
    sp = (spacing, spacing) if np.isscalar(spacing) else spacing
    hd95, assd = surface_metrics(a, b, spacing)
    assert hd95 == pytest.approx(ref_hd95(a, b, sp), abs=1e-4)
    assert assd == pytest.approx(ref_assd(a, b, sp), abs=1e-4)


def test_differs_from_pooled_percentile():
    # b = a plus a small far blob: d(a -> b) is all 0 and about 10% of
    # d(b -> a) is large, so the max of the directed P95 (ours, MONAI) is
    # large while the P95 of both directions pooled (medpy) is not.
    a = np.zeros((60, 60), bool)
    a[5:25, 5:25] = True
    b = a.copy()
    b[50:53, 50:53] = True
    d_ab, d_ba = ref_directed(a, b), ref_directed(b, a)
    pooled = np.percentile(np.concatenate([d_ab, d_ba]), 95)
    ours = hausdorff_distance_95(a, b)
    assert ours == pytest.approx(max(np.percentile(d_ab, 95),
                                     np.percentile(d_ba, 95)), abs=1e-4)
    assert ours > pooled + 1


def test_empty_rules():
    empty = np.zeros((30, 40), bool)
    full = empty.copy()
    full[3:9, 4:12] = True
    diag = image_diagonal(empty.shape)
    assert diag == pytest.approx(50.0)
    assert hausdorff_distance_95(empty, empty, empty_distance=diag) == 0.0
    assert average_symmetric_surface_distance(empty, empty) == 0.0
    assert hausdorff_distance_95(full, empty, empty_distance=diag) == diag
    assert hausdorff_distance_95(empty, full, empty_distance=diag) == diag
    assert np.isnan(hausdorff_distance_95(empty, full))
    assert surface_metrics(empty, full, None, 7.0) == (7.0, 7.0)
    with pytest.raises(ValueError, match='non-empty'):
        surface_distances(empty, full)


def test_valid_mask_and_no_valid_pixel():
    gt = np.zeros((20, 20), bool)
    gt[2:8, 2:8] = True
    pred = gt.copy()
    pred[14:18, 14:18] = True        # a false positive in an ignored corner
    valid = np.ones((20, 20), bool)
    valid[12:, 12:] = False
    assert hausdorff_distance_95(pred, gt) > 5
    # removed from both masks, the prediction equals the ground truth
    assert hausdorff_distance_95(pred, gt, valid=valid) == 0.0
    assert surface_metrics(pred, gt, valid=valid) == (0.0, 0.0)
    assert average_symmetric_surface_distance(pred, gt, valid=valid) == 0.0
    # no valid pixel: nothing to measure, NaN (not the both-empty 0)
    none_valid = np.zeros((20, 20), bool)
    assert np.isnan(hausdorff_distance_95(pred, gt, empty_distance=28.0,
                                          valid=none_valid))
    assert np.isnan(average_symmetric_surface_distance(
        pred, gt, empty_distance=28.0, valid=none_valid))
    assert all(np.isnan(v) for v in surface_metrics(
        np.zeros_like(gt), np.zeros_like(gt), None, 28.0, none_valid))
    with pytest.raises(ValueError, match='valid shapes differ'):
        surface_metrics(pred, gt, valid=np.ones((20, 21), bool))


def test_surface_of_a_square_is_its_outline():
    m = np.zeros((8, 8), bool)
    m[2:6, 2:6] = True
    s = mask_surface(m)
    assert s.sum() == 12 and not s[3:5, 3:5].any()
    # touching the image border: the border pixels are surface
    full = np.ones((5, 5), bool)
    assert mask_surface(full).sum() == 16


def test_bad_input():
    with pytest.raises(ValueError, match='shapes differ'):
        hausdorff_distance_95(np.ones((3, 3)), np.ones((3, 4)))
    with pytest.raises(ValueError, match='2-D'):
        hausdorff_distance_95(np.ones((1, 3, 3)), np.ones((1, 3, 3)))
    with pytest.raises(ValueError, match='spacing'):
        surface_metrics(np.ones((3, 3)), np.ones((3, 3)), spacing=-1)
