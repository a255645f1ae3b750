"""Statistics over the seeds of a study.

* :func:`mean_std`: mean and *sample* standard deviation (n - 1) of the
  finite values (``None``, NaN and inf are left out; one value has no std).
* :func:`welch_p_value`: the two-sided p-value of Welch's t-test (unequal
  variances, scipy), ``None`` where it is undefined (fewer than two values
  on a side, or no spread on either side).
* :func:`compare_variants`: per (candidate, baseline) pair and metric, the
  difference of the means signed so that positive means the candidate is
  better, both seed stds, that signed difference over the larger std, and
  Welch's p.

Rows are the dicts of :func:`sgdc_mmseg.study.report.result_row`:
``variant``, ``status`` (only ``'done'`` rows count) and one value per
metric column.
"""
import math
import statistics
import warnings

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


def compare_variants(rows, pairs, metrics=METRICS):
    """Per (candidate, baseline) pair and metric: a dict with
    ``candidate``, ``baseline``, ``metric`` (the label), ``diff``,
    ``better_by``, ``std_candidate``, ``std_baseline``, ``n``, ``ratio`` and
    ``p`` (see the module docstring). Pairs without finished runs on both
    sides are left out."""
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
                                metric=metric.label, **comparison))
    return out
