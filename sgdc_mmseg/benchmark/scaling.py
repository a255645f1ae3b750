"""The ``scaling`` kind of ``tools/benchmark/benchmark_sgdc.py --only
scaling``: how time and peak memory grow with the image size, its own
section between ``<!-- sgdc-scaling:begin/end -->`` and, with ``--out``, a
log-log plot next to it (:func:`plot_path`: ``docs/benchmarks.md`` ->
``docs/benchmarks_scaling.png``).

Series (:func:`scaling_cases`, every point in a fresh process by the
existing builders; ``quick``: the tiny grids of :data:`QUICK`):

* ``op <backend>``: :func:`sgdc_mmseg.ops.sgdc_aggregate` forward+backward,
  B=1, C=256, k=7, 4 heads, fp32, at 64^2 ... 1024^2, backends ``'cpp'``,
  ``'shift'`` and ``'reference'``; a ``'reference'`` point whose unfold
  would not fit (:func:`reference_peak_bytes`, ``3 * B*C*k*k*H*W*4``
  bytes, above ``max_memory_gb`` GB of 10^9 bytes) is skipped without
  running, the estimate named;
* ``SGDC block``: the block (default backend, 16 guidance channels)
  forward+backward in train mode, B=1, C=256, 64^2 ... 512^2;
* ``train step <model>``: one ``train_step`` (the ``models`` kind's
  ``'train step'`` pass) of ``sgdc`` and ``upernet_r50``, batch 2, at
  128^2 ... 512^2.

For each series: time, peak memory and time per megapixel (pixels = H*W
of one image), the least-squares line ``time = a + b * pixels`` with its
R^2 (:func:`linear_fit`) and the time per pixel at the largest size / at
the smallest (:func:`per_pixel_ratio`: 1 for a linear cost without
overhead, below 1 where a fixed overhead is amortised, above 1 where the
cost grows faster than the pixels, e.g. caches overflowing).
"""
import os.path as osp

from .models import MODEL_CONFIGS
from .report import format_bytes, format_time, markdown_table, run_lines

BEGIN, END = '<!-- sgdc-scaling:begin -->', '<!-- sgdc-scaling:end -->'
#: Sizes (S for SxS) and fixed arguments of each family of series.
GRID = dict(op_sizes=(64, 128, 256, 512, 1024), op_channels=256,
            block_sizes=(64, 128, 256, 512), block_channels=256,
            model_sizes=(128, 256, 384, 512))
QUICK = dict(op_sizes=(8, 16), op_channels=16, block_sizes=(8, 16),
             block_channels=16, model_sizes=(32, 64))
OP_IMPLS = ('cpp', 'shift', 'reference')
SCALING_MODELS = ('sgdc', 'upernet_r50')
MODEL_BATCH = 2
GUIDE = 16
#: Times the unfolded tensor's size the reference is assumed to peak at.
REFERENCE_PEAK_FACTOR = 3


def plot_path(out):
    """The PNG written next to the Markdown file ``out``
    (``<stem>_scaling.png``); None without ``out``."""
    if not out:
        return None
    return osp.splitext(out)[0] + '_scaling.png'


def reference_peak_bytes(case, itemsize=4):
    """The estimated peak of the ``'reference'`` (unfold) backend:
    :data:`REFERENCE_PEAK_FACTOR` ``* B*C*k*k*H*W * itemsize``."""
    return (REFERENCE_PEAK_FACTOR * case['B'] * case['C'] * case['k']**2
            * case['H'] * case['W'] * itemsize)


def memory_skip_reason(case, max_memory_gb):
    """Why the ``'reference'`` case ``case`` is not run (its estimate
    exceeds ``max_memory_gb`` * 10^9 bytes), else None."""
    if case['kind'] != 'aggregate' or case['impl'] != 'reference':
        return None
    estimate = reference_peak_bytes(case)
    if estimate <= max_memory_gb * 1e9:
        return None
    return (f'the unfold needs ~{estimate / 1e9:.3g} GB (3 x C*k*k*H*W*4 '
            f'bytes) > --max-memory-gb {max_memory_gb:g}')


def _case(options, series, kind, impl, pass_, size, **spec):
    return dict(kind=kind, impl=impl, pass_=pass_, series=series,
                group=f'scaling {series} {size}x{size}', section='scaling',
                device=options.device, size=size, H=size, W=size, **spec)


def scaling_cases(options):
    """The cases of every series (module docstring), in series order;
    ``'reference'`` points above ``options.max_memory_gb`` carry ``skip``
    (the harness reports them skipped without running them)."""
    if options.max_memory_gb <= 0:
        raise ValueError('max_memory_gb must be > 0, got '
                         f'{options.max_memory_gb}')
    unknown = [n for n in options.scaling_models if n not in MODEL_CONFIGS]
    if unknown:
        raise ValueError(f'scaling_models: unknown model(s) {unknown}; '
                         f'known: {sorted(MODEL_CONFIGS)}')
    grid = QUICK if options.quick else GRID
    cases = []
    for impl in OP_IMPLS:
        for size in grid['op_sizes']:
            case = _case(options, f'op {impl}', 'aggregate', impl, 'fwd+bwd',
                         size, B=1, C=grid['op_channels'], k=7, heads=4,
                         dtype='float32')
            reason = memory_skip_reason(case, options.max_memory_gb)
            if reason:
                case['skip'] = reason
            cases.append(case)
    cases += [_case(options, 'SGDC block', 'block', 'default', 'fwd+bwd',
                    size, B=1, C=grid['block_channels'], guide=GUIDE,
                    paper_code=None)
              for size in grid['block_sizes']]
    cases += [_case(options, f'train step {name}', 'models', name,
                    'train step', size, B=MODEL_BATCH,
                    config=MODEL_CONFIGS[name])
              for name in options.scaling_models
              for size in grid['model_sizes']]
    return cases


# ---------------------------------------------------------------- analysis

def linear_fit(xs, ys):
    """Least squares ``y = a + b * x``: ``(a, b, r2)``; ``r2`` is 1 when
    every ``y`` is equal (the line is exact). ``ValueError`` with fewer than
    two distinct ``x``."""
    if len(xs) != len(ys):
        raise ValueError(f'xs and ys differ in length: {len(xs)} and '
                         f'{len(ys)}')
    if len(set(xs)) < 2:
        raise ValueError(f'a line needs two distinct x, got {list(xs)}')
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx)**2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    b = sxy / sxx
    a = my - b * mx
    ss_res = sum((y - a - b * x)**2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my)**2 for y in ys)
    r2 = 1.0 if ss_tot == 0 else 1 - ss_res / ss_tot
    return a, b, r2


def per_pixel_ratio(pixels, times):
    """Time per pixel at the largest ``pixels`` / at the smallest."""
    if len(pixels) != len(times) or not pixels:
        raise ValueError('pixels and times must be non-empty and of one '
                         f'length, got {len(pixels)} and {len(times)}')
    lo = min(range(len(pixels)), key=pixels.__getitem__)
    hi = max(range(len(pixels)), key=pixels.__getitem__)
    return (times[hi] / pixels[hi]) / (times[lo] / pixels[lo])


def series_points(cases, results):
    """``{series: [(pixels, case, result), ...]}`` in case order."""
    series = {}
    for case, result in zip(cases, results):
        series.setdefault(case['series'], []).append(
            (case['H'] * case['W'], case, result))
    return series


def measured(points):
    """``(pixels, times)`` of the points that have a time."""
    ok = [(p, r['median_s']) for p, _, r in points if 'median_s' in r]
    return [p for p, _ in ok], [t for _, t in ok]


def points_table(series):
    """One row per point: series, size, pixels, time, peak memory, time per
    megapixel (or why there is no time)."""
    header = ['series', 'size', 'pixels', 'median time', 'peak memory',
              'time / megapixel']
    rows = []
    for name, points in series.items():
        for pixels, case, result in points:
            cells = [name, f"{case['H']}x{case['W']}", f'{pixels:,}']
            if 'median_s' in result:
                t = result['median_s']
                cells += [format_time(t), format_bytes(result['peak_bytes']),
                          format_time(t / pixels * 1e6)]
            else:
                why = ('skipped: ' + result['skipped'] if 'skipped' in result
                       else 'failed: ' + result.get('error', 'no result'))
                cells += [why, '', '']
            rows.append(cells)
    return markdown_table(header, rows)


def fit_table(series):
    """One row per series: points measured, the fit's ``a`` and ``b`` (per
    megapixel), R^2 and the per-pixel ratio (n/a below two sizes)."""
    header = ['series', 'sizes measured', 'a (fixed)', 'b (per megapixel)',
              'R^2', 'time/pixel largest / smallest']
    rows = []
    for name, points in series.items():
        pixels, times = measured(points)
        if len(set(pixels)) < 2:
            rows.append([name, len(pixels), 'n/a (fewer than 2 sizes '
                         'measured)', '', '', ''])
            continue
        a, b, r2 = linear_fit(pixels, times)
        rows.append([name, len(pixels), _signed_time(a),
                     _signed_time(b * 1e6), f'{r2:.4f}',
                     f'{per_pixel_ratio(pixels, times):.2f}'])
    return markdown_table(header, rows)


def _signed_time(seconds):
    return ('-' + format_time(-seconds)) if seconds < 0 else \
        format_time(seconds)


# -------------------------------------------------------------------- plot

def write_plot(path, series):
    """Log-log time against pixels, one line per series with a time, and a
    dashed slope-1 guide through the first such series' smallest point
    (matplotlib's Agg canvas; no pyplot state). False when no series has
    a time (nothing written)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    curves = [(name, *measured(points)) for name, points in series.items()]
    curves = [c for c in curves if c[1]]
    if not curves:
        return False
    fig = Figure(figsize=(7, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, pixels, times in curves:
        ax.plot(pixels, times, marker='o', label=name)
    all_pixels = [p for _, pixels, _ in curves for p in pixels]
    _, pixels0, times0 = curves[0]
    x0, t0 = pixels0[0], times0[0]
    xs = [min(all_pixels), max(all_pixels)]
    ax.plot(xs, [t0 * x / x0 for x in xs], linestyle='--', color='grey',
            label='slope 1 (time proportional to pixels)')
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xlabel('pixels (H x W of one image)')
    ax.set_ylabel('median time (s)')
    ax.set_title('SGDC: time against image size (fwd+bwd / train step)')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize='small')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


# ----------------------------------------------------------------- section

def scaling_section(options, info, cases, results, elapsed, date,
                    plot=None):
    """The Markdown section: run lines, the series, the method, the
    points table and the fit table; ``plot`` (a path next to
    ``options.out``) is linked by its file name."""
    grid = QUICK if options.quick else GRID
    series = series_points(cases, results)
    sizes = ', '.join(f'{s}^2' for s in grid['op_sizes'])
    lines = [
        '## Scaling with the image size (CPU)',
        '',
        'Written by `tools/benchmark/benchmark_sgdc.py --only scaling` '
        '(method in `sgdc_mmseg/benchmark/scaling.py` and '
        '`sgdc_mmseg/benchmark/harness.py`).',
        '',
        *run_lines(options, info, elapsed, date, info['gpu'] or 'none'),
        f"- op: `sgdc_aggregate` forward+backward, B=1, "
        f"C={grid['op_channels']}, k=7, 4 heads, fp32, at {sizes}, "
        f"backends {', '.join(OP_IMPLS)}; 'reference' skipped where its "
        'unfold is estimated (3 x C*k*k*H*W*4 bytes) above '
        f'--max-memory-gb {options.max_memory_gb:g} (10^9 bytes)',
        f"- SGDC block (default backend, {GUIDE} guidance channels) "
        f"forward+backward in train mode, B=1, C={grid['block_channels']}, "
        f"at {', '.join(f'{s}^2' for s in grid['block_sizes'])}",
        f"- train step (forward, losses, backward, SGD step) of "
        f"{', '.join(options.scaling_models) or 'no model'}, batch "
        f"{MODEL_BATCH}, fp32, at "
        f"{', '.join(f'{s}^2' for s in grid['model_sizes'])}",
        f'- time: median of {options.repeats} timed calls after '
        f'{options.warmup} warm-up call(s), each point in a fresh process; '
        'peak memory: peak RSS increase over the call; pixels = H*W of one '
        'image',
        '- fit: least squares time = a + b * pixels per series, R^2 = 1 - '
        'SS_res / SS_tot; time/pixel largest / smallest = (time / pixels at '
        'the largest size) / (at the smallest): 1 = linear, below 1 = a '
        'fixed overhead amortised, above 1 = worse than linear',
    ]
    if options.note:
        lines.append(f'- note: {options.note}')
    if plot:
        lines += ['', '![time against pixels, log-log, one line per series]'
                  f'({osp.basename(plot)})']
    lines += ['', points_table(series), '', fit_table(series)]
    return '\n'.join(lines)
