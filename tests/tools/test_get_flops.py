"""tools/analysis/get_flops.py: FLOPs of a config, SGDC's aggregation included."""
import importlib.util
import json
import os.path as osp

import pytest

from helpers import REPO_ROOT


@pytest.fixture(scope='module')
def get_flops():
    path = osp.join(REPO_ROOT, 'tools', 'analysis', 'get_flops.py')
    spec = importlib.util.spec_from_file_location('_sgdc_get_flops', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_counts_the_aggregation_by_hand(get_flops, tiny_config, tmp_path,
                                        capsys):
    cfg = tiny_config()
    out_json = tmp_path / 'flops.json'
    result = get_flops.main([cfg, '--shape', '32', '48', '--json',
                             str(out_json)])
    # hand count: the tiny model's single SGDC block (8 channels, k=3) runs
    # at the ResNetV1c stem's stride 4 -> 8 x 12 pixels for a 32 x 48 image
    hand = 1 * 8 * 3 * 3 * (32 // 4) * (48 // 4)
    assert result['by_operator']['sgdc_aggregate'] == hand
    assert result['input_shape'] == (1, 3, 32, 48)
    printed = capsys.readouterr().out
    assert f'config: {cfg}' in printed
    assert 'input shape: (1, 3, 32, 48)' in printed
    assert f'({result["flops"]})' in printed
    assert 'sgdc_aggregate' in printed
    saved = json.loads(out_json.read_text())
    assert saved['flops'] == result['flops']
    assert saved['by_operator']['sgdc_aggregate'] == hand
    assert 'sgdc_mmseg::sgdc_aggregate' not in saved['uncounted']


def test_square_shape_from_one_value(get_flops, tiny_config, capsys):
    result = get_flops.main([tiny_config(), '--shape', '32'])
    assert result['input_shape'] == (1, 3, 32, 32)
    assert result['by_operator']['sgdc_aggregate'] == 8 * 9 * 8 * 8


def test_missing_config_names_the_file(get_flops, tmp_path):
    missing = str(tmp_path / 'missing_cfg.py')
    with pytest.raises(SystemExit, match='missing_cfg.py'):
        get_flops.main([missing])


def test_bad_shape_is_an_error(get_flops, tiny_config):
    with pytest.raises(SystemExit, match='--shape must be one or two'):
        get_flops.main([tiny_config(), '--shape', '32', '32', '3'])
