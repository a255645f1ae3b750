"""tools/test.py --out end to end: evaluator lists, summary.json, rerun
over its own outputs (the refusals before the model are in
tests/cli/test_test.py)."""
import hashlib
import json
import math
import os
import os.path as osp

import torch

import sgdc_mmseg  # noqa: F401
from helpers import REPO_ROOT, run_tool, save_random_checkpoint
from sgdc_mmseg.evaluation.test_outputs import config_sha256

TEST = osp.join(REPO_ROOT, 'tools', 'test.py')
EVALUATORS = '''
test_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
                  dict(type='MedicalMetric')]
'''


def _sha256(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def test_out_with_an_evaluator_list_writes_summary(tmp_path, tiny_config):
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
    # IoUMetric's predictions, in pred/ (what confusion_matrix.py reads)
    assert len(list((out / 'pred').glob('*.png'))) == 8
    assert not list(out.glob('*.png'))
    assert (out / 'per_image_metrics.csv').is_file()  # MedicalMetric's

    summary = json.loads((out / 'summary.json').read_text())
    assert set(summary) == {
        'config', 'checkpoint', 'checkpoints', 'fold', 'date', 'versions',
        'tta', 'postprocessing', 'probs_saved', 'evaluators',
        'medical_metric_added', 'classes', 'num_images', 'metrics',
        'per_class', 'per_image'}
    assert summary['checkpoints'] == [summary['checkpoint']]
    assert (summary['fold'], summary['postprocessing'],
            summary['probs_saved']) == (None, None, False)
    assert summary['config']['path'] == osp.abspath(cfg_path)
    assert summary['config']['sha256'] == config_sha256(cfg_path)
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


def test_overwrite_then_rerun_over_own_outputs(tmp_path, tiny_config):
    cfg_path = tiny_config(extra=EVALUATORS)
    ckpt = save_random_checkpoint(cfg_path, tmp_path / 'ckpt.pth')
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'summary.json').write_text('an older summary, not ours')
    (out / 'notes.txt').write_text('kept')
    args = [TEST, cfg_path, ckpt, '--work-dir', str(tmp_path / 'work'),
            '--out', str(out)]
    proc = run_tool(args + ['--overwrite'], cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert 'replacing 1 existing file(s)' in proc.stdout
    assert json.loads((out / 'summary.json').read_text())['num_images'] == 8
    names = [f'pred/{i:03d}.png' for i in range(8)]
    assert sorted(os.listdir(out)) == sorted(
        ['.sgdc_outputs.json', 'notes.txt', 'per_image_metrics.csv',
         'summary.json', 'pred'])  # the staging folder is gone
    assert sorted(os.listdir(out / 'pred')) == [
        f'{i:03d}.png' for i in range(8)]
    record = json.loads((out / '.sgdc_outputs.json').read_text())
    assert set(record['files']) >= set(names) | {'summary.json',
                                                  'per_image_metrics.csv'}
    assert (out / 'notes.txt').read_text() == 'kept'

    proc = run_tool(args, cwd=str(tmp_path))  # no --overwrite: all ours
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert 'replacing' not in proc.stdout
    assert '9 file(s) written by the evaluators moved' in proc.stdout
