"""``tools/benchmark/benchmark_sgdc.py``: its options, case list, tables and
run. The cases (in :mod:`.cases`, each measured in a fresh process by
:mod:`.harness`):

* ``aggregate``: :func:`sgdc_mmseg.ops.sgdc_aggregate`, k=7, 4 heads,
  forward (under ``no_grad``) and forward+backward, ``'reference'``
  (unfold) against ``'shift'`` and, on CPU, ``'cpp'`` (the fused C++
  kernel; a skipped row naming the reason when it cannot be built or
  loaded) or, on CUDA when Triton imports, ``'triton'``. CPU: B=2, C=64,
  64x64 and B=2, C=256, 128x128, fp32. CUDA: also B=8, C=256, 128x128
  in fp32 and bf16, with the effective bandwidth
  (:func:`.cases.aggregate.aggregate_bytes` / time) next to the GPU's
  peak (the same byte count for every backend: the column compares times,
  not actual traffic).
* ``block``: the SGDC block (``channels=256``, 16 guidance channels),
  forward+backward in train mode (on CUDA and with ``quick`` also the eval
  forward): the default backend against ``backend='reference'`` and, with
  ``paper_code``, the paper's own ``sgdc.py``.
* ``sge``: the SGE (low 256 ch at 128x128, high 2048 ch at 16x16, as for
  ResNet-50), eval forward and train forward+backward: the channel-sum
  Sobel against the paper's ``C x C`` Sobel convolutions
  (:class:`~sgdc_mmseg.models.layers.CxCSobelSGE`), and the paper's
  ``SGE.py`` with ``paper_code``.
* ``train_step`` (CUDA by default, or ``train_step=True``): one
  ``model.train_step`` of SGDC-R50 against mmseg's UPerNet-R50, batch 8 at
  512x512 (``quick``: batch 2 at 64x64); with ``compile_train_step`` also
  both under ``torch.compile`` (impls ``upernet_r50+compile``,
  ``sgdc_r50+compile``).
* ``models`` (only when named in ``only``): the models table of
  :mod:`.models`, its own section.
* ``bound`` (only when named, CPU): the op's distance to its bound
  (measured sgemm FLOP/s and copy bandwidth), :mod:`.bound`, its own
  section.
* ``scaling`` (only when named, CPU): time and peak memory against the
  image size of the op, the SGDC block and whole-model train steps, with
  linear fits and a plot next to ``out``, :mod:`.scaling`, its own section.

Ratios are the baseline's median time (peak memory) divided by the row's.
"""
import datetime
import functools
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Optional, Sequence

from . import bound, scaling
from .harness import case_label, machine_info, run_cases
from .models import MODEL_BATCH, MODEL_CONFIGS, MODEL_SIZES
from .models import markers as models_markers
from .models import model_cases, models_section, models_table
from .report import (format_bytes, format_ratio, format_time, markdown_table,
                     write_section, run_lines)

# One section per device, so a GPU run never replaces the CPU numbers.
BEGIN, END = '<!-- sgdc-ops:begin -->', '<!-- sgdc-ops:end -->'
KINDS = ('aggregate', 'block', 'sge', 'train_step', 'models', 'bound',
         'scaling')
#: Kinds a run without ``only`` measures (``models``, ``bound`` and
#: ``scaling`` only on request).
DEFAULT_KINDS = ('aggregate', 'block', 'sge', 'train_step')
#: Kinds that measure the CPU only.
CPU_KINDS = ('bound', 'scaling')
# the row every other row of its group is divided by, in order of preference
BASELINES = {
    'aggregate': ('reference', ),
    'block': ('paper', 'reference'),
    'sge': ('cxc', ),
    'train_step': ('upernet_r50', ),
}
# Peak DRAM bandwidth (TB/s) by a substring of torch.cuda.get_device_name(),
# most specific first.
GPU_PEAK_TBPS = (
    (('h200', ), 4.8),
    (('h100', 'pcie'), 2.0),
    (('h100', 'hbm3'), 3.35),
    (('h100', 'sxm'), 3.35),
    (('a100', '80gb'), 2.0),
)


@dataclass
class SGDCBenchmarkOptions:
    """What a run measures and where it writes (defaults resolved: see
    :func:`resolve_defaults`)."""
    device: str = 'cpu'
    quick: bool = False
    repeats: Optional[int] = None
    warmup: Optional[int] = None
    threads: Optional[int] = None
    paper_code: Optional[str] = None
    only: Optional[Sequence[str]] = None
    train_step: Optional[bool] = None
    case_timeout: float = 1800
    out: Optional[str] = None
    note: Optional[str] = None
    models: Sequence[str] = tuple(MODEL_CONFIGS)
    model_sizes: Sequence[int] = MODEL_SIZES
    model_batch: int = MODEL_BATCH
    compile_train_step: bool = False
    max_memory_gb: float = 20
    scaling_models: Sequence[str] = scaling.SCALING_MODELS
    command: str = 'python tools/benchmark/benchmark_sgdc.py'


def resolve_defaults(options):
    """Fill the ``None`` defaults: repeats 3 (2 ``quick``, 10 on CUDA),
    warmup 1 (3 on CUDA), 2 threads on CPU, ``train_step`` on CUDA."""
    cuda = options.device == 'cuda'
    if options.repeats is None:
        options.repeats = 2 if options.quick else (10 if cuda else 3)
    if options.warmup is None:
        options.warmup = 3 if cuda else 1
    if options.threads is None and not cuda:
        options.threads = 2
    if options.train_step is None:
        options.train_step = cuda
    return options


def markers(device):
    """The section markers of ``device`` (the CPU keeps the plain ones)."""
    if device == 'cpu':
        return BEGIN, END
    return (f'<!-- sgdc-ops-{device}:begin -->',
            f'<!-- sgdc-ops-{device}:end -->')


def gpu_peak_tbps(name):
    """The GPU's peak DRAM bandwidth from :data:`GPU_PEAK_TBPS`, or None."""
    lowered = name.lower()
    for keys, tbps in GPU_PEAK_TBPS:
        if all(key in lowered for key in keys):
            return tbps
    return None


# --------------------------------------------------------------- case list

def _case(options, kind, impl, pass_, group, **spec):
    return dict(kind=kind, impl=impl, pass_=pass_, group=group,
                device=options.device, **spec)


def aggregate_cases(options, triton_ok):
    cuda = options.device == 'cuda'
    if options.quick:
        sizes = [(1, 16, 12, 10, 'float32')]
    elif cuda:
        sizes = [(2, 64, 64, 64, 'float32'), (8, 256, 128, 128, 'float32'),
                 (8, 256, 128, 128, 'bfloat16')]
    else:
        sizes = [(2, 64, 64, 64, 'float32'), (2, 256, 128, 128, 'float32')]
    impls = ['reference', 'shift'] + (
        (['triton'] if triton_ok else []) if cuda else ['cpp'])
    return [_case(options, 'aggregate', impl, pass_,
                  f'aggregate B={b} C={c} {h}x{w} k=7 heads=4 {dtype} '
                  f'{pass_}', B=b, C=c, H=h, W=w, k=7, heads=4, dtype=dtype)
            for b, c, h, w, dtype in sizes
            for pass_ in ('fwd', 'fwd+bwd') for impl in impls]


def block_cases(options):
    cuda = options.device == 'cuda'
    b, c, hw, guide = ((1, 32, 16, 16) if options.quick else
                       ((8 if cuda else 2), 256, 128, 16))
    impls = ['default', 'reference'] + (['paper'] if options.paper_code
                                        else [])
    passes = ('fwd', 'fwd+bwd') if cuda or options.quick else ('fwd+bwd', )
    return [_case(options, 'block', impl, pass_,
                  f'SGDC block B={b} C={c} {hw}x{hw} guide={guide} {pass_}',
                  B=b, C=c, H=hw, W=hw, guide=guide,
                  paper_code=options.paper_code)
            for pass_ in passes for impl in impls]


def sge_cases(options):
    cuda = options.device == 'cuda'
    if options.quick:
        b, low, high, channels = 1, (16, 16), (32, 2), 16
    else:
        b, low, high, channels = ((8 if cuda else 2), (256, 128),
                                  (2048, 16), 256)
    impls = ['channel-sum', 'cxc'] + (['paper'] if options.paper_code
                                      else [])
    return [_case(options, 'sge', impl, pass_,
                  f'SGE B={b} low {low[0]}ch@{low[1]}x{low[1]} high '
                  f'{high[0]}ch@{high[1]}x{high[1]} {pass_}',
                  B=b, low=low, high=high, channels=channels,
                  paper_code=options.paper_code)
            for pass_ in ('fwd', 'fwd+bwd') for impl in impls]


#: Suffix of a compiled train-step impl.
COMPILED = '+compile'


def train_step_cases(options):
    """UPerNet-R50 and SGDC-R50 train steps and, with
    ``compile_train_step``, the same under ``torch.compile`` (impl
    ``<model>+compile``: ``model.train_step`` compiled as mmengine's
    ``compile=True`` does; the warm-up calls absorb the compilation)."""
    if not options.train_step:
        return []
    b, size = (2, 64) if options.quick else (8, 512)
    impls = ['upernet_r50', 'sgdc_r50']
    if options.compile_train_step:
        impls += [f'{m}{COMPILED}' for m in ('upernet_r50', 'sgdc_r50')]
    return [_case(options, 'train_step', impl, 'train step',
                  f'train step batch {b} {size}x{size}', B=b, size=size)
            for impl in impls]


def build_cases(options, triton_ok):
    """The cases of a run (JSON-serialisable dicts), ``only`` applied;
    ``ValueError`` for an unknown kind or a CPU-only kind (:data:`CPU_KINDS`)
    on another device."""
    kinds = options.only or DEFAULT_KINDS
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f'only: unknown kind(s) {unknown}; known: '
                         f'{list(KINDS)}')
    cpu_only = [k for k in kinds if k in CPU_KINDS]
    if cpu_only and options.device != 'cpu':
        raise ValueError(f'only: {cpu_only} measure the CPU op; run them '
                         f'with device cpu, not {options.device!r}')
    cases = []
    if 'aggregate' in kinds:
        cases += aggregate_cases(options, triton_ok)
    if 'block' in kinds:
        cases += block_cases(options)
    if 'sge' in kinds:
        cases += sge_cases(options)
    if 'train_step' in kinds:
        cases += train_step_cases(options)
    if 'models' in kinds:
        cases += model_cases(options.models, options.model_sizes,
                             options.model_batch, options.device)
    if 'bound' in kinds:
        cases += bound.bound_cases(options)
    if 'scaling' in kinds:
        cases += scaling.scaling_cases(options)
    return cases


def section_of(case):
    """Which section a case's row goes to: its ``section`` (``'bound'``,
    ``'scaling'``), else ``'models'`` for the models kind, else
    ``'ops'``."""
    return case.get('section') or ('models' if case['kind'] == 'models'
                                   else 'ops')


# ------------------------------------------------------------------ report

def _bandwidth_cell(result, peak_gbps):
    if 'bytes' not in result:
        return ''
    gbps = result['bytes'] / result['median_s'] / 1e9
    share = (f' ({100 * gbps / peak_gbps:.0f}% of {peak_gbps:.0f})'
             if peak_gbps else '')
    return f'{gbps:.0f}{share}'


def _group_rows(members, base, n_cells, peak_gbps, with_bandwidth):
    """The table rows of one group, ratios against the row ``base``."""
    ok = {c['impl']: r for c, r in members if 'median_s' in r}
    rows = []
    for case, result in members:
        cells = [case['group'], case['impl']]
        if 'median_s' not in result:
            why = result.get('skipped') or result.get('error')
            kind = 'skipped' if 'skipped' in result else 'failed'
            rows.append(cells + [f'{kind}: {why}'] + [''] * (n_cells - 3))
            continue
        cells += [format_time(result['median_s']),
                  format_bytes(result['peak_bytes'])]
        if base is None or base == case['impl']:
            cells += [base or 'none', '1.0x' if base else '',
                      '1.0x' if base else '']
        else:
            b = ok[base]
            cells += [base, format_ratio(b['median_s'], result['median_s']),
                      format_ratio(b['peak_bytes'], result['peak_bytes'])]
        if with_bandwidth:
            cells.append(_bandwidth_cell(result, peak_gbps))
        rows.append(cells)
    return rows


def make_table(cases, results, info):
    """The op / block / SGE / train-step table, one group of rows per
    ``case['group']`` with its baseline (:data:`BASELINES`)."""
    with_bandwidth = any(c['kind'] == 'aggregate' and c['device'] == 'cuda'
                         for c in cases)
    header = ['case', 'impl', 'median time', 'peak memory', 'baseline',
              'time ratio', 'memory ratio']
    if with_bandwidth:
        header.append('effective GB/s')
    groups = {}
    for case, result in zip(cases, results):
        groups.setdefault(case['group'], []).append((case, result))
    peak_gbps = (info['gpu_peak_tbps'] * 1000
                 if info.get('gpu_peak_tbps') else None)
    rows = []
    for members in groups.values():
        ok = {c['impl'] for c, r in members if 'median_s' in r}
        base = next((n for n in BASELINES[members[0][0]['kind']] if n in ok),
                    None)
        rows += _group_rows(members, base, len(header), peak_gbps,
                            with_bandwidth)
    return markdown_table(header, rows)


def make_section(options, info, table, elapsed, date):
    """The Markdown section of the op / block / SGE table."""
    gpu = info['gpu'] or 'none'
    if info['gpu'] and info['gpu_peak_tbps']:
        gpu += f" (peak {info['gpu_peak_tbps']} TB/s)"
    elif info['gpu']:
        gpu += ' (peak bandwidth not in the table)'
    lines = [
        f'## SGDC op / block / SGE ({options.device.upper()})',
        '',
        'Written by `tools/benchmark/benchmark_sgdc.py` (method in '
        '`sgdc_mmseg/benchmark/harness.py`).',
        '',
        *run_lines(options, info, elapsed, date, gpu),
        f'- time: median of {options.repeats} timed calls after '
        f'{options.warmup} warm-up call(s), each case in a fresh process; '
        'peak memory (largest over the timed calls): '
        + ('`max_memory_allocated` increase over the call'
           if options.device == 'cuda' else
           'peak RSS increase over the call (`clear_refs` / `VmHWM`)'),
        '- ratios: baseline / row (above 1 = faster / smaller than the '
        'baseline)',
    ]
    if options.note:
        lines.append(f'- note: {options.note}')
    lines += ['', table]
    return '\n'.join(lines)


# --------------------------------------------------------------------- run

def _sections(options, info, cases, results, elapsed, plot=None):
    """``(text, (begin, end))`` of each section the run has rows for
    (``plot``: the scaling plot's path, linked from its section)."""
    date = datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%d %H:%M UTC')
    by_section = {}
    for case, result in zip(cases, results):
        by_section.setdefault(section_of(case), []).append((case, result))
    sections = []
    if 'ops' in by_section:
        table = make_table(*zip(*by_section['ops']), info)
        sections.append((make_section(options, info, table, elapsed, date),
                         markers(options.device)))
    if 'models' in by_section:
        table = models_table(*zip(*by_section['models']))
        sections.append((models_section(options, info, table, elapsed, date),
                         models_markers(options.device)))
    if 'bound' in by_section:
        text = bound.bound_section(options, info,
                                   *zip(*by_section['bound']), elapsed, date)
        sections.append((text, (bound.BEGIN, bound.END)))
    if 'scaling' in by_section:
        text = scaling.scaling_section(
            options, info, *zip(*by_section['scaling']), elapsed, date, plot)
        sections.append((text, (scaling.BEGIN, scaling.END)))
    return sections


def _write_scaling_plot(options, cases, results, log):
    """Write the scaling plot next to ``options.out`` when the run has
    scaling points with a time; its path, else None."""
    path = scaling.plot_path(options.out)
    points = [(c, r) for c, r in zip(cases, results)
              if section_of(c) == 'scaling']
    if not path or not points:
        return None
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    if not scaling.write_plot(path, scaling.series_points(*zip(*points))):
        log('no scaling point has a time: no plot written')
        return None
    log(f'wrote the scaling plot to {path}')
    return path


def run_sgdc_benchmark(options, log=None):
    """Run the benchmark of ``options`` (defaults resolved here), print its
    progress and sections (``log``, default ``print`` flushed), write the
    sections (and the scaling plot, :func:`.scaling.plot_path`) to
    ``options.out`` when given; 1 when a case failed, else 0
    (the failed cases listed on stderr)."""
    import sys
    from .cases.aggregate import triton_backend_usable
    log = log or functools.partial(print, flush=True)
    resolve_defaults(options)
    triton_ok = triton_backend_usable(options.device)
    cases = build_cases(options, triton_ok)
    if options.device == 'cuda' and not triton_ok:
        log('triton is not importable: no triton rows')
    if not options.train_step and (not options.only
                                   or 'train_step' in options.only):
        log('train_step cases skipped: they run on CUDA (or with '
            '--train-step)')
    info = machine_info(options.device, options.threads)
    info['gpu_peak_tbps'] = gpu_peak_tbps(info['gpu']) if info['gpu'] \
        else None
    start = time.perf_counter()
    results = run_cases(cases, options.device, options.repeats,
                        options.warmup, options.threads,
                        options.case_timeout, log=log)
    elapsed = time.perf_counter() - start
    plot = _write_scaling_plot(options, cases, results, log)
    for text, (begin, end) in _sections(options, info, cases, results,
                                        elapsed, plot):
        log()
        log(text)
        if options.out:
            write_section(options.out, text, begin, end)
            log(f'\nwrote the section to {options.out}')
    failed = [case_label(c) for c, r in zip(cases, results) if 'error' in r]
    if failed:
        print(f'{len(failed)} case(s) failed: ' + '; '.join(failed),
              file=sys.stderr)
        return 1
    return 0
