"""sgdc_mmseg.cli.benchmark_sgdc: bad arguments refused naming the
argument; the models table in one command (a tiny run: one model at
32x32, one timed call) written between its markers, other sections
kept."""
import re

import pytest

from sgdc_mmseg.cli.benchmark_sgdc import build_parser, main


@pytest.mark.parametrize('argv,message', [
    (['--repeats', '0'], '--repeats must be >= 1, got 0'),
    (['--warmup', '-1'], '--warmup must be >= 0, got -1'),
    (['--threads', '0'], '--threads must be >= 1, got 0'),
    (['--model-batch', '0'], '--model-batch must be >= 1, got 0'),
    (['--model-sizes', '32', '0'], '--model-sizes must be positive, got [0]'),
    (['--paper-code', '/no/such/dir'],
     "--paper-code '/no/such/dir' is not a directory"),
    (['--models', 'unet'], "argument --models: invalid choice: 'unet'"),
])
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2
    assert message in capsys.readouterr().err


def test_models_kind_and_defaults():
    args = build_parser().parse_args(['--only', 'models'])
    assert args.only == ['models']
    assert args.models == ['sgdc', 'pool', 'self', 'upernet_r50',
                           'fcn_unet']
    assert (args.model_sizes, args.model_batch) == ([256, 512], 2)


@pytest.mark.slow
@pytest.mark.benchmark
def test_tiny_models_table_in_one_command(tmp_path, capsys):
    out = tmp_path / 'benchmarks.md'
    out.write_text('# Benchmarks\n\n<!-- sgdc-ops:begin -->\nops kept\n'
                   '<!-- sgdc-ops:end -->\n')
    argv = ['--only', 'models', '--models', 'sgdc', '--model-sizes', '32',
            '--repeats', '1', '--warmup', '0', '--threads', '1', '--out',
            str(out)]
    assert main(argv) == 0
    text = out.read_text()
    assert text.startswith('# Benchmarks\n\n<!-- sgdc-ops:begin -->\nops '
                           'kept\n<!-- sgdc-ops:end -->\n\n'
                           '<!-- sgdc-models:begin -->\n## Models: ')
    assert text.endswith('<!-- sgdc-models:end -->\n')
    assert ('- command: `python tools/benchmark/benchmark_sgdc.py '
            + ' '.join(argv) + '`') in text
    rows = [line for line in text.splitlines()
            if line.startswith('| 32x32 |')]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip('|').split('|')]
    assert cells[:3] == ['32x32', 'sgdc', '28.451 M']  # SGDC-R50's params
    assert re.fullmatch(r'\d+\.\d{3} M', cells[3])  # FLOPs of one image
    for time_cell, memory_cell in (cells[4:6], cells[6:8]):
        assert re.fullmatch(r'\d+\.\d+ (ms|s)', time_cell)
        assert re.fullmatch(r'-?\d+\.\d (MiB|GiB)|n/a', memory_cell)
    progress = capsys.readouterr().out
    assert '[1/3] 32x32 | sgdc | complexity: params 28.451 M, FLOPs ' in \
        progress
    assert '[3/3] 32x32 | sgdc | eval forward: ' in progress
