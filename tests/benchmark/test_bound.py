"""sgdc_mmseg.benchmark.bound: the op's FLOPs and compulsory bytes against
hand counts, the bound, the table and section text, the CLI's checks and a
``--quick`` run of ``--only bound`` writing its section."""
import re

import pytest

from sgdc_mmseg.benchmark.bound import (BEGIN, END, bound_cases,
                                        bound_section, bound_seconds,
                                        bound_table, op_bytes, op_flops)
from sgdc_mmseg.benchmark.sgdc import SGDCBenchmarkOptions, resolve_defaults
from sgdc_mmseg.cli.benchmark_sgdc import main

# X = B*C*H*W = 1*2*3*2 = 12, L = B*heads*k*k*H*W = 1*1*9*6 = 54
SMALL = dict(B=1, C=2, H=3, W=2, k=3, heads=1)
INFO = dict(cpu='Test CPU', cores=2, usable_cores=2, threads=2,
            python='3.11', torch='2.x', gpu=None)
PEAKS = dict(sgemm_n=2048, sgemm_flops_per_s=100e9, copy_bytes=256 << 20,
             copy_bytes_per_s=20e9, read_bytes_per_s=25e9, calls=5,
             isa='AVX2', lanes=8, threads=2, mhz=2500.0,
             theoretical_flops_per_s=160e9)


def options(**kw):
    return resolve_defaults(SGDCBenchmarkOptions(**kw))


def test_flops_by_hand():
    # forward: 2*9*12 (weighted sum) + 4*54 (softmax) = 216 + 216
    # backward: 2*9*12 (grad x) + 2*9*12 + 4*54 (grad logits) = 648
    assert op_flops(SMALL) == dict(forward=432, backward=648, total=1080)


def test_compulsory_bytes_by_hand():
    # forward: x 12 + logits 54 read, out 12 + kernels 54 written = 132
    # backward: grad_out 12, x 12, kernels 54 read; grad x 12, grad
    # logits 54 written = 144; 4 bytes each
    assert op_bytes(SMALL) == dict(forward=528, backward=576, total=1104)
    assert op_bytes(SMALL, itemsize=8)['total'] == 2208


def test_bound_is_the_slower_of_compute_and_memory():
    assert bound_seconds(2e9, 1e9, 10e9, 20e9) == dict(
        compute_s=0.2, memory_s=0.05, bound_s=0.2, limit='compute')
    memory = bound_seconds(1e9, 4e9, 10e9, 20e9)
    assert memory['bound_s'] == memory['memory_s'] == 0.2
    assert memory['limit'] == 'memory'
    with pytest.raises(ValueError, match='bytes_per_s must be positive'):
        bound_seconds(1, 1, 1e9, 0)


def test_cases_machine_then_each_backend():
    full = bound_cases(options())
    assert [(c['kind'], c['impl']) for c in full] == [
        ('machine', 'peaks'), ('aggregate', 'reference'),
        ('aggregate', 'shift'), ('aggregate', 'cpp')]
    assert (full[0]['n'], full[0]['copy_mib']) == (2048, 256)
    op = full[1]
    assert (op['B'], op['C'], op['H'], op['W'], op['k'], op['heads'],
            op['dtype'], op['pass_']) == (2, 256, 128, 128, 7, 4, 'float32',
                                          'fwd+bwd')
    assert {c['section'] for c in full} == {'bound'}
    quick = bound_cases(options(quick=True))
    assert quick[0]['n'] < 2048 and quick[1]['C'] < 256


def _op_cases():
    return [dict(kind='aggregate', impl=i, pass_='fwd+bwd', group='g',
                 device='cpu', dtype='float32', **SMALL)
            for i in ('reference', 'shift', 'cpp')]


def test_table_rates_bound_and_ratios():
    results = [dict(median_s=2e-6, peak_bytes=4 << 20),
               dict(median_s=1e-6, peak_bytes=1 << 20),
               dict(skipped='no compiler')]
    bound = dict(bound_s=0.5e-6)
    lines = bound_table(_op_cases(), results, bound).splitlines()
    assert lines[0] == ('| impl | fwd+bwd time | peak memory | GFLOP/s | '
                        'GB/s | x the bound | speed-up vs reference | '
                        'memory vs reference |')
    # 1080 FLOP / 2 us = 0.54 GFLOP/s; 1104 B / 2 us = 0.552 GB/s
    assert lines[2] == ('| reference | 0.0 ms | 4.0 MiB | 0.54 | 0.55 | '
                        '4.0x | 1.0x | 1.0x |')
    assert lines[3] == ('| shift | 0.0 ms | 1.0 MiB | 1.08 | 1.10 | 2.0x | '
                        '2.0x | 4.0x |')
    assert lines[4] == '| cpp | skipped: no compiler |  |  |  |  |  |  |'
    no_bound = bound_table(_op_cases()[:1], results[:1], None)
    assert '| n/a |' in no_bound


def test_section_states_peaks_formulas_and_bound():
    cases = [dict(kind='machine', impl='peaks', section='bound')] \
        + _op_cases()
    results = [PEAKS, dict(median_s=0.5, peak_bytes=1 << 30),
               dict(median_s=0.25, peak_bytes=1 << 29),
               dict(median_s=0.1, peak_bytes=1 << 28)]
    text = bound_section(options(), INFO, cases, results, 60.0, 'today')
    assert text.startswith("## SGDC op: the CPU op's distance to its bound")
    assert '- command: `python tools/benchmark/benchmark_sgdc.py`' in text
    for phrase in (
            'fp32 sgemm (`torch.mm` 2048x2048, 2n^3 flops) 100.0 GFLOP/s',
            'copy (`dst.copy_(src)` of 256.0 MiB, bytes read + written) '
            '20.0 GB/s', 'read (`src.sum()`) 25.0 GB/s',
            'vector ISA AVX2 (8 fp32 lanes), 2500 MHz',
            'theoretical 160.0 GFLOP/s = 2 core(s) x 2.50 GHz x 8 lanes x 2 '
            'FMA pipes x 2 flops per FMA (2 FMA pipes per core assumed',
            'the sgemm reaches 62% of it',
            'FLOPs forward 2*k*k*X + 4*L', 'backward 3X + 2L',
            'bound = max(FLOPs / sgemm FLOP/s, bytes / copy bytes/s)',
            '- this op: 1.080 KFLOP (forward 432 FLOP, backward 648 FLOP), '
            '0.0 MB compulsory'):
        assert phrase in text, phrase
    # bound: compute 1080 / 1e11 = 10.8 ns, memory 1104 / 2e10 = 55.2 ns
    assert '(memory-bound: ' in text
    failed = bound_section(options(), INFO, cases,
                           [dict(error='exit 1: boom')] + results[1:], 1.0,
                           'today')
    assert '- machine peaks: failed: exit 1: boom' in failed
    assert 'no bound (machine peaks not measured)' in failed


@pytest.mark.parametrize('argv,message', [
    (['--only', 'bound', '--device', 'cuda'],
     '--only bound measures the CPU op: use --device cpu, not cuda'),
    (['--only', 'roofline'], "argument --only: invalid choice: 'roofline'"),
])
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.benchmark
def test_quick_bound_run_writes_its_section(tmp_path):
    out = tmp_path / 'benchmarks.md'
    out.write_text('# Benchmarks\n\n<!-- sgdc-ops:begin -->\nops kept\n'
                   '<!-- sgdc-ops:end -->\n')
    assert main(['--only', 'bound', '--quick', '--repeats', '1',
                 '--warmup', '0', '--threads', '1', '--out', str(out)]) == 0
    text = out.read_text()
    assert 'ops kept' in text
    section = text[text.index(BEGIN):text.index(END)]
    assert 'B=1, C=16, 12x10, k=7, 4 heads, float32' in section
    assert re.search(r'fp32 sgemm \(`torch.mm` 64x64, 2n\^3 flops\) '
                     r'\d+\.\d GFLOP/s', section)
    rows = {line.split(' | ')[0][2:]: line for line in section.splitlines()
            if line.startswith('| ') and not line.startswith('| impl')}
    assert set(rows) == {'reference', 'shift', 'cpp'}
    for impl in ('reference', 'shift'):
        assert re.search(r'\| \d+\.\dx \|', rows[impl]), rows[impl]
    # cpp: measured, or skipped with the reason the backend gives
    assert re.search(r'\| \d+\.\dx \|', rows['cpp']) or \
        'skipped: the cpp backend' in rows['cpp']
