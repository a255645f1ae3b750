"""The ``bound`` kind of ``tools/benchmark/benchmark_sgdc.py --only bound``:
the CPU op's distance to its bound, its own section between
``<!-- sgdc-bound:begin/end -->``.

The op: :func:`sgdc_mmseg.ops.sgdc_aggregate` at B=2, C=256, 128x128, k=7,
4 heads, fp32, forward+backward (the gradients of ``x`` and of the logits;
``quick``: B=1, C=16, 12x10), each backend (:data:`BOUND_IMPLS`) in a fresh
process by the ``aggregate`` builder, and the machine's peaks in one more
(the ``machine`` case, :mod:`.cases.machine`, same torch threads).

The op's work (:func:`op_flops`, :func:`op_bytes`; ``X = B*C*H*W``,
``L = B*heads*k*k*H*W``, a multiply-add = 2 flops):

* FLOPs: forward ``2*k*k*X`` (weighted sum) + ``4*L`` (softmax, counted as
  about 4 flops per logit); backward ``2*k*k*X`` (grad ``x``) +
  ``2*k*k*X + 4*L`` (grad logits: the products with the shifted ``x``,
  then the softmax backward, about 4 flops per logit);
* compulsory bytes, every tensor read or written once (itemsize 4):
  forward reads ``x`` and the logits, writes the output and the softmaxed
  kernels (saved for the backward): ``2X + 2L`` elements; backward reads
  ``grad_out``, ``x`` and the kernels, writes grad ``x`` and grad logits:
  ``3X + 2L``.

The bound (:func:`bound_seconds`) is ``max(FLOPs / sgemm FLOP/s, bytes /
copy bandwidth)``, both measured; per backend (:func:`bound_table`) its
median time, achieved GFLOP/s and GB/s (compulsory bytes / time), time /
bound, and the reference's time (peak memory) / the row's.
"""
from .report import (format_bytes, format_count, format_ratio, format_time,
                     markdown_table, run_lines)

BEGIN, END = '<!-- sgdc-bound:begin -->', '<!-- sgdc-bound:end -->'
#: The op of the section (``quick``: :data:`QUICK_OP`).
BOUND_OP = dict(B=2, C=256, H=128, W=128, k=7, heads=4, dtype='float32')
QUICK_OP = dict(B=1, C=16, H=12, W=10, k=7, heads=4, dtype='float32')
#: Backends measured, the first one the baseline of the ratios.
BOUND_IMPLS = ('reference', 'shift', 'cpp')
#: The machine case: sgemm size, copy MiB, calls (``quick``: tiny).
MACHINE = dict(n=2048, copy_mib=256, calls=5)
QUICK_MACHINE = dict(n=64, copy_mib=1, calls=2)
#: Flops counted per softmax logit (forward, and again backward).
SOFTMAX_FLOPS = 4
ITEMSIZE = 4


def _sizes(op):
    b, c, h, w, k, heads = (op[n] for n in ('B', 'C', 'H', 'W', 'k',
                                            'heads'))
    return b * c * h * w, b * heads * k * k * h * w, k * k


def op_flops(op):
    """``dict(forward, backward, total)`` FLOPs of the op ``op`` (a dict
    with ``B, C, H, W, k, heads``; module docstring)."""
    x, logits, taps = _sizes(op)
    forward = 2 * taps * x + SOFTMAX_FLOPS * logits
    backward = 2 * taps * x + 2 * taps * x + SOFTMAX_FLOPS * logits
    return dict(forward=forward, backward=backward,
                total=forward + backward)


def op_bytes(op, itemsize=ITEMSIZE):
    """``dict(forward, backward, total)`` compulsory bytes of the op
    (module docstring)."""
    x, logits, _ = _sizes(op)
    forward = (2 * x + 2 * logits) * itemsize
    backward = (3 * x + 2 * logits) * itemsize
    return dict(forward=forward, backward=backward,
                total=forward + backward)


def bound_seconds(flops, nbytes, flops_per_s, bytes_per_s):
    """``dict(compute_s, memory_s, bound_s, limit)``: the time at the
    measured FLOP/s, at the measured bandwidth, their max and which one it
    is (``'compute'`` or ``'memory'``)."""
    if flops_per_s <= 0 or bytes_per_s <= 0:
        raise ValueError('flops_per_s and bytes_per_s must be positive, got '
                         f'{flops_per_s} and {bytes_per_s}')
    compute, memory = flops / flops_per_s, nbytes / bytes_per_s
    return dict(compute_s=compute, memory_s=memory,
                bound_s=max(compute, memory),
                limit='compute' if compute >= memory else 'memory')


def bound_cases(options):
    """The machine case, then one ``aggregate`` fwd+bwd case per backend of
    :data:`BOUND_IMPLS` (``section='bound'``)."""
    op = QUICK_OP if options.quick else BOUND_OP
    machine = QUICK_MACHINE if options.quick else MACHINE
    group = (f"bound B={op['B']} C={op['C']} {op['H']}x{op['W']} "
             f"k={op['k']} heads={op['heads']} {op['dtype']} fwd+bwd")
    cases = [dict(kind='machine', impl='peaks', pass_='measure',
                  group='machine peaks', device=options.device,
                  section='bound', **machine)]
    cases += [dict(kind='aggregate', impl=impl, pass_='fwd+bwd', group=group,
                   device=options.device, section='bound', **op)
              for impl in BOUND_IMPLS]
    return cases


def _rate(value):
    """A GFLOP/s or GB/s cell: 2 decimals below 10, else 1."""
    return f'{value:.2f}' if value < 10 else f'{value:.1f}'


def _megabytes(n):
    """Bytes in MB of 10^6 (the unit of the GB/s figures)."""
    return f'{n / 1e6:.1f} MB'


def _why(result):
    if 'skipped' in result:
        return 'skipped: ' + result['skipped']
    return 'failed: ' + result.get('error', 'no result')


def bound_table(op_cases, op_results, bound):
    """One row per backend: median time, peak memory, achieved GFLOP/s and
    GB/s, time / ``bound['bound_s']`` (None: not measured), and the first
    (baseline) row's time and peak memory / the row's."""
    flops = op_flops(op_cases[0])['total']
    nbytes = op_bytes(op_cases[0])['total']
    header = ['impl', 'fwd+bwd time', 'peak memory', 'GFLOP/s', 'GB/s',
              'x the bound', f'speed-up vs {op_cases[0]["impl"]}',
              f'memory vs {op_cases[0]["impl"]}']
    base = op_results[0] if 'median_s' in op_results[0] else None
    rows = []
    for case, result in zip(op_cases, op_results):
        if 'median_s' not in result:
            rows.append([case['impl'], _why(result)] + [''] * 6)
            continue
        t = result['median_s']
        rows.append([
            case['impl'], format_time(t), format_bytes(result['peak_bytes']),
            _rate(flops / t / 1e9), _rate(nbytes / t / 1e9),
            f"{t / bound['bound_s']:.1f}x" if bound else 'n/a',
            format_ratio(base['median_s'], t) if base else 'n/a',
            format_ratio(base['peak_bytes'], result['peak_bytes'])
            if base else 'n/a'])
    return markdown_table(header, rows)


def _flop(n):
    """``752.640 KFLOP`` (:func:`format_count` and the unit)."""
    count = format_count(n)
    return count + ('FLOP' if count[-1].isalpha() else ' FLOP')


def _gbps(bytes_per_s):
    return f'{bytes_per_s / 1e9:.1f} GB/s'


def peak_lines(peaks):
    """The lines describing the measured and theoretical peaks (the
    ``machine`` case's result)."""
    if 'sgemm_flops_per_s' not in peaks:
        return [f'- machine peaks: {_why(peaks)}']
    theory = peaks['theoretical_flops_per_s']
    mhz = (f"{peaks['mhz']:.0f} MHz" if peaks['mhz'] is not None
           else 'clock unknown (no `cpu MHz` in /proc/cpuinfo)')
    lanes = (f"{peaks['lanes']} fp32 lanes" if peaks['lanes']
             else 'fp32 lanes unknown')
    if theory:
        theory_text = (
            f"theoretical {theory / 1e9:.1f} GFLOP/s = {peaks['threads']} "
            f"core(s) x {peaks['mhz'] / 1e3:.2f} GHz x {peaks['lanes']} lanes "
            'x 2 FMA pipes x 2 flops per FMA (2 FMA pipes per core '
            'assumed; cores = the torch threads; the clock is the current '
            '`cpu MHz`, not a turbo peak); the sgemm reaches '
            f"{100 * peaks['sgemm_flops_per_s'] / theory:.0f}% of it")
    else:
        theory_text = 'no theoretical peak (clock or lanes unknown)'
    size = format_bytes(peaks['copy_bytes'])
    return [
        f"- machine peaks (measured in a child process with "
        f"{peaks['threads']} torch thread(s), median of {peaks['calls']} "
        'calls after one warm-up): fp32 sgemm (`torch.mm` '
        f"{peaks['sgemm_n']}x{peaks['sgemm_n']}, 2n^3 flops) "
        f"{peaks['sgemm_flops_per_s'] / 1e9:.1f} GFLOP/s; copy "
        f"(`dst.copy_(src)` of {size}, bytes read + written) "
        f"{_gbps(peaks['copy_bytes_per_s'])}; read (`src.sum()`) "
        f"{_gbps(peaks['read_bytes_per_s'])}; the bound uses the sgemm and "
        'copy figures',
        f"- vector ISA {peaks['isa']} ({lanes}), {mhz}; {theory_text}",
    ]


def bound_section(options, info, cases, results, elapsed, date):
    """The Markdown section: peaks lines, the op's work and bound, the
    formulas, the table (module docstring)."""
    peaks = next(r for c, r in zip(cases, results) if c['kind'] == 'machine')
    ops = [(c, r) for c, r in zip(cases, results) if c['kind'] != 'machine']
    op_cases, op_results = zip(*ops)
    op = op_cases[0]
    flops, nbytes = op_flops(op), op_bytes(op)
    bound = None
    if 'sgemm_flops_per_s' in peaks:
        bound = bound_seconds(flops['total'], nbytes['total'],
                              peaks['sgemm_flops_per_s'],
                              peaks['copy_bytes_per_s'])
    lines = [
        "## SGDC op: the CPU op's distance to its bound",
        '',
        'Written by `tools/benchmark/benchmark_sgdc.py --only bound` '
        '(method in `sgdc_mmseg/benchmark/bound.py`, '
        '`sgdc_mmseg/benchmark/cases/machine.py` and '
        '`sgdc_mmseg/benchmark/harness.py`).',
        '',
        *run_lines(options, info, elapsed, date, info['gpu'] or 'none'),
        f"- op: `sgdc_aggregate` B={op['B']}, C={op['C']}, "
        f"{op['H']}x{op['W']}, k={op['k']}, {op['heads']} heads, "
        f"{op['dtype']}, forward+backward (gradients of `x` and the "
        f'logits); time: median of {options.repeats} timed calls after '
        f'{options.warmup} warm-up call(s), each backend in a fresh '
        'process; peak memory: peak RSS increase over the call',
        *peak_lines(peaks),
        '- formulas (X = B*C*H*W, L = B*heads*k*k*H*W, a multiply-add = 2 '
        'flops): FLOPs forward 2*k*k*X + 4*L (softmax counted as ~4 flops '
        'per logit), backward 2*k*k*X (grad x) + 2*k*k*X + 4*L (grad '
        'logits with the softmax backward); compulsory bytes (each tensor '
        'read or written once, 4 bytes an element) forward 2X + 2L (reads '
        'x, logits; writes out, softmaxed kernels), backward 3X + 2L '
        '(reads grad_out, x, kernels; writes grad x, grad logits); bound = '
        'max(FLOPs / sgemm FLOP/s, bytes / copy bytes/s); GFLOP/s and GB/s '
        '= FLOPs and compulsory bytes / time; x the bound = time / bound; '
        'ratios: reference / row (above 1 = faster / smaller)',
        f"- this op: {_flop(flops['total'])} "
        f"(forward {_flop(flops['forward'])}, backward "
        f"{_flop(flops['backward'])}), "
        f"{_megabytes(nbytes['total'])} compulsory (forward "
        f"{_megabytes(nbytes['forward'])}, backward "
        f"{_megabytes(nbytes['backward'])})"
        + (f"; bound {format_time(bound['bound_s'])} ({bound['limit']}-bound: "
           f"compute {format_time(bound['compute_s'])}, memory "
           f"{format_time(bound['memory_s'])})" if bound else
           '; no bound (machine peaks not measured)'),
    ]
    if options.note:
        lines.append(f'- note: {options.note}')
    lines += ['', bound_table(op_cases, op_results, bound)]
    return '\n'.join(lines)
