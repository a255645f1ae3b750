"""VesselMetric: pooled vs per-image values, the field of view, AUC from
seg_logits, mmseg-style whole-image Dice (against mmseg's IoUMetric), empty
cases, the CSV and errors."""
import csv
import logging

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

import sgdc_mmseg  # noqa: F401
from helpers import metric_sample, pixel_field
from sgdc_mmseg.evaluation import VesselMetric
from sgdc_mmseg.evaluation.functional import roc_auc, vessel_scores
from sgdc_mmseg.evaluation.metrics.vessel_metric import vessel_probability

META = dict(classes=('background', 'vessel'))


pix = pixel_field


def sample(pred, gt, name, fov=None, logits=None):
    return metric_sample(
        pred, gt, name, fov=None if fov is None else (fov, torch.uint8),
        seg_logits=None if logits is None else (logits, torch.float32))


def logits_from(prob):
    """Two-channel logits whose softmax vessel channel is ``prob``."""
    prob = np.clip(np.asarray(prob, np.float64), 1e-6, 1 - 1e-6)
    return np.stack([np.zeros_like(prob), np.log(prob / (1 - prob))])


def run(metric, samples):
    metric.dataset_meta = META
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def capture(monkeypatch):
    logged = []
    monkeypatch.setattr(
        'sgdc_mmseg.evaluation.metrics.vessel_metric.print_log',
        lambda msg, logger=None, level=None: logged.append((msg, level)))
    return logged


def two_images():
    """Image a: 10x10 FOV in a 12x12 image, 20 vessel px, 15 found, 5 false
    alarms; errors outside the FOV must not count. Image b: perfect."""
    gt_a = np.zeros((12, 12), np.int64)
    gt_a[1:11, 5:7] = 1                       # 20 px
    fov_a = np.zeros((12, 12), np.uint8)
    fov_a[1:11, 1:11] = 1
    pred_a = np.zeros_like(gt_a)
    pred_a[1:8, 5:7] = 1                      # 14 px hit
    pred_a[8, 5] = 1                          # 15 hit, 5 missed
    pred_a[2:7, 2] = 1                        # 5 false alarms
    pred_a[0, :] = 1                          # outside the FOV
    gt_a[fov_a == 0] = 255                    # as the DRIVE converter does
    gt_b = np.zeros((8, 8), np.int64)
    gt_b[2:6, 3] = 1
    fov_b = np.ones((8, 8), np.uint8)
    prob_a = np.where(pred_a == 1, 0.8, 0.2)
    prob_a[1:11, 5:7] += 0.05                 # vessels score a bit higher
    prob_b = np.where(gt_b == 1, 0.9, 0.1)
    return [
        sample(pred_a, gt_a, 'a', fov_a, logits_from(prob_a)),
        sample(gt_b, gt_b, 'b', fov_b, logits_from(prob_b)),
    ], (pred_a, gt_a, fov_a, prob_a), (gt_b, prob_b)


def test_pooled_and_per_image_values():
    samples, (pred_a, gt_a, fov_a, prob_a), (gt_b, prob_b) = two_images()
    metric = VesselMetric()
    res = run(metric, samples)
    # image a inside the FOV: TP 15, FN 5, FP 5, TN 100 - 25 = 75
    se_a, sp_a, acc_a, f1_a = 15 / 20, 75 / 80, 90 / 100, 30 / 40
    rows = {r['image']: r for r in metric.image_rows}
    assert rows['a']['Se'] == pytest.approx(se_a * 100)
    assert rows['a']['Sp'] == pytest.approx(sp_a * 100)
    assert rows['a']['Acc'] == pytest.approx(acc_a * 100)
    assert rows['a']['F1'] == pytest.approx(f1_a * 100)
    assert rows['b']['F1'] == pytest.approx(100)
    assert rows['a']['fov'] == 'fov' and rows['a']['skipped'] == ''
    # pooled over all FOV pixels: image b adds TP 4, TN 60
    assert res['vessel/Se'] == pytest.approx(19 / 24 * 100)
    assert res['vessel/Sp'] == pytest.approx(135 / 140 * 100)
    assert res['vessel/Acc'] == pytest.approx(154 / 164 * 100)
    assert res['vessel/F1'] == pytest.approx(38 / 48 * 100)
    assert res['vessel/mSe'] == pytest.approx((se_a + 1) / 2 * 100)
    assert res['vessel/mF1'] == pytest.approx((f1_a + 1) / 2 * 100)
    # AUC: per image and one ROC curve over all FOV pixels
    valid_a = fov_a == 1
    auc_a = roc_auc(prob_a, gt_a == 1, valid_a)
    assert rows['a']['AUC'] == pytest.approx(auc_a * 100, abs=1e-6)
    pooled = roc_auc(np.concatenate([prob_a[valid_a], prob_b.ravel()])[None],
                     np.concatenate([(gt_a == 1)[valid_a],
                                     (gt_b == 1).ravel()])[None])
    assert res['vessel/AUC'] == pytest.approx(pooled * 100, abs=1e-6)
    assert res['vessel/mAUC'] == pytest.approx((auc_a + 1) / 2 * 100,
                                               abs=1e-6)
    assert res['vessel/num_images'] == 2
    assert res['vessel/num_skipped'] == 0
    assert res['vessel/num_whole_image_fov'] == 0
    assert all(k.startswith('vessel/') for k in res)


def test_whole_image_dice_matches_mmseg_iou_metric():
    """mmseg's IoUMetric on mmseg's own DRIVE labels (0 outside the FOV)
    gives the zoo's vessel Dice and mDice; ours reads the same from labels
    with 255 outside the FOV."""
    samples, (pred_a, gt_a, fov_a, _), (gt_b, _) = two_images()
    res = run(VesselMetric(), samples)
    mm_gt_a = np.where(gt_a == 255, 0, gt_a)
    mm = METRICS.build(dict(type='IoUMetric', iou_metrics=['mDice']))
    mm.dataset_meta = META
    mm.process({}, [sample(pred_a, mm_gt_a, 'a'), sample(gt_b, gt_b, 'b')])
    mm_res = mm.evaluate(2)
    # image a whole: vessel pred 15 + 5 + 12 (row 0) = 32, gt 20, inter 15
    assert res['vessel/whole_Dice'] == pytest.approx(
        2 * 19 / (32 + 4 + 24) * 100)
    assert res['vessel/whole_mDice'] == pytest.approx(mm_res['mDice'],
                                                      abs=0.01)
    # the pooled F1 inside the FOV ignores row 0's false alarms
    assert res['vessel/F1'] > res['vessel/whole_Dice']


def test_through_evaluator_with_seg_data_samples():
    samples, _, _ = two_images()
    data_samples = []
    for s in samples:
        ds = SegDataSample(metainfo=dict(img_path=s['img_path']))
        ds.gt_sem_seg = PixelData(**s['gt_sem_seg'])
        ds.pred_sem_seg = PixelData(**s['pred_sem_seg'])
        ds.seg_logits = PixelData(**s['seg_logits'])
        ds.set_data(dict(fov=PixelData(**s['fov'])))
        data_samples.append(ds)
    evaluator = Evaluator([METRICS.build(dict(type='VesselMetric'))])
    evaluator.dataset_meta = META
    evaluator.process(data_samples)
    res = evaluator.evaluate(2)
    assert res['vessel/Se'] == pytest.approx(19 / 24 * 100)


def test_without_fov_scores_the_whole_image_and_logs(monkeypatch):
    logged = capture(monkeypatch)
    gt = np.zeros((6, 6), np.int64)
    gt[2, :] = 1
    pred = gt.copy()
    pred[0, 0] = 1
    metric = VesselMetric()
    res = run(metric, [sample(pred, gt, 'x', logits=logits_from(gt * 0.9)),
                       sample(pred, gt, 'y', logits=logits_from(gt * 0.9))])
    assert res['vessel/num_whole_image_fov'] == 2
    assert res['vessel/Sp'] == pytest.approx(29 / 30 * 100)
    assert [r['fov'] for r in metric.image_rows] == ['whole_image'] * 2
    warnings = [m for m, level in logged if level == logging.WARNING]
    assert len(warnings) == 1 and "2 image(s) carry no 'fov'" in warnings[0]


def test_one_channel_seg_logits_are_probabilities():
    """mmseg stores one-channel seg_logits after its sigmoid."""
    prob = np.array([[0.1, 0.7], [0.6, 0.2]])
    assert np.array_equal(vessel_probability(prob[None]), prob)
    with pytest.raises(ValueError, match='not probabilities'):
        vessel_probability(np.array([[[2.0, -1.0]]]))
    with pytest.raises(ValueError, match='vessel_index=2'):
        vessel_probability(np.zeros((2, 2, 2)), vessel_index=2)
    gt = np.array([[0, 1], [1, 0]])
    s = sample(gt, gt, 'p', logits=prob[None])
    res = run(VesselMetric(), [s])
    assert res['vessel/AUC'] == pytest.approx(100.0)
    bad = sample(gt, gt, 'bad_logits', logits=np.full((1, 2, 2), 3.0))
    with pytest.raises(ValueError, match="bad_logits.png.*not probabilit"):
        run(VesselMetric(), [bad])


def test_softmax_channel_is_the_vessel_probability():
    logits = np.random.default_rng(0).normal(size=(2, 4, 5))
    expected = 1 / (1 + np.exp(-(logits[1] - logits[0])))
    assert np.allclose(vessel_probability(logits), expected)


def test_missing_seg_logits_gives_nan_auc_and_warns(monkeypatch):
    logged = capture(monkeypatch)
    samples, _, _ = two_images()
    del samples[1]['seg_logits']
    metric = VesselMetric()
    res = run(metric, samples)
    assert np.isnan(res['vessel/AUC'])
    assert np.isnan(metric.image_rows[1]['AUC'])
    assert res['vessel/mAUC'] == pytest.approx(metric.image_rows[0]['AUC'])
    assert any("1 image(s) carry no 'seg_logits'" in m
               for m, level in logged if level == logging.WARNING)


def test_empty_cases(monkeypatch):
    logged = capture(monkeypatch)
    gt = np.zeros((5, 5), np.int64)
    no_fov = np.zeros((5, 5), np.uint8)
    full_fov = np.ones((5, 5), np.uint8)
    vessel = gt.copy()
    vessel[2, :] = 1
    metric = VesselMetric()
    res = run(metric, [
        sample(gt, gt, 'empty_fov', no_fov, logits_from(gt * 0.5 + 0.1)),
        sample(gt, gt, 'no_vessel', full_fov, logits_from(gt * 0.5 + 0.1)),
        sample(vessel, vessel, 'ok', full_fov, logits_from(vessel * 0.8)),
    ])
    rows = {r['image']: r for r in metric.image_rows}
    assert rows['empty_fov']['skipped'] == 'no_valid_pixel'
    assert np.isnan(rows['empty_fov']['F1'])
    assert np.isnan(rows['no_vessel']['Se'])
    assert np.isnan(rows['no_vessel']['AUC'])
    assert rows['no_vessel']['F1'] == 100.0       # nothing to find, found
    assert rows['no_vessel']['clDice'] == 100.0
    assert rows['no_vessel']['Sp'] == 100.0
    assert res['vessel/num_skipped'] == 1
    assert res['vessel/mSe'] == 100.0             # only image 'ok' counts
    assert res['vessel/Se'] == 100.0
    table = logged[0][0]
    undefined = next(ln for ln in table.splitlines() if 'undefined' in ln)
    # Se and AUC undefined in one scored image
    assert [c.strip() for c in undefined.strip('|').split('|')][1:] == \
        ['1', '0', '0', '1', '0', '0']


def test_every_image_skipped_gives_nan(monkeypatch):
    logged = capture(monkeypatch)
    gt = np.full((3, 3), 255, np.int64)
    res = run(VesselMetric(), [sample(gt * 0, gt, 'ignored')])
    assert np.isnan(res['vessel/Se']) and np.isnan(res['vessel/whole_Dice'])
    assert res['vessel/num_skipped'] == 1
    assert any('no image has a pixel to score' in m for m, _ in logged)


def test_ignore_index_inside_the_fov():
    gt = np.zeros((4, 4), np.int64)
    gt[1, :] = 1
    gt[3, :] = 255
    pred = gt.copy()
    pred[3, :] = 1                      # predicted on ignored pixels
    res = run(VesselMetric(), [sample(pred, gt, 'i', np.ones((4, 4)))])
    assert res['vessel/Sp'] == 100.0 and res['vessel/F1'] == 100.0
    assert vessel_scores(pred == 1, gt == 1)['Sp'] < 1


def test_csv(tmp_path):
    samples, _, _ = two_images()
    metric = VesselMetric(output_dir=str(tmp_path))
    run(metric, samples)
    with open(tmp_path / 'per_image_vessel_metrics.csv') as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ['image', 'img_path', 'fov', 'Se', 'Sp', 'Acc',
                             'AUC', 'F1', 'clDice', 'whole_Dice', 'skipped']
    assert [r['image'] for r in rows] == ['a', 'b']
    assert float(rows[0]['Se']) == pytest.approx(75.0)


def test_errors():
    gt = np.zeros((4, 4), np.int64)
    with pytest.raises(KeyError, match="'/data/images/x.png' has no "
                       "'gt_sem_seg'"):
        run(VesselMetric(), [dict(img_path='/data/images/x.png',
                                  pred_sem_seg=pix(gt))])
    with pytest.raises(ValueError, match=r"'/data/images/f.png' differ in "
                       r"size.*fov \(3, 4\)"):
        run(VesselMetric(), [sample(gt, gt, 'f', np.ones((3, 4)))])
    with pytest.raises(ValueError, match='vessel_index'):
        VesselMetric(vessel_index=-1)
    with pytest.raises(TypeError, match='unexpected argument'):
        VesselMetric(fov_key='mask')
    with pytest.raises(ValueError, match='no image was processed'):
        VesselMetric().compute_metrics([])
