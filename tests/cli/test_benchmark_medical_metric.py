"""sgdc_mmseg.cli.benchmark_medical_metric: a tiny run writes its section
(other sections kept); bad numbers are refused naming the argument."""
import pytest

from sgdc_mmseg.cli.benchmark_medical_metric import main


def test_tiny_run_writes_its_section(tmp_path, capsys):
    out = tmp_path / 'bench.md'
    out.write_text('# Benchmarks\n\n<!-- other:begin -->\nkept\n'
                   '<!-- other:end -->\n')
    assert main(['--num', '4', '--size', '32', '--threads', '1', '--out',
                 str(out)]) == 0
    text = out.read_text()
    assert '<!-- other:begin -->\nkept\n<!-- other:end -->' in text
    section = text[text.index('<!-- medical-metric:begin -->'):]
    assert section.endswith('<!-- medical-metric:end -->\n')
    assert ('- Command: `python tools/benchmark/medical_metric.py --num 4 '
            '--size 32 --threads 1 --out ' + str(out) + '`') in section
    assert '- Data: 4 seeded synthetic 32x32 mask pairs' in section
    # both ways give the same HD95
    diff = float(section.split('Max |HD95 difference| between the two: ')[1]
                 .split(' px')[0])
    assert diff < 1e-4
    assert '## MedicalMetric' in capsys.readouterr().out


@pytest.mark.parametrize('argv,message', [
    (['--num', '0'], '--num must be >= 1, got 0'),
    (['--size', '4'], '--size must be >= 8, got 4'),
    (['--threads', '0'], '--threads must be >= 1, got 0'),
])
def test_bad_numbers_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2
    assert message in capsys.readouterr().err
