"""SGE-based separation of touching nuclei: two touching squares (exact),
two touching discs, seedless components, small seeds, bad inputs."""
import numpy as np
import pytest
from scipy import ndimage
from skimage.segmentation import find_boundaries

from sgdc_mmseg.evaluation.functional import (instance_scores,
                                              label_components,
                                              split_instances)


def touching_squares():
    """Two 8x8 nuclei side by side; the boundary map marks the contact
    band (column 7 of the left one, column 8 of the right one)."""
    gt = np.zeros((12, 20), np.int32)
    gt[2:10, 0:8] = 1
    gt[2:10, 8:16] = 2
    boundary = np.zeros(gt.shape)
    boundary[2:10, 7:9] = 0.9
    return gt, boundary


def touching_discs():
    yy, xx = np.mgrid[:40, :60]
    d1 = (yy - 20) ** 2 + (xx - 20) ** 2 <= 100
    d2 = (yy - 20) ** 2 + (xx - 37) ** 2 <= 100
    gt = np.zeros((40, 60), np.int32)
    gt[d1] = 1
    gt[d2 & ~d1] = 2
    return gt


def test_touching_squares_split_exactly():
    gt, boundary = touching_squares()
    fg = gt > 0
    merged = label_components(fg)
    assert merged.max() == 1
    assert instance_scores(gt, merged)['PQ'] == 0.0   # IoU 0.5 each
    split = split_instances(fg, boundary)
    assert split.max() == 2
    assert instance_scores(gt, split) == dict(AJI=1.0, AJIplus=1.0, DQ=1.0,
                                              SQ=1.0, PQ=1.0)


def test_touching_discs_split_along_the_boundary_map():
    gt = touching_discs()
    fg = gt > 0
    assert label_components(fg).max() == 1
    boundary = find_boundaries(gt, mode='inner').astype(float)
    blurred = ndimage.gaussian_filter(boundary, 1.0)
    blurred /= blurred.max()
    # the blurred map dips below 0.5 in single rim pixels: 6 one-pixel
    # seeds besides the two interiors, which min_seed_area (10) drops
    assert split_instances(fg, blurred, min_seed_area=1).max() == 8
    for prob in (boundary, blurred):
        split = split_instances(fg, prob)
        assert split.max() == 2
        assert np.array_equal(split > 0, fg)          # foreground unchanged
        for g in (1, 2):
            ids, counts = np.unique(split[gt == g], return_counts=True)
            p = ids[np.argmax(counts)]
            iou = np.sum((split == p) & (gt == g)) / np.sum(
                (split == p) | (gt == g))
            assert iou > 0.9
    merged = instance_scores(gt, label_components(fg))
    after = instance_scores(gt, split)
    assert merged['AJI'] == pytest.approx(0.5)
    assert after['AJI'] > 0.9 and after['PQ'] > 0.9 > merged['PQ']


def test_seedless_component_is_kept():
    gt, boundary = touching_squares()
    fg = gt > 0
    fg[0, 18:20] = True             # a tiny blob that is all boundary
    boundary[0, 18:20] = 1.0
    fg[11, 17:19] = True            # a 2-px blob whose seed is too small
    split = split_instances(fg, boundary)
    assert np.array_equal(split > 0, fg)
    assert split.max() == 4
    assert len(np.unique(split[0, 18:20])) == 1
    assert len(np.unique(split[11, 17:19])) == 1


def test_min_seed_area_drops_noise_seeds():
    fg = np.zeros((12, 12), bool)
    fg[1:11, 1:11] = True
    boundary = np.full(fg.shape, 0.8)
    boundary[3:9, 3:9] = 0.0          # the interior: one seed of 36 px
    boundary[1, 10] = 0.0             # a 1-px seed in the corner
    assert split_instances(fg, boundary, min_seed_area=1).max() == 2
    one = split_instances(fg, boundary, min_seed_area=2)
    assert one.max() == 1 and np.array_equal(one > 0, fg)


def test_threshold_chooses_the_seeds():
    gt, boundary = touching_squares()
    # with threshold 0.95 the contact band (0.9) seeds too: one instance
    assert split_instances(gt > 0, boundary, threshold=0.95).max() == 1


def test_bad_inputs():
    fg = np.ones((4, 4), bool)
    with pytest.raises(ValueError, match='apply a sigmoid'):
        split_instances(fg, np.full((4, 4), 3.0))
    with pytest.raises(ValueError, match=r'shape \(4, 5\)'):
        split_instances(fg, np.zeros((4, 5)))
    with pytest.raises(ValueError, match='non-finite'):
        split_instances(fg, np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match='threshold'):
        split_instances(fg, np.zeros((4, 4)), threshold=0)
    with pytest.raises(ValueError, match='min_seed_area'):
        split_instances(fg, np.zeros((4, 4)), min_seed_area=0)
    assert split_instances(np.zeros((3, 3)), np.zeros((3, 3))).max() == 0
