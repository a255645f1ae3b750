"""sgdc_mmseg.benchmark.cases.machine: lanes, clock and theoretical peak by
hand, and a tiny measurement of the peaks in this process."""
import pytest
import torch

from sgdc_mmseg.benchmark.cases.machine import (build_machine, cpu_mhz,
                                                theoretical_peak_flops,
                                                vector_lanes)
from sgdc_mmseg.benchmark.harness import SkipCase

CPUINFO = ('processor\t: 0\nmodel name\t: Test CPU\ncpu MHz\t\t: 2445.406\n'
           '\nprocessor\t: 1\ncpu MHz\t\t: 2600.000\ncpu cores\t: 2\n')


def test_lanes_and_theoretical_peak():
    assert (vector_lanes('AVX2'), vector_lanes('AVX512')) == (8, 16)
    assert vector_lanes('DEFAULT') is None
    # 2 cores x 2.5 GHz x 8 lanes x 2 FMA pipes x 2 flops = 160 GFLOP/s
    assert theoretical_peak_flops(2, 2500, 8) == pytest.approx(160e9)
    assert theoretical_peak_flops(1, 3000, 16, fma_pipes=1) == \
        pytest.approx(96e9)
    assert theoretical_peak_flops(2, None, 8) is None
    assert theoretical_peak_flops(2, 2500, None) is None


def test_cpu_mhz_is_the_highest_clock():
    assert cpu_mhz(CPUINFO) == 2600.0
    assert cpu_mhz('processor\t: 0\nmodel name\t: no clock\n') is None


def test_tiny_measurement():
    case = dict(kind='machine', impl='peaks', pass_='measure', group='g',
                device='cpu', n=16, copy_mib=1, calls=1)
    step, cleanup, result = build_machine(case, 'cpu')
    assert step is None and cleanup is None
    assert result['sgemm_n'] == 16 and result['calls'] == 1
    assert result['copy_bytes'] == 1 << 20
    for key in ('sgemm_flops_per_s', 'copy_bytes_per_s',
                'read_bytes_per_s'):
        assert result[key] > 0, key
    assert result['isa'] == torch.backends.cpu.get_cpu_capability()
    assert result['lanes'] == vector_lanes(result['isa'])
    assert result['threads'] == torch.get_num_threads()
    assert result['theoretical_flops_per_s'] == theoretical_peak_flops(
        result['threads'], result['mhz'], result['lanes'])
    assert result['summary'].startswith('sgemm ')
    with pytest.raises(SkipCase, match='measured on the CPU'):
        build_machine(dict(case, device='cuda'), 'cuda')
