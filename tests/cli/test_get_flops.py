"""sgdc_mmseg.cli.get_flops (tools/analysis/get_flops.py's command line):
FLOPs of a config, SGDC's aggregation included, printed and written as
JSON; errors name the file or argument."""
import json

import pytest

import sgdc_mmseg.cli.get_flops as cli


def test_counts_the_aggregation_by_hand(tiny_config, tmp_path, capsys):
    cfg = tiny_config()
    out_json = tmp_path / 'flops.json'
    assert cli.main([cfg, '--shape', '32', '48', '--json',
                     str(out_json)]) == 0
    # hand count: the tiny model's single SGDC block (8 channels, k=3) runs
    # at the ResNetV1c stem's stride 4 -> 8 x 12 pixels for a 32 x 48 image
    hand = 1 * 8 * 3 * 3 * (32 // 4) * (48 // 4)
    saved = json.loads(out_json.read_text())
    assert saved['by_operator']['sgdc_aggregate'] == hand
    assert saved['input_shape'] == [1, 3, 32, 48]
    assert saved['flops'] == sum(saved['by_operator'].values())
    assert saved['params'] > 0 and saved['activations'] > 0
    assert 'sgdc_mmseg::sgdc_aggregate' not in saved['uncounted']
    assert 'table' not in saved
    printed = capsys.readouterr().out
    assert f'config: {cfg}' in printed
    assert 'input shape: (1, 3, 32, 48)' in printed
    assert f'({saved["flops"]})' in printed
    assert f'({saved["params"]})' in printed
    assert 'FLOPs by operator: ' in printed and 'sgdc_aggregate' in printed


def test_square_shape_from_one_value_and_the_table(tiny_config, tmp_path,
                                                   capsys):
    out_json = tmp_path / 'flops.json'
    assert cli.main([tiny_config(), '--shape', '32', '--table', '--json',
                     str(out_json)]) == 0
    saved = json.loads(out_json.read_text())
    assert saved['input_shape'] == [1, 3, 32, 32]
    assert saved['by_operator']['sgdc_aggregate'] == 8 * 9 * 8 * 8
    # mmengine's per-module table follows the summary
    assert '| module' in capsys.readouterr().out


def test_default_shape_is_512():
    assert cli.build_parser().parse_args(['c.py']).shape == [512, 512]


def test_missing_config_names_the_file(tmp_path):
    missing = str(tmp_path / 'missing_cfg.py')
    with pytest.raises(SystemExit, match=r'^error: .*missing_cfg.py'):
        cli.main([missing])


def test_bad_shape_is_a_usage_error(tiny_config, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([tiny_config(), '--shape', '32', '32', '3'])
    assert exc.value.code == 2
    assert '--shape must be one or two' in capsys.readouterr().err
