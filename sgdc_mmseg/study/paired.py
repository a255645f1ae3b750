"""Paired statistics of a comparison (candidate, baseline): every variant is
scored on the same images with the same seeds, so the differences are
taken image by image and seed by seed.

Data: a *difference matrix* ``d[s, i]`` = candidate − baseline of one
metric on image ``i`` for seed ``s`` (seed ``s`` of the candidate against
seed ``s`` of the baseline; :func:`difference_matrix`), NaN where either
side has no value (an undefined metric, an image or a seed missing on one
side). Differences are raw (candidate − baseline); which sign is better
depends on the metric.

* :func:`wilcoxon_over_images`: the two-sided Wilcoxon signed-rank test
  (``scipy.stats.wilcoxon``) of the per-image differences averaged over
  the seeds (``mean_s d[s, i]`` over the seeds where image ``i`` has a
  value). Zero differences are handled with ``zero_method='zsplit'`` (their
  ranks split half to the positive, half to the negative sum, so they
  count as evidence of "no difference" and are not dropped); tied absolute
  differences get average ranks. The p-value is exact
  (``method='exact'``) for at most :data:`EXACT_MAX_IMAGES` images without
  zeros or ties, else the normal approximation with scipy's tie correction
  and no continuity correction (``method='approx'``), chosen here rather
  than by scipy's version-dependent ``'auto'``. Fewer than
  :data:`MIN_IMAGES` images: ``None`` (not run); every difference zero:
  p = 1. With few images the test cannot reach small p-values (5 images
  without ties: p >= 0.0625).
* :func:`ttest_over_seeds`: the two-sided paired t-test over seeds, i.e.
  ``scipy.stats.ttest_1samp`` of the per-seed mean differences against 0
  (the same as ``ttest_rel`` of the per-seed means). One seed: ``None``
  (reported as "n/a (1 seed)"); every seed the same difference: ``None``
  (no spread: the t statistic is undefined).
* :func:`bootstrap_ci`: a percentile bootstrap 95 % confidence interval of
  the mean difference. Each of ``B`` (:data:`BOOTSTRAP_B` = 2000)
  replicates draws the images with replacement and, with more than one
  seed, the seeds with replacement too (a two-level, *hierarchical*
  bootstrap: the same image draw for every drawn seed, as the images are
  shared), and takes the mean of the drawn cells (NaN cells left out).
  The generator is ``numpy.random.default_rng(BOOTSTRAP_SEED)`` (0), so a
  report regenerates byte for byte.
* :func:`paired_summary`: all of the above for one matrix.

Everything here is a pure function of its arguments.
"""
import math
import warnings

import numpy as np

#: Fewest images for the Wilcoxon test (below: not run).
MIN_IMAGES = 2
#: Most images for the exact Wilcoxon p-value.
EXACT_MAX_IMAGES = 50
#: Bootstrap replicates and the generator seed.
BOOTSTRAP_B = 2000
BOOTSTRAP_SEED = 0


def difference_matrix(candidate, baseline):
    """(seeds, images, matrix) of the paired differences.

    ``candidate`` and ``baseline`` map seed -> {image: value or None}. Only
    the seeds both sides have are paired (sorted), and the images of the
    union of those seeds' images (sorted); a cell is NaN where either side
    has no finite value.
    """
    seeds = sorted(set(candidate) & set(baseline))
    images = sorted({i for s in seeds for i in candidate[s]} |
                    {i for s in seeds for i in baseline[s]})
    d = np.full((len(seeds), len(images)), np.nan)
    for r, s in enumerate(seeds):
        for c, image in enumerate(images):
            a, b = candidate[s].get(image), baseline[s].get(image)
            if _finite(a) and _finite(b):
                d[r, c] = float(a) - float(b)
    return seeds, images, d


def _finite(value):
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _as_matrix(d):
    d = np.asarray(d, dtype=float)
    if d.ndim == 1:
        d = d[None, :]
    if d.ndim != 2:
        raise ValueError(f'difference matrix must be 2-D (seeds x images), '
                         f'got shape {d.shape}')
    return d


def image_differences(d):
    """Per-image differences averaged over the seeds (images without any
    value left out)."""
    d = _as_matrix(d)
    keep = ~np.isnan(d).all(axis=0)
    if not keep.any():
        return np.zeros(0)
    return np.nanmean(d[:, keep], axis=0)


def seed_differences(d):
    """Per-seed mean differences (seeds without any value left out)."""
    d = _as_matrix(d)
    keep = ~np.isnan(d).all(axis=1)
    if not keep.any():
        return np.zeros(0)
    return np.nanmean(d[keep], axis=1)


def wilcoxon_over_images(d, min_images=MIN_IMAGES):
    """Two-sided Wilcoxon signed-rank p over images (module docstring);
    ``None`` with fewer than ``min_images`` images."""
    x = image_differences(d)
    if len(x) < min_images:
        return None
    if not np.any(x):
        return 1.0
    from scipy import stats
    ties = len(np.unique(np.abs(x))) < len(x)
    exact = len(x) <= EXACT_MAX_IMAGES and np.all(x != 0) and not ties
    with warnings.catch_warnings():  # small n: scipy warns, p still valid
        warnings.simplefilter('ignore')
        return float(stats.wilcoxon(
            x, zero_method='zsplit', alternative='two-sided',
            method='exact' if exact else 'approx').pvalue)


def ttest_over_seeds(per_seed):
    """Two-sided paired t-test p over seeds from the per-seed mean
    differences; ``None`` with one seed or no spread."""
    x = np.asarray([v for v in per_seed if _finite(v)], dtype=float)
    if len(x) < 2 or np.all(x == x[0]):
        return None
    from scipy import stats
    return float(stats.ttest_1samp(x, 0.0).pvalue)


def bootstrap_ci(d, b=BOOTSTRAP_B, seed=BOOTSTRAP_SEED, level=0.95):
    """(low, high) percentile bootstrap CI of the mean difference,
    resampling images and (more than one seed) seeds; ``None`` without
    any value."""
    d = _as_matrix(d)
    d = d[:, ~np.isnan(d).all(axis=0)]
    d = d[~np.isnan(d).all(axis=1)]
    n_seeds, n_images = d.shape
    if n_images == 0:
        return None
    rng = np.random.default_rng(seed)
    valid = ~np.isnan(d)
    filled = np.where(valid, d, 0.0)
    means = np.empty(b)
    for k in range(b):
        rows = rng.integers(0, n_seeds, n_seeds) if n_seeds > 1 \
            else np.zeros(1, dtype=int)
        cols = rng.integers(0, n_images, n_images)
        count = valid[np.ix_(rows, cols)].sum()
        means[k] = filled[np.ix_(rows, cols)].sum() / count if count \
            else np.nan
    means = means[~np.isnan(means)]
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def paired_summary(d, per_seed=None):
    """The paired statistics of one difference matrix ``d``: ``mean``
    (of all cells with a value), ``n_images``, ``n_seeds``, ``ci``
    (:func:`bootstrap_ci`), ``p_images`` (:func:`wilcoxon_over_images`) and
    ``p_seeds`` (:func:`ttest_over_seeds` of ``per_seed`` when given, e.g.
    the per-seed differences of the summary metric, else of
    :func:`seed_differences`)."""
    d = _as_matrix(d)
    has = ~np.isnan(d)
    if per_seed is None:
        per_seed = list(seed_differences(d))
    return dict(
        mean=float(np.nanmean(d)) if has.any() else None,
        n_images=int(has.any(axis=0).sum()),
        n_seeds=len(per_seed),
        ci=bootstrap_ci(d),
        p_images=wilcoxon_over_images(d),
        p_seeds=ttest_over_seeds(per_seed))
