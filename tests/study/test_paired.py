"""sgdc_mmseg.study.paired: paired differences, Wilcoxon over images, t-test
over seeds and the hierarchical bootstrap, against hand computations."""
import math

import numpy as np
import pytest

from sgdc_mmseg.study.paired import (bootstrap_ci, difference_matrix,
                                     image_differences, paired_summary,
                                     seed_differences, ttest_over_seeds,
                                     wilcoxon_over_images)


def test_difference_matrix_pairs_seeds_and_images():
    cand = {0: {'a': 3.0, 'b': 5.0, 'c': None}, 1: {'a': 4.0, 'b': 1.0},
            2: {'a': 9.0}}
    base = {0: {'a': 1.0, 'b': 5.0, 'c': 2.0}, 1: {'a': 1.0}}
    seeds, images, d = difference_matrix(cand, base)
    assert seeds == [0, 1]  # seed 2 has no baseline: not paired
    assert images == ['a', 'b', 'c']
    assert d[0, 0] == 2.0 and d[0, 1] == 0.0 and math.isnan(d[0, 2])
    assert d[1, 0] == 3.0 and math.isnan(d[1, 1])
    # image means over the seeds where the image has a value; 'c' none
    assert list(image_differences(d)) == [2.5, 0.0]
    assert list(seed_differences(d)) == [1.0, 3.0]


def test_wilcoxon_exact_without_ties():
    # |d| ranks 1..5, W- = 2: subsets of {1..5} with sum <= 2 are {}, {1},
    # {2}: p = 2 * 3 / 2**5
    assert wilcoxon_over_images([[1, -2, 3, 4, 5]]) == pytest.approx(0.1875)


def test_wilcoxon_zero_and_ties_by_zsplit_normal_approximation():
    # zsplit: ranks of |0, 1, 1, -2| = 1, 2.5, 2.5, 4; the zero's rank is
    # split: W+ = 2.5 + 2.5 + 0.5 = 5.5; mean n(n+1)/4 = 5, variance
    # n(n+1)(2n+1)/24 - (2**3 - 2)/48 = 7.5 - 0.125
    z = (5.5 - 5) / math.sqrt(7.375)
    want = math.erfc(z / math.sqrt(2))  # 2 * (1 - Phi(z))
    assert wilcoxon_over_images([[0, 1, 1, -2]]) == pytest.approx(want)


def test_wilcoxon_averages_seeds_and_needs_two_images():
    # two seeds of 5 images whose mean over seeds is [1, -2, 3, 4, 5]
    d = [[0, -2, 2, 4, 6], [2, -2, 4, 4, 4]]
    assert wilcoxon_over_images(d) == pytest.approx(0.1875)
    assert wilcoxon_over_images([[1.5]]) is None
    assert wilcoxon_over_images([[0.0, 0.0, 0.0]]) == 1.0


def test_ttest_over_seeds_and_a_single_seed():
    # mean 2, sd sqrt(2), t = 2 / (sqrt(2) / sqrt(2)) = 2 with 1 dof:
    # p = 2 * (1/2 - atan(2) / pi)
    want = 2 * (0.5 - math.atan(2) / math.pi)
    assert ttest_over_seeds([1.0, 3.0]) == pytest.approx(want)
    assert ttest_over_seeds([1.0]) is None  # "n/a (1 seed)"
    assert ttest_over_seeds([2.0, 2.0]) is None  # no spread
    assert ttest_over_seeds([1.0, None, 3.0]) == pytest.approx(want)


def test_bootstrap_resamples_images_and_seeds_reproducibly():
    # one seed, images 0 and 10: replicate means 0, 5, 10 (1/4, 1/2, 1/4)
    assert bootstrap_ci([[0.0, 10.0]]) == (0.0, 10.0)
    # constant differences: a point interval
    assert bootstrap_ci([[2.0, 2.0, 2.0]]) == (2.0, 2.0)
    # the spread is between seeds only: resampling the images alone would
    # give (5, 5); drawing the seeds too gives 0, 5 or 10
    assert bootstrap_ci([[0.0, 0.0], [10.0, 10.0]]) == (0.0, 10.0)
    rng = np.random.default_rng(1)
    d = rng.normal(1.0, 2.0, size=(3, 40))
    assert bootstrap_ci(d) == bootstrap_ci(d)  # fixed generator
    low, high = bootstrap_ci(d)
    assert low < d.mean() < high
    assert bootstrap_ci(d, seed=5) != bootstrap_ci(d)
    assert bootstrap_ci([[np.nan, np.nan]]) is None


def test_paired_summary():
    s = paired_summary([[1, -2, 3, 4, 5]])
    assert s['mean'] == pytest.approx(2.2) and s['n_images'] == 5
    assert s['n_seeds'] == 1 and s['p_seeds'] is None
    assert s['p_images'] == pytest.approx(0.1875)
    assert s['ci'][0] < 2.2 < s['ci'][1]
    s = paired_summary([[1.0, 1.0], [3.0, 3.0]], per_seed=[1.0, 3.0])
    assert s['p_seeds'] == pytest.approx(2 * (0.5 - math.atan(2) / math.pi))
    with pytest.raises(ValueError, match='2-D'):
        paired_summary(np.zeros((1, 2, 3)))
