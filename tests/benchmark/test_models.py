"""sgdc_mmseg.benchmark.models: the models table's cases, configs and
rendering (the run itself: tests/cli/test_benchmark_sgdc.py)."""
import os.path as osp

import pytest

from sgdc_mmseg.benchmark.harness import REPO_ROOT
from sgdc_mmseg.benchmark.models import (MODEL_CONFIGS, markers, model_cases,
                                         models_table)


def test_every_model_config_exists():
    for name, config in MODEL_CONFIGS.items():
        assert osp.isfile(osp.join(REPO_ROOT, config)), name


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match=r"unknown model\(s\) \['unet'\]"):
        model_cases(['sgdc', 'unet'], [32], 2, 'cpu')


def test_markers_per_device():
    assert markers('cpu') == ('<!-- sgdc-models:begin -->',
                              '<!-- sgdc-models:end -->')
    assert markers('cuda') == ('<!-- sgdc-models-cuda:begin -->',
                               '<!-- sgdc-models-cuda:end -->')


def test_table_has_one_row_per_size_and_model():
    cases = model_cases(['sgdc', 'fcn_unet'], [32, 64], 2, 'cpu')
    results = []
    for case in cases:
        if case['pass_'] == 'complexity':
            results.append(dict(params=28_451_000, flops=312_852_000))
        elif case['impl'] == 'fcn_unet' and case['size'] == 64:
            results.append(dict(error='exit 1: out of memory'))
        else:
            results.append(dict(median_s=1.5, peak_bytes=3 << 20,
                                times=[1.5]))
    lines = models_table(cases, results).splitlines()
    assert lines[0] == ('| input | model | params | FLOPs (1 image) | '
                        'train step | train peak memory | eval forward | '
                        'eval peak memory |')
    assert lines[2:] == [
        '| 32x32 | sgdc | 28.451 M | 312.852 M | 1.50 s | 3.0 MiB | 1.50 s '
        '| 3.0 MiB |',
        '| 32x32 | fcn_unet | 28.451 M | 312.852 M | 1.50 s | 3.0 MiB | '
        '1.50 s | 3.0 MiB |',
        '| 64x64 | sgdc | 28.451 M | 312.852 M | 1.50 s | 3.0 MiB | 1.50 s '
        '| 3.0 MiB |',
        '| 64x64 | fcn_unet | 28.451 M | 312.852 M | failed: exit 1: out of '
        'memory |  | failed: exit 1: out of memory |  |']
