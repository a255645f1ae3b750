"""sgdc_mmseg.benchmark.harness: a case per fresh process (the child's
RESULT line), timing and peak memory, untimed measurements, skips and
failures."""
import json
import os

import pytest

from sgdc_mmseg.benchmark import harness
from sgdc_mmseg.benchmark.harness import (SkipCase, case_label,
                                          child_command, result_of,
                                          result_summary, run_case,
                                          run_cases, run_in_subprocess,
                                          time_step)

AGG = dict(kind='aggregate', impl='reference', pass_='fwd+bwd',
           group='aggregate tiny fwd+bwd', device='cpu', B=1, C=4, H=6, W=5,
           k=3, heads=1, dtype='float64')


def test_child_command_runs_the_child_module():
    cmd = child_command(AGG, 'cpu', 3, 1, threads=2)
    assert cmd[1:3] == ['-m', 'sgdc_mmseg.benchmark.child']
    assert json.loads(cmd[3]) == AGG
    assert cmd[4:] == ['--device', 'cpu', '--repeats', '3', '--warmup', '1',
                       '--threads', '2']


def test_result_of_reads_the_last_result_line_or_reports_the_tail():
    out = 'noise\nRESULT {"median_s": 1}\nRESULT {"median_s": 2}\n'
    assert result_of(0, out, '') == {'median_s': 2}
    err = 'Traceback\n  File x\n  line y\nValueError: bad case'
    assert result_of(1, 'no result here', err) == dict(
        error='exit 1:   File x /   line y / ValueError: bad case')


def test_a_case_in_a_fresh_process():
    result = run_in_subprocess(AGG, 'cpu', repeats=2, warmup=1, threads=1,
                               timeout=300)
    assert set(result) == {'times', 'median_s', 'peak_bytes', 'bytes'}
    assert len(result['times']) == 2 and result['median_s'] > 0
    # the builder's extra: what the fused kernels would move (fp64)
    x, logits, lse = 1 * 4 * 30 * 8, 1 * 9 * 30 * 8, 1 * 30 * 4
    fwd = 2 * x + logits + lse
    assert result['bytes'] == (fwd + (2 * x + logits + lse)
                               + (2 * x + 2 * logits + lse))
    if os.path.exists('/proc/self/clear_refs'):
        assert isinstance(result['peak_bytes'], int)


def test_a_failing_case_reports_its_error_and_a_timeout_is_named():
    bad = dict(AGG, impl='no-such-backend')
    result = run_in_subprocess(bad, 'cpu', repeats=1, warmup=0, timeout=300)
    assert result['error'].startswith('exit 1: ')
    assert 'no-such-backend' in result['error']
    assert run_in_subprocess(AGG, 'cpu', 1, 0, timeout=0.01) == dict(
        error='timed out after 0.01 s')


def test_time_step_counts_warmup_repeats_and_cleanups():
    calls = []
    result = time_step(lambda: calls.append('step'),
                       lambda: calls.append('cleanup'), repeats=3, warmup=2,
                       cuda=False)
    assert calls == ['step', 'cleanup'] * 5
    assert len(result['times']) == 3
    assert result['median_s'] == sorted(result['times'])[1]


def test_run_case_untimed_measurement_and_skips(monkeypatch):
    case = dict(kind='x', impl='i', pass_='p', group='g', device='cpu')
    assert run_case(case, lambda c, d: (None, None, dict(flops=7)), 1, 0,
                    None) == dict(flops=7)
    timed = run_case(case, lambda c, d: (lambda: None, lambda: None,
                                         dict(bytes=3)), 2, 0, None)
    assert timed['bytes'] == 3 and len(timed['times']) == 2
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(SkipCase, match='CUDA is not available'):
        run_case(dict(case, device='cuda'), None, 1, 0, None)


def test_case_label_names_the_pass_once():
    assert case_label(AGG) == 'aggregate tiny fwd+bwd | reference'
    assert case_label(dict(group='32x32', impl='sgdc',
                           pass_='eval forward')) == \
        '32x32 | sgdc | eval forward'


def test_child_prints_a_skip(capsys, monkeypatch):
    from sgdc_mmseg.benchmark import cases, child

    def skip(case, device):
        raise SkipCase('not here')

    monkeypatch.setitem(cases.BUILDERS, 'aggregate', skip)
    assert child.main([json.dumps(AGG), '--repeats', '1', '--warmup',
                       '0']) == 0
    assert capsys.readouterr().out == (harness.RESULT_PREFIX
                                       + '{"skipped": "not here"}\n')


def test_a_case_with_skip_is_not_run(monkeypatch):
    def no_process(*args, **kw):
        raise AssertionError('a skipped case started a process')

    monkeypatch.setattr(harness, 'run_in_subprocess', no_process)
    logged = []
    results = run_cases([dict(AGG, skip='too big')], 'cpu', 1, 0,
                        log=logged.append)
    assert results == [dict(skipped='too big')]
    assert logged[0].startswith(
        '[1/1] aggregate tiny fwd+bwd | reference: skipped: too big (')


def test_result_summary_of_untimed_results():
    assert result_summary(dict(summary='sgemm 1.0 GFLOP/s')) == \
        'sgemm 1.0 GFLOP/s'
    assert result_summary(dict(params=1500, flops=None)) == \
        'params 1.500 K, FLOPs n/a'
