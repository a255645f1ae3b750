"""sgdc_mmseg.study.statistics: mean +- sample std, Welch's t-test and the
signed comparisons of a study."""
import math
import statistics

import pytest

from sgdc_mmseg.study.statistics import (compare_variants, format_mean_std,
                                         mean_std, welch_p_value)


def test_mean_std_and_format():
    m, s, n = mean_std([1.0, 2.0, 4.0, None, float('nan'), float('inf')])
    assert n == 3 and m == pytest.approx(7 / 3)
    assert s == pytest.approx(statistics.stdev([1, 2, 4]))
    assert mean_std([5.0]) == (5.0, None, 1)
    assert mean_std([]) == (None, None, 0)
    assert mean_std([None]) == (None, None, 0)
    assert format_mean_std(1.234, 0.5) == '1.23 ± 0.50'
    assert format_mean_std(1.23456, 0.5, 3) == '1.235 ± 0.500'
    assert format_mean_std(1.234, None) == '1.23'
    assert format_mean_std(None, None) == '—'


def test_welch_matches_the_formula():
    a, b = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0]
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    va, vb = statistics.variance(a) / 3, statistics.variance(b) / 4
    t = (ma - mb) / math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 3)
    from scipy import stats
    assert welch_p_value(a, b) == pytest.approx(2 * stats.t.sf(abs(t), dof))
    assert welch_p_value(a + [None], b) == welch_p_value(a, b)
    assert welch_p_value([1.0], b) is None
    assert welch_p_value([1.0, 1.0], [2.0, 2.0]) is None
    assert welch_p_value([1.0, 1.0], [2.0, 3.0]) is not None


def _row(variant, seed, iou, hd95, status='done'):
    return dict(variant=variant, seed=seed, status=status, IoU=iou,
                Dice=iou + 5, HD95=hd95, ASSD=hd95 / 3, mmseg_mIoU=iou + 10)


def test_comparison_signs_follow_the_better_direction():
    rows = [_row('a', 0, 80.0, 10.0), _row('a', 1, 82.0, 12.0),
            _row('b', 0, 78.0, 14.0), _row('b', 1, 79.0, 16.0),
            _row('b', 2, 0.0, 99.0, status='failed')]
    comps = compare_variants(rows, [('a', 'b')])
    assert [c['metric'] for c in comps] == [
        'IoU (%)', 'Dice (%)', 'HD95 (px)', 'ASSD (px)', 'mmseg mIoU (%)']
    by_metric = {c['metric']: c for c in comps}
    iou, hd = by_metric['IoU (%)'], by_metric['HD95 (px)']
    assert iou['candidate'] == 'a' and iou['baseline'] == 'b'
    assert iou['diff'] == pytest.approx(2.5)
    assert iou['better_by'] == pytest.approx(2.5)
    assert iou['ratio'] == pytest.approx(2.5 / statistics.stdev([80, 82]))
    assert hd['diff'] == pytest.approx(-4.0)  # lower HD95: a is better
    assert hd['better_by'] == pytest.approx(4.0)
    assert iou['n'] == (2, 2)  # the failed run does not count
    assert iou['p'] == pytest.approx(welch_p_value([80, 82], [78, 79]))


def test_comparison_without_spread_or_runs():
    rows = [_row('a', 0, 80.0, 10.0), _row('b', 0, 78.0, 14.0)]
    iou = compare_variants(rows, [('a', 'b')])[0]
    assert iou['std_candidate'] is None and iou['ratio'] is None
    assert iou['p'] is None and iou['n'] == (1, 1)
    assert compare_variants(rows, [('a', 'c')]) == []
    rows[1]['IoU'] = None
    assert 'IoU (%)' not in [c['metric']
                             for c in compare_variants(rows, [('a', 'b')])]
