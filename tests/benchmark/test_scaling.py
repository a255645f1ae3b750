"""sgdc_mmseg.benchmark.scaling: the series and their grids, the memory
skip of the unfold reference, the least-squares fit and per-pixel ratio on
data whose answer is known, the tables, the plot, the CLI's checks, a run
with stand-in results and a ``--quick`` run of ``--only scaling`` writing
its section and plot."""
import math
import re

import pytest

from sgdc_mmseg.benchmark import sgdc
from sgdc_mmseg.benchmark.scaling import (BEGIN, END, fit_table, linear_fit,
                                          memory_skip_reason,
                                          per_pixel_ratio, plot_path,
                                          points_table,
                                          reference_peak_bytes,
                                          scaling_cases, series_points,
                                          write_plot)
from sgdc_mmseg.benchmark.sgdc import (SGDCBenchmarkOptions,
                                       resolve_defaults, run_sgdc_benchmark)
from sgdc_mmseg.cli.benchmark_sgdc import main

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def options(**kw):
    return resolve_defaults(SGDCBenchmarkOptions(only=['scaling'], **kw))


def test_linear_fit_exact_line():
    a, b, r2 = linear_fit([1, 2, 3, 4], [5, 8, 11, 14])  # 2 + 3x
    assert (a, b, r2) == pytest.approx((2, 3, 1))


def test_linear_fit_known_deviation():
    # x 0 1 2, y 0 2 1: means 1, 1; Sxx 2, Sxy 1 -> b 0.5, a 0.5;
    # residuals -0.5, 1, -0.5 -> SS_res 1.5; SS_tot 2 -> R^2 0.25
    assert linear_fit([0, 1, 2], [0, 2, 1]) == pytest.approx((0.5, 0.5,
                                                              0.25))
    assert linear_fit([1, 2, 3], [4, 4, 4]) == pytest.approx((4, 0, 1))


def test_linear_fit_refuses_what_has_no_line():
    with pytest.raises(ValueError, match='two distinct x'):
        linear_fit([3, 3], [1, 2])
    with pytest.raises(ValueError, match='differ in length: 2 and 3'):
        linear_fit([1, 2], [1, 2, 3])


def test_per_pixel_ratio():
    assert per_pixel_ratio([100, 400], [2.0, 8.0]) == pytest.approx(1)
    # fixed overhead: (5 / 400) / (2 / 100) = 0.625, in any order
    assert per_pixel_ratio([400, 100], [5.0, 2.0]) == pytest.approx(0.625)
    # quadratic cost: 4x the pixels, 16x the time -> 4
    assert per_pixel_ratio([1, 4, 2], [1.0, 16.0, 4.0]) == pytest.approx(4)
    with pytest.raises(ValueError, match='non-empty'):
        per_pixel_ratio([], [])


def test_reference_memory_estimate_and_skip():
    case = dict(kind='aggregate', impl='reference', B=1, C=256, k=7,
                H=256, W=256)
    assert reference_peak_bytes(case) == 3 * 256 * 49 * 65536 * 4
    assert memory_skip_reason(case, 10) is None  # 9.87 GB fits 10 GB
    assert memory_skip_reason(case, 9) == (
        'the unfold needs ~9.87 GB (3 x C*k*k*H*W*4 bytes) > '
        '--max-memory-gb 9')
    assert memory_skip_reason(dict(case, impl='cpp'), 1e-9) is None


def test_full_grid():
    cases = scaling_cases(options())
    series = {}
    for c in cases:
        series.setdefault(c['series'], []).append(c)
    assert list(series) == ['op cpp', 'op shift', 'op reference',
                            'SGDC block', 'train step sgdc',
                            'train step upernet_r50']
    for name in ('op cpp', 'op shift', 'op reference'):
        assert [c['H'] for c in series[name]] == [64, 128, 256, 512, 1024]
        assert {(c['B'], c['C'], c['k'], c['heads'], c['dtype'],
                 c['pass_']) for c in series[name]} == {
            (1, 256, 7, 4, 'float32', 'fwd+bwd')}
    # the unfold of 512^2 (39.5 GB) and 1024^2 does not fit 20 GB
    assert [bool(c.get('skip')) for c in series['op reference']] == \
        [False, False, False, True, True]
    assert not any(c.get('skip') for c in series['op cpp'])
    assert [(c['H'], c['C'], c['guide'], c['impl']) for c in
            series['SGDC block']] == [(s, 256, 16, 'default')
                                      for s in (64, 128, 256, 512)]
    steps = series['train step upernet_r50']
    assert [(c['kind'], c['pass_'], c['size'], c['B']) for c in steps] == \
        [('models', 'train step', s, 2) for s in (128, 256, 384, 512)]
    assert steps[0]['config'].endswith('upernet_r50_1xb8-20k_isic2016-'
                                       '256x256.py')
    assert {c['section'] for c in cases} == {'scaling'}
    assert sum(bool(c.get('skip')) for c in scaling_cases(
        options(max_memory_gb=100))) == 1


def test_quick_grid_is_tiny_and_bad_options_are_named():
    cases = scaling_cases(options(quick=True, scaling_models=['sgdc']))
    assert max(c['H'] for c in cases if c['kind'] != 'models') <= 16
    assert max(c['size'] for c in cases if c['kind'] == 'models') <= 64
    with pytest.raises(ValueError, match='max_memory_gb must be > 0, got 0'):
        scaling_cases(options(max_memory_gb=0))
    with pytest.raises(ValueError, match=r"unknown model\(s\) \['unet'\]"):
        scaling_cases(options(scaling_models=['unet']))
    with pytest.raises(ValueError, match="device cpu, not 'cuda'"):
        sgdc.build_cases(options(device='cuda'), triton_ok=False)


def test_plot_path_next_to_out():
    assert plot_path('docs/benchmarks.md') == 'docs/benchmarks_scaling.png'
    assert plot_path(None) is None


def _points():
    """op cpp: time = 1 ms + 2 s per megapixel (exact); block: one point
    failed; shift: skipped at the larger size."""
    cases, results = [], []
    for size in (100, 200):
        pixels = size * size
        cases += [dict(series='op cpp', H=size, W=size),
                  dict(series='SGDC block', H=size, W=size),
                  dict(series='op shift', H=size, W=size)]
        results += [dict(median_s=1e-3 + 2e-6 * pixels, peak_bytes=1 << 20),
                    dict(median_s=0.5, peak_bytes=2 << 20) if size == 100
                    else dict(error='exit 1: boom'),
                    dict(median_s=0.25, peak_bytes=None) if size == 100
                    else dict(skipped='too big')]
    return series_points(cases, results)


def test_tables():
    points = points_table(_points()).splitlines()
    assert points[0] == ('| series | size | pixels | median time | peak '
                         'memory | time / megapixel |')
    # 1 ms + 2e-6 * 10000 = 21 ms; 21 ms / 0.01 megapixel = 2.10 s
    assert points[2] == ('| op cpp | 100x100 | 10,000 | 21.0 ms | 1.0 MiB '
                         '| 2.10 s |')
    assert '| SGDC block | 200x200 | 40,000 | failed: exit 1: boom |  |  |' \
        in points
    assert '| op shift | 200x200 | 40,000 | skipped: too big |  |  |' in \
        points
    fits = fit_table(_points()).splitlines()
    assert fits[0] == ('| series | sizes measured | a (fixed) | b (per '
                       'megapixel) | R^2 | time/pixel largest / smallest |')
    # a = 1 ms, b = 2 s per megapixel, exact; per pixel: (81 ms / 40000) /
    # (21 ms / 10000) = 0.964
    assert fits[2] == '| op cpp | 2 | 1.0 ms | 2.00 s | 1.0000 | 0.96 |'
    assert fits[3] == ('| SGDC block | 1 | n/a (fewer than 2 sizes '
                       'measured) |  |  |  |')


def test_plot_is_a_png_or_nothing(tmp_path):
    path = tmp_path / 'scaling.png'
    assert write_plot(str(path), _points())
    assert path.read_bytes().startswith(PNG_MAGIC)
    empty = series_points([dict(series='s', H=1, W=1)],
                          [dict(skipped='no')])
    assert not write_plot(str(tmp_path / 'none.png'), empty)
    assert not (tmp_path / 'none.png').exists()


def test_run_writes_section_and_plot(tmp_path, monkeypatch):
    """The whole run with stand-in measurements (time = 1 ms + 2 us per
    pixel): section between its markers, other sections kept, plot."""
    def fake_run_cases(cases, *args, **kw):
        return [dict(skipped=c['skip']) if c.get('skip') else
                dict(median_s=1e-3 + 2e-6 * c['H'] * c['W'],
                     peak_bytes=1 << 20) for c in cases]

    monkeypatch.setattr(sgdc, 'run_cases', fake_run_cases)
    out = tmp_path / 'docs' / 'benchmarks.md'
    out.parent.mkdir()
    out.write_text('# Benchmarks\n\n<!-- sgdc-bound:begin -->\nbound kept\n'
                   '<!-- sgdc-bound:end -->\n')
    logged = []

    def log(*parts):
        logged.append(' '.join(str(p) for p in parts))

    assert run_sgdc_benchmark(options(out=str(out)), log=log) == 0
    text = out.read_text()
    assert 'bound kept' in text
    section = text[text.index(BEGIN):text.index(END)]
    assert section.count('| op cpp |') == 5 + 1  # points + fit
    assert ('skipped: the unfold needs ~39.5 GB (3 x C*k*k*H*W*4 bytes) > '
            '--max-memory-gb 20') in section
    # a = 1 ms, b = 2 s per megapixel; per pixel at 1024^2: 2.098152 s /
    # 1048576, at 64^2: 9.192 ms / 4096 -> 0.89
    assert '| op cpp | 5 | 1.0 ms | 2.00 s | 1.0000 | 0.89 |' in section
    assert '![time against pixels, log-log, one line per series]' \
        '(benchmarks_scaling.png)' in section
    assert 'fit: least squares time = a + b * pixels' in section
    png = tmp_path / 'docs' / 'benchmarks_scaling.png'
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert f'wrote the scaling plot to {png}' in logged
    # no --out: no plot, no link
    logged.clear()
    assert run_sgdc_benchmark(options(), log=log) == 0
    assert any(line.startswith('## Scaling') for line in logged)
    assert not any('scaling plot' in line or '![' in line
                   for line in logged)


@pytest.mark.parametrize('argv,message', [
    (['--max-memory-gb', '0'], '--max-memory-gb must be > 0, got 0'),
    (['--only', 'scaling', '--device', 'cuda'],
     '--only scaling measures the CPU op: use --device cpu, not cuda'),
    (['--scaling-models', 'unet'],
     "argument --scaling-models: invalid choice: 'unet'"),
])
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.benchmark
def test_quick_scaling_run_writes_section_and_plot(tmp_path):
    """Real measurements in child processes, on the quick grid: the op and
    block series (the train-step series' cases are the models table's,
    run end to end in tests/cli/test_benchmark_sgdc.py; with them this
    test took 44 s on 2 cores)."""
    out = tmp_path / 'benchmarks.md'
    assert run_sgdc_benchmark(options(
        quick=True, repeats=1, warmup=0, threads=1, scaling_models=[],
        max_memory_gb=1e-6, out=str(out)), log=lambda *a: None) == 0
    text = out.read_text()
    section = text[text.index(BEGIN):text.index(END)]
    rows = [line for line in section.splitlines()
            if re.match(r'\| [^|]+ \| \d+x\d+ \| ', line)]
    assert len(rows) == 3 * 2 + 2  # op x 3 backends, block
    skipped = [r for r in rows if 'skipped: the unfold needs' in r]
    assert [r.split(' | ')[0] for r in skipped] == ['| op reference'] * 2
    assert all(re.search(r'\| \d+\.\d+ m?s \|', r) for r in rows
               if r not in skipped)
    for name in ('op cpp', 'op shift', 'SGDC block'):
        fit = [line for line in section.splitlines()
               if line.startswith(f'| {name} | 2 | ')]
        assert len(fit) == 1, name
        r2 = float(fit[0].split(' | ')[4])
        assert math.isclose(r2, 1.0)  # two points: the line is exact
    assert not any(line.startswith('| train step')
                   for line in section.splitlines())
    png = tmp_path / 'benchmarks_scaling.png'
    assert png.read_bytes().startswith(PNG_MAGIC)
