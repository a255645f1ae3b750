"""tools/test.py --out: evaluator lists and summary.json."""
import hashlib
import importlib.util
import json
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import sgdc_mmseg  # noqa: F401
from helpers import REPO_ROOT, run_tool, save_random_checkpoint

TEST = osp.join(REPO_ROOT, 'tools', 'test.py')
EVALUATORS = '''
test_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
                  dict(type='MedicalMetric')]
'''


@pytest.fixture(scope='module')
def test_tool():
    spec = importlib.util.spec_from_file_location('_sgdc_tool_test', TEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sha256(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def test_out_with_an_evaluator_list_writes_summary(tmp_path, tiny_config,
                                                   test_tool):
    cfg_path = tiny_config(extra=EVALUATORS)
    ckpt = save_random_checkpoint(cfg_path, tmp_path / 'ckpt.pth')
    out = tmp_path / 'out'
    proc = run_tool([TEST, cfg_path, ckpt, '--work-dir',
                     str(tmp_path / 'work'), '--out', str(out)],
                    cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert f'summary written to {out / "summary.json"}' in proc.stdout
    assert 'added MedicalMetric' not in proc.stdout
    # both evaluators got the output dir
    assert len(list(out.glob('*.png'))) == 8  # IoUMetric's predictions
    assert (out / 'per_image_metrics.csv').is_file()  # MedicalMetric's

    summary = json.loads((out / 'summary.json').read_text())
    assert set(summary) == {
        'config', 'checkpoint', 'date', 'versions', 'tta', 'evaluators',
        'medical_metric_added', 'classes', 'num_images', 'metrics',
        'per_class', 'per_image'}
    assert summary['config']['path'] == osp.abspath(cfg_path)
    assert summary['config']['sha256'] == test_tool.config_sha256(cfg_path)
    assert summary['checkpoint'] == dict(path=ckpt, sha256=_sha256(ckpt))
    assert summary['evaluators'] == ['IoUMetric', 'MedicalMetric']
    assert summary['medical_metric_added'] is False
    assert summary['classes'] == ['background', 'lesion']
    assert summary['num_images'] == 8
    assert set(summary['versions']) >= {'sgdc_mmseg', 'mmseg', 'torch'}
    assert summary['versions']['torch'] == torch.__version__
    metrics = summary['metrics']
    assert {'mIoU', 'mDice', 'aAcc', 'medical/mDice', 'medical/mHD95'} <= \
        set(metrics)
    assert not any(k.endswith('.lesion') for k in metrics)
    lesion = summary['per_class']['lesion']
    assert {'IoU', 'Dice', 'HD95', 'ASSD'} <= set(lesion)
    per_image = summary['per_image']
    assert [r['image'] for r in per_image] == [f'{i:03d}' for i in range(8)]
    for row in per_image:
        assert {'img_path', 'IoU.lesion', 'Dice.lesion', 'HD95.lesion',
                'ASSD.lesion'} <= set(row)
        assert 0 <= row['Dice.lesion'] <= 100
    # the class value is the mean over the images
    mean_dice = sum(r['Dice.lesion'] for r in per_image) / 8
    assert math.isclose(lesion['Dice'], mean_dice, rel_tol=1e-6,
                        abs_tol=1e-6)


@pytest.mark.parametrize('form', ['dict', 'list', 'evaluator'])
def test_configure_out_sets_every_evaluator(test_tool, form, tmp_path):
    iou = dict(type='IoUMetric', iou_metrics=['mIoU'])
    cfg = Config(dict(test_evaluator=dict(
        dict=iou, list=[iou], evaluator=dict(type='Evaluator',
                                             metrics=[iou]))[form]))
    logs = []
    added = test_tool.configure_out(cfg, str(tmp_path), log=logs.append)
    assert added is True and 'added MedicalMetric' in logs[0]
    metrics = cfg.test_evaluator['metrics'] if form == 'evaluator' else \
        cfg.test_evaluator
    assert [m['type'] for m in metrics] == ['IoUMetric', 'MedicalMetric']
    assert all(m['output_dir'] == str(tmp_path) for m in metrics)
    if form == 'evaluator':
        assert cfg.test_evaluator['type'] == 'Evaluator'
    # an existing MedicalMetric is not duplicated
    cfg = Config(dict(test_evaluator=[iou, dict(type='mmseg.MedicalMetric')]))
    assert test_tool.configure_out(cfg, 'o', log=logs.append) is False
    assert [m['type'] for m in cfg.test_evaluator] == [
        'IoUMetric', 'mmseg.MedicalMetric']


def test_split_per_class_and_json_values(test_tool):
    import numpy as np
    means, per_class = test_tool.split_per_class(
        {'mIoU': 1.0, 'medical/IoU.lesion': 2.0, 'medical/HD95.lesion': 3.0,
         'medical/Dice.small.lesion': 4.0, 'medical/mDice': 5.0},
        ['background', 'lesion', 'small.lesion'])
    assert means == {'mIoU': 1.0, 'medical/mDice': 5.0}
    assert per_class == {'lesion': {'IoU': 2.0, 'HD95': 3.0},
                         'small.lesion': {'Dice': 4.0}}
    assert test_tool._json_value(
        {'a': np.float32(0.5), 'b': [float('nan'), np.int64(3)],
         'c': float('inf')}) == {'a': 0.5, 'b': [None, 3], 'c': None}
