"""The ``machine`` case: this CPU's peaks, measured in the harness's child
process with the torch thread count of the other cases (not timed by the
harness: ``step=None``, the result is the measurement).

* Attainable fp32 FLOP/s: ``torch.mm`` of two ``n x n`` fp32 matrices
  (``n=2048`` in the ``bound`` kind), ``2 n^3`` flops (one multiply-add =
  2 flops) over the median time of ``calls`` calls after one warm-up call.
* Memory bandwidth: ``dst.copy_(src)`` of ``copy_mib`` MiB of fp32 (bytes
  read + bytes written = ``2 x`` the size, per median call) and
  ``src.sum()`` (bytes read = the size).
* The vector ISA torch dispatches to
  (``torch.backends.cpu.get_cpu_capability()``), its fp32 lanes
  (:data:`FP32_LANES`), the torch threads, the ``cpu MHz`` of
  ``/proc/cpuinfo`` (the highest over the cores: the current clock, not a
  turbo peak) and the theoretical peak ``threads x GHz x lanes x FMA pipes
  x 2`` (:func:`theoretical_peak_flops`, 2 FMA pipes per core assumed).
"""
import statistics
import time

import torch

from ..harness import SkipCase

#: fp32 lanes of a vector register per ``get_cpu_capability()`` value.
FP32_LANES = {'AVX2': 8, 'AVX512': 16}
#: FMA units per core assumed by the theoretical peak.
FMA_PIPES = 2


def vector_lanes(capability):
    """fp32 lanes of ``capability`` (:data:`FP32_LANES`), None when not
    known (e.g. ``'DEFAULT'``: no theoretical peak then)."""
    return FP32_LANES.get(capability)


def theoretical_peak_flops(cores, mhz, lanes, fma_pipes=FMA_PIPES):
    """``cores x GHz x lanes x fma_pipes x 2`` (an FMA = 2 flops) in
    FLOP/s; None when the clock or the lanes are unknown."""
    if mhz is None or lanes is None:
        return None
    return cores * mhz * 1e6 * lanes * fma_pipes * 2


def cpu_mhz(cpuinfo_text):
    """The highest ``cpu MHz`` of a ``/proc/cpuinfo`` text, None when it
    has none."""
    values = [float(line.split(':', 1)[1]) for line in
              cpuinfo_text.splitlines()
              if line.split(':', 1)[0].strip() == 'cpu MHz']
    return max(values) if values else None


def read_cpu_mhz(path='/proc/cpuinfo'):
    """:func:`cpu_mhz` of ``path``; None when it cannot be read."""
    try:
        with open(path) as f:
            return cpu_mhz(f.read())
    except OSError:
        return None


def median_seconds(fn, calls):
    """The median time of ``calls`` calls of ``fn`` after one untimed
    call."""
    fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sgemm_seconds(n, calls):
    """:func:`median_seconds` of ``torch.mm`` of two random ``n x n`` fp32
    matrices (into a preallocated output)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)
    return median_seconds(lambda: torch.mm(a, b, out=out), calls)


def copy_read_seconds(mib, calls):
    """``(bytes, copy s, read s)``: :func:`median_seconds` of
    ``dst.copy_(src)`` and of ``src.sum()`` for ``mib`` MiB of fp32."""
    src = torch.ones(mib * (1 << 20) // 4)
    dst = torch.empty_like(src)
    return (src.numel() * src.element_size(),
            median_seconds(lambda: dst.copy_(src), calls),
            median_seconds(lambda: src.sum(), calls))


def build_machine(case, device):
    """The peaks (module docstring) for ``case['n']`` (sgemm size),
    ``case['copy_mib']`` and ``case['calls']``; untimed."""
    if torch.device(device).type != 'cpu':
        raise SkipCase('the machine peaks are measured on the CPU')
    n, mib, calls = case['n'], case['copy_mib'], case['calls']
    mm_s = sgemm_seconds(n, calls)
    nbytes, copy_s, read_s = copy_read_seconds(mib, calls)
    capability = torch.backends.cpu.get_cpu_capability()
    lanes = vector_lanes(capability)
    threads = torch.get_num_threads()
    mhz = read_cpu_mhz()
    result = dict(
        sgemm_n=n, sgemm_flops_per_s=2 * n**3 / mm_s, copy_bytes=nbytes,
        copy_bytes_per_s=2 * nbytes / copy_s, read_bytes_per_s=nbytes / read_s,
        calls=calls, isa=capability, lanes=lanes, threads=threads, mhz=mhz,
        theoretical_flops_per_s=theoretical_peak_flops(threads, mhz, lanes))
    result['summary'] = (
        f"sgemm {result['sgemm_flops_per_s'] / 1e9:.1f} GFLOP/s, copy "
        f"{result['copy_bytes_per_s'] / 1e9:.1f} GB/s, read "
        f"{result['read_bytes_per_s'] / 1e9:.1f} GB/s, {capability}")
    return None, None, result
