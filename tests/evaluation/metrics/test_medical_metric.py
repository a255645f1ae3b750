"""MedicalMetric: values against the pure functions and hand computations,
keys beside IoUMetric, empty rules, the per-image CSV, errors."""
import csv
import logging

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmseg.registry import METRICS

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.evaluation import MedicalMetric
from sgdc_mmseg.evaluation.functional import (hausdorff_distance_95,
                                              surface_metrics)

BINARY = dict(classes=('background', 'lesion'))
MULTI = dict(classes=('background', 'a', 'b'))


def sample(pred, gt, name):
    return dict(
        img_path=f'/data/images/{name}.png',
        pred_sem_seg=dict(data=torch.from_numpy(
            np.asarray(pred, np.int64))[None]),
        gt_sem_seg=dict(data=torch.from_numpy(np.asarray(gt, np.int64))[None]))


def run(metric, samples, meta=BINARY):
    metric.dataset_meta = meta
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def squares():
    gt1 = np.zeros((20, 30), np.uint8)
    gt1[2:12, 3:13] = 1            # 100 px
    pred1 = np.zeros_like(gt1)
    pred1[2:12, 8:18] = 1          # 100 px, 50 shared
    gt2 = np.zeros((16, 16), np.uint8)
    gt2[4:8, 4:8] = 1
    pred2 = gt2.copy()
    return [(pred1, gt1), (pred2, gt2)]


def test_binary_values_and_keys():
    pairs = squares()
    res = run(MedicalMetric(), [sample(p, g, f'im{i}')
                                for i, (p, g) in enumerate(pairs)])
    iou1, dice1 = 50 / 150 * 100, 50 / 100 * 100
    assert res['medical/mIoU'] == pytest.approx((iou1 + 100) / 2)
    assert res['medical/mDice'] == pytest.approx((dice1 + 100) / 2)
    hd1, assd1 = surface_metrics(pairs[0][0] == 1, pairs[0][1] == 1)
    assert res['medical/mHD95'] == pytest.approx(hd1 / 2)
    assert res['medical/mASSD'] == pytest.approx(assd1 / 2)
    # dataset level: (50 + 16) / (150 + 16)
    assert res['medical/aIoU'] == pytest.approx(66 / 166 * 100)
    assert res['medical/aDice'] == pytest.approx(2 * 66 / 232 * 100)
    # TJ: image 1 has IoU 33% < 65% -> 0
    assert res['medical/TJ'] == pytest.approx(50.0)
    assert res['medical/IoU.lesion'] == pytest.approx(res['medical/mIoU'])
    assert all(k.startswith('medical/') for k in res)


def test_tj_threshold_and_prefix():
    pairs = squares()
    res = run(MedicalMetric(tj_threshold=0.3, prefix='isic'),
              [sample(p, g, f'im{i}') for i, (p, g) in enumerate(pairs)])
    assert res['isic/TJ'] == pytest.approx(res['isic/mIoU'])


def test_empty_masks_binary_perfect_and_one_sided_diagonal(monkeypatch):
    logged = []
    monkeypatch.setattr(
        'sgdc_mmseg.evaluation.metrics.medical_metric.print_log',
        lambda msg, logger=None: logged.append(msg))
    empty = np.zeros((30, 40), np.uint8)
    full = empty.copy()
    full[5:10, 5:10] = 1
    metric = MedicalMetric()
    res = run(metric, [sample(empty, empty, 'both_empty'),
                       sample(empty, full, 'missed'),
                       sample(full, empty, 'false_alarm')])
    # both empty: 100 / 0; one empty: 0 / diagonal (50 px)
    assert res['medical/mIoU'] == pytest.approx(100 / 3)
    assert res['medical/mHD95'] == pytest.approx(100 / 3)
    assert res['medical/mASSD'] == pytest.approx(100 / 3)
    rows = {r['image']: r for r in metric.per_image_results}
    assert rows['missed']['HD95.lesion'] == pytest.approx(50.0)
    assert rows['both_empty']['Dice.lesion'] == 100.0
    # the table counts empty gt (2), empty pred (2), both empty (1)
    line = next(ln for ln in logged[0].splitlines() if 'lesion' in ln)
    assert [c.strip() for c in line.strip('|').split('|')][-3:] == \
        ['2', '2', '1']
    assert "empty policy 'perfect'" in logged[0]


def test_multiclass_excludes_absent_classes_by_default():
    gt = np.zeros((20, 20), np.uint8)
    gt[2:6, 2:6] = 1
    pred = gt.copy()
    pred[10:12, 10:12] = 2          # class b predicted, not in gt
    gt2 = np.zeros((20, 20), np.uint8)
    gt2[3:9, 3:9] = 2
    pred2 = gt2.copy()              # class a absent from both
    metric = MedicalMetric()
    res = run(metric, [sample(pred, gt, 'x'), sample(pred2, gt2, 'y')],
              MULTI)
    # class a: only image x counts (perfect); class b: x false alarm (0),
    # y perfect (100)
    assert res['medical/IoU.a'] == pytest.approx(100.0)
    assert res['medical/IoU.b'] == pytest.approx(50.0)
    assert res['medical/mIoU'] == pytest.approx(75.0)
    assert res['medical/HD95.b'] == pytest.approx(
        np.hypot(20, 20) / 2)
    assert np.isnan(metric.per_image_results[1]['IoU.a'])
    # rows: image, img_path, then the four metrics class by class
    assert list(metric.per_image_results[0]) == [
        'image', 'img_path', 'IoU.a', 'Dice.a', 'HD95.a', 'ASSD.a', 'IoU.b',
        'Dice.b', 'HD95.b', 'ASSD.b', 'skipped'
    ]
    # 'perfect' counts class a of image y as 100 / 0
    res = run(MedicalMetric(empty_policy='perfect'),
              [sample(pred, gt, 'x'), sample(pred2, gt2, 'y')], MULTI)
    assert res['medical/IoU.a'] == pytest.approx(100.0)
    assert res['medical/HD95.a'] == 0.0


def test_ignore_index_pixels_are_removed():
    gt = np.zeros((10, 10), np.uint8)
    gt[2:5, 2:5] = 1
    gt[7:, 7:] = 255
    pred = np.zeros_like(gt)
    pred[2:5, 2:5] = 1
    pred[7:, 7:] = 1               # predicted inside the ignored region
    res = run(MedicalMetric(), [sample(pred, gt, 'a')])
    assert res['medical/mIoU'] == pytest.approx(100.0)
    assert res['medical/mHD95'] == 0.0


def capture_logs(monkeypatch):
    logged = []
    monkeypatch.setattr(
        'sgdc_mmseg.evaluation.metrics.medical_metric.print_log',
        lambda msg, logger=None, level=None: logged.append((msg, level)))
    return logged


def test_all_ignored_image_is_skipped_and_counted(monkeypatch, tmp_path):
    """An image whose ground truth is entirely ignore_index counts nowhere,
    whatever the prediction (it used to score IoU 100 / HD95 0)."""
    logged = capture_logs(monkeypatch)
    pairs = squares()
    ignored = np.full((12, 14), 255, np.uint8)
    pred_any = np.zeros_like(ignored)
    pred_any[3:9, 2:7] = 1
    metric = MedicalMetric(output_dir=str(tmp_path))
    res = run(metric, [sample(pairs[0][0], pairs[0][1], 'im0'),
                       sample(ignored, ignored, 'void_a'),
                       sample(pairs[1][0], pairs[1][1], 'im1'),
                       sample(pred_any, ignored, 'void_b')])
    # the means are those of im0 and im1 alone (see the binary test)
    iou1, dice1 = 50 / 150 * 100, 50 / 100 * 100
    hd1, assd1 = surface_metrics(pairs[0][0] == 1, pairs[0][1] == 1)
    assert res['medical/mIoU'] == pytest.approx((iou1 + 100) / 2)
    assert res['medical/mDice'] == pytest.approx((dice1 + 100) / 2)
    assert res['medical/mHD95'] == pytest.approx(hd1 / 2)
    assert res['medical/mASSD'] == pytest.approx(assd1 / 2)
    assert res['medical/aIoU'] == pytest.approx(66 / 166 * 100)
    assert res['medical/TJ'] == pytest.approx(50.0)
    assert res['medical/num_skipped_ignored'] == 2
    # rows stay one per image, the skipped ones flagged with NaN scores
    rows = {r['image']: r for r in metric.per_image_results}
    assert [r['image'] for r in metric.per_image_results] == [
        'im0', 'void_a', 'im1', 'void_b']
    for name in ('void_a', 'void_b'):
        assert rows[name]['skipped'] == 'gt_all_ignored'
        assert all(np.isnan(rows[name][f'{m}.lesion'])
                   for m in ('IoU', 'Dice', 'HD95', 'ASSD'))
    assert rows['im0']['skipped'] == rows['im1']['skipped'] == ''
    with open(tmp_path / 'per_image_metrics.csv') as f:
        csv_rows = list(csv.DictReader(f))
    assert [r['skipped'] for r in csv_rows] == [
        '', 'gt_all_ignored', '', 'gt_all_ignored']
    assert csv_rows[1]['Dice.lesion'] == 'nan'
    # counted once in the log line; the empty counts cover scored images
    header = [m for m, _ in logged if m.startswith('MedicalMetric over')]
    assert len(header) == 1
    assert 'over 2 image(s)' in header[0]
    assert '2 image(s) skipped (ground truth entirely ignore_index=255)' \
        in header[0]
    line = next(ln for ln in header[0].splitlines() if 'lesion' in ln)
    assert [c.strip() for c in line.strip('|').split('|')][-3:] == \
        ['0', '0', '0']


def test_all_ignored_multiclass_and_custom_ignore_index():
    gt = np.zeros((20, 20), np.uint8)
    gt[2:6, 2:6] = 1
    gt[10:14, 10:14] = 2
    pred = gt.copy()
    pred[10:14, 10:12] = 0          # class b: 8 of 16 pixels found
    void = np.full((20, 20), 9, np.uint8)
    res = run(MedicalMetric(ignore_index=9),
              [sample(pred, gt, 'x'), sample(np.ones_like(void), void, 'v')],
              MULTI)
    assert res['medical/IoU.a'] == pytest.approx(100.0)
    assert res['medical/IoU.b'] == pytest.approx(50.0)
    assert res['medical/mIoU'] == pytest.approx(75.0)
    assert res['medical/num_skipped_ignored'] == 1


def test_partly_ignored_image_is_still_scored():
    gt = np.full((10, 10), 255, np.uint8)
    gt[:5, :] = 0
    gt[1:4, 1:4] = 1               # 9 lesion pixels, bottom half ignored
    pred = np.zeros_like(gt)
    pred[1:4, 1:3] = 1             # 6 of them found
    pred[6:, :] = 1                # anything in the ignored half is free
    metric = MedicalMetric()
    res = run(metric, [sample(pred, gt, 'half')])
    assert res['medical/mIoU'] == pytest.approx(6 / 9 * 100)
    assert res['medical/num_skipped_ignored'] == 0
    assert metric.per_image_results[0]['skipped'] == ''


def test_every_image_ignored_gives_nan_and_a_warning(monkeypatch):
    logged = capture_logs(monkeypatch)
    void = np.full((8, 8), 255, np.uint8)
    metric = MedicalMetric()
    res = run(metric, [sample(void, void, 'a'),
                       sample(np.ones_like(void), void, 'b')])
    assert res['medical/num_skipped_ignored'] == 2
    for key in ('mIoU', 'mDice', 'mHD95', 'mASSD', 'aIoU', 'aDice', 'TJ',
                'IoU.lesion', 'HD95.lesion'):
        assert np.isnan(res[f'medical/{key}']), key
    assert [r['skipped'] for r in metric.per_image_results] == [
        'gt_all_ignored'] * 2
    warnings = [m for m, level in logged if level == logging.WARNING]
    assert warnings == [
        'MedicalMetric: the ground truth of all 2 image(s) is entirely '
        'ignore_index=255; nothing was scored and every score is NaN']


def test_spacing_scales_distances():
    pairs = squares()
    px = run(MedicalMetric(), [sample(*pairs[0], 'a')])
    mm = run(MedicalMetric(spacing=0.25), [sample(*pairs[0], 'a')])
    assert mm['medical/mHD95'] == pytest.approx(px['medical/mHD95'] * 0.25,
                                                abs=1e-5)
    assert mm['medical/mIoU'] == px['medical/mIoU']


def test_random_masks_against_functions():
    rng = np.random.default_rng(0)
    samples, ref = [], []
    for i in range(5):
        g = (rng.random((24, 32)) > 0.7).astype(np.uint8)
        p = (rng.random((24, 32)) > 0.6).astype(np.uint8)
        samples.append(sample(p, g, f'r{i}'))
        ref.append(hausdorff_distance_95(p == 1, g == 1))
    res = run(MedicalMetric(), samples)
    assert res['medical/mHD95'] == pytest.approx(np.mean(ref), abs=1e-4)


def test_csv_written(tmp_path):
    pairs = squares()
    metric = MedicalMetric(output_dir=str(tmp_path / 'out'))
    run(metric, [sample(p, g, f'im{i}') for i, (p, g) in enumerate(pairs)])
    with open(tmp_path / 'out' / 'per_image_metrics.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['image'] for r in rows] == ['im0', 'im1']
    assert list(rows[0]) == ['image', 'img_path', 'IoU.lesion', 'Dice.lesion',
                             'HD95.lesion', 'ASSD.lesion', 'skipped']
    assert [r['skipped'] for r in rows] == ['', '']
    assert float(rows[1]['IoU.lesion']) == 100.0
    assert float(rows[0]['Dice.lesion']) == pytest.approx(50.0)


def test_beside_iou_metric_in_one_evaluator():
    evaluator = Evaluator([
        METRICS.build(dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice'])),
        METRICS.build(dict(type='MedicalMetric'))
    ])
    evaluator.dataset_meta = BINARY
    pairs = squares()
    evaluator.process([sample(p, g, f'im{i}')
                       for i, (p, g) in enumerate(pairs)])
    res = evaluator.evaluate(2)
    assert {'mIoU', 'mDice', 'aAcc', 'medical/mIoU', 'medical/mHD95'} <= \
        set(res)
    # IoUMetric's mIoU is dataset-level and includes background
    assert res['mIoU'] != pytest.approx(res['medical/mIoU'])


def test_registered_and_errors():
    assert METRICS.get('MedicalMetric') is MedicalMetric
    with pytest.raises(ValueError, match='empty_policy'):
        MedicalMetric(empty_policy='zero')
    with pytest.raises(ValueError, match='tj_threshold'):
        MedicalMetric(tj_threshold=65)
    with pytest.raises(TypeError, match='iou_metrics'):
        MedicalMetric(iou_metrics=['mIoU'])
    metric = MedicalMetric()
    metric.dataset_meta = BINARY
    with pytest.raises(ValueError, match='img7.png'):
        metric.process({}, [sample(np.zeros((4, 4)), np.zeros((4, 5)),
                                   'img7')])
    metric.dataset_meta = dict(classes=('background', ))
    with pytest.raises(ValueError, match='foreground'):
        metric.process({}, [sample(np.zeros((4, 4)), np.zeros((4, 4)), 'a')])
