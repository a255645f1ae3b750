"""Statistics over the seeds of a study.

* :func:`mean_std`: mean and *sample* standard deviation (n - 1) of the
  finite values (``None``, NaN and inf are left out; one value has no std).
* :func:`welch_p_value`: the two-sided p-value of Welch's t-test (unequal
  variances, scipy), ``None`` where it is undefined (fewer than two values
  on a side, or no spread on either side).
* :func:`compare_variants`: per (candidate, baseline) pair and metric, the
  difference of the means signed so that positive means the candidate is
  better, both seed stds, that signed difference over the larger std, and
  Welch's p; beside them the paired statistics of :mod:`.paired`: the
  paired t-test over seeds (seed ``s`` of the candidate against seed ``s``
  of the baseline, on the rows' metric values) and, where both sides have
  per-image values, the Wilcoxon signed-rank test over images and the
  bootstrap CI of the mean per-image difference.

Rows are the dicts of :func:`sgdc_mmseg.study.report.result_row` (one per
seed; with folds, pooled over the folds by
:func:`sgdc_mmseg.study.report.seed_rows`): ``variant``, ``seed``,
``status`` (only ``'done'`` rows count), one value per metric column and
optionally ``per_image`` (metric column -> {image: value}).
"""
import math
import statistics
import warnings

from .paired import difference_matrix, paired_summary, ttest_over_seeds
from .schema import METRICS


def mean_std(values):
    """(mean, sample std or None, n) of the finite values."""
    vals = [float(v) for v in values
            if v is not None and math.isfinite(float(v))]
    if not vals:
        return None, None, 0
    std = statistics.stdev(vals) if len(vals) > 1 else None
    return statistics.fmean(vals), std, len(vals)


def format_mean_std(mean, std, digits=2):
    """``'1.23 ± 0.50'``; ``'1.23'`` without a std; ``'—'`` without a
    mean."""
    if mean is None:
        return '—'
    if std is None:
        return f'{mean:.{digits}f}'
    return f'{mean:.{digits}f} ± {std:.{digits}f}'


def welch_p_value(a, b):
    """Welch's two-sided t-test p-value (None when undefined)."""
    a = [float(x) for x in a if x is not None]
    b = [float(x) for x in b if x is not None]
    if len(a) < 2 or len(b) < 2:
        return None
    if statistics.stdev(a) == 0 and statistics.stdev(b) == 0:
        return None
    from scipy import stats
    with warnings.catch_warnings():  # near-identical values: still defined
        warnings.simplefilter('ignore', RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def _compare_metric(a, b, higher_is_better):
    """The comparison of one metric's candidate values ``a`` with the
    baseline values ``b`` (None when either side has no value)."""
    ma, sa, na = mean_std(a)
    mb, sb, nb = mean_std(b)
    if ma is None or mb is None:
        return None
    diff = ma - mb
    better = diff if higher_is_better else -diff
    spread = max(s for s in (sa, sb, 0.0) if s is not None)
    return dict(diff=diff, better_by=better, std_candidate=sa,
                std_baseline=sb, n=(na, nb),
                ratio=(better / spread) if spread else None,
                p=welch_p_value(a, b))


def paired_comparison(cand_rows, base_rows, metric):
    """The paired statistics of one metric (:func:`.paired.paired_summary`
    keys, ``None`` where not computable): seeds paired by their number, the
    t-test over seeds on the rows' values, the per-image statistics from
    the rows' ``per_image`` (``mean``/``ci``/``p_images`` None and
    ``n_images`` 0 without per-image values on both sides)."""
    def by_seed(rows, get):
        out = {}
        for r in rows:
            value = get(r)
            if value is not None:
                out[r['seed']] = value
        return out
    values_c = by_seed(cand_rows, lambda r: r.get(metric.column))
    values_b = by_seed(base_rows, lambda r: r.get(metric.column))
    seeds = sorted(s for s in set(values_c) & set(values_b)
                   if math.isfinite(float(values_c[s])) and
                   math.isfinite(float(values_b[s])))
    per_seed = [float(values_c[s]) - float(values_b[s]) for s in seeds]
    out = dict(mean=None, n_images=0, ci=None, p_images=None)
    if metric.per_image:
        images_c = by_seed(cand_rows, lambda r: (r.get('per_image') or {})
                           .get(metric.column))
        images_b = by_seed(base_rows, lambda r: (r.get('per_image') or {})
                           .get(metric.column))
        _, _, d = difference_matrix(images_c, images_b)
        if d.size:
            out = paired_summary(d, per_seed)
    out.update(n_seeds=len(per_seed), p_seeds=ttest_over_seeds(per_seed))
    return out


def compare_variants(rows, pairs, metrics=METRICS):
    """Per (candidate, baseline) pair and metric: a dict with
    ``candidate``, ``baseline``, ``metric`` (the label), ``diff``,
    ``better_by``, ``std_candidate``, ``std_baseline``, ``n``, ``ratio``,
    ``p`` (see the module docstring) and ``paired``
    (:func:`paired_comparison`). Pairs without finished runs on both sides
    are left out."""
    out = []
    by_variant = {}
    for row in rows:
        if row['status'] == 'done':
            by_variant.setdefault(row['variant'], []).append(row)
    for cand, base in pairs:
        if cand not in by_variant or base not in by_variant:
            continue
        for metric in metrics:
            comparison = _compare_metric(
                [r[metric.column] for r in by_variant[cand]],
                [r[metric.column] for r in by_variant[base]],
                metric.higher_is_better)
            if comparison is not None:
                out.append(dict(candidate=cand, baseline=base,
                                metric=metric.label, **comparison,
                                paired=paired_comparison(
                                    by_variant[cand], by_variant[base],
                                    metric)))
    return out
