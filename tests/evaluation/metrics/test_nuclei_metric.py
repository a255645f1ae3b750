"""NucleiMetric: hand-computed Dice/IoU/AJI/PQ per image and aggregated,
ground-truth instances from `instances` or components (reported), the SGE
split switch, empty cases, ignore pixels, the CSV and errors."""
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
from sgdc_mmseg.evaluation import NucleiMetric

META = dict(classes=('background', 'nucleus'))


pix = pixel_field


def sample(pred, gt, name, instances=None, edge_logits=None):
    return metric_sample(
        pred, gt, name,
        instances=None if instances is None else (instances, torch.int32),
        edge_logits=None if edge_logits is None else (edge_logits,
                                                      torch.float32))


def run(metric, samples):
    metric.dataset_meta = META
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def capture(monkeypatch):
    logged = []
    monkeypatch.setattr(
        'sgdc_mmseg.evaluation.metrics.nuclei_metric.print_log',
        lambda msg, logger=None, level=None: logged.append((msg, level)))
    return logged


def touching_pair():
    """Two 4x4 nuclei side by side (touching) and a prediction of exactly
    that foreground: one merged component."""
    inst = np.zeros((6, 10), np.int32)
    inst[0:4, 0:4] = 1
    inst[0:4, 4:8] = 2
    return inst, (inst > 0).astype(np.int64)


def separate_pair():
    """Two separate 3x3 nuclei; the prediction finds the first exactly and
    half of the second's columns (IoU 6/9)."""
    gt = np.zeros((8, 8), np.int64)
    gt[0:3, 0:3] = 1
    gt[5:8, 5:8] = 1
    pred = np.zeros_like(gt)
    pred[0:3, 0:3] = 1
    pred[5:8, 5:7] = 1
    return pred, gt


def test_per_image_and_aggregated_values(monkeypatch):
    logged = capture(monkeypatch)
    inst, mask = touching_pair()
    pred2, gt2 = separate_pair()
    metric = NucleiMetric()
    res = run(metric, [sample(mask, mask, 'touch', instances=inst),
                       sample(pred2, gt2, 'sep')])
    rows = {r['image']: r for r in metric.image_rows}
    # touching pair: pixels perfect; one merged prediction: AJI 32/64,
    # AJI+ 16/48, no IoU > 0.5 pair -> PQ 0
    t = rows['touch']
    assert (t['Dice'], t['IoU']) == (100.0, 100.0)
    assert t['AJI'] == pytest.approx(50.0)
    assert t['AJIplus'] == pytest.approx(100 / 3)
    assert (t['DQ'], t['SQ'], t['PQ']) == (0.0, 0.0, 0.0)
    assert (t['gt_instances'], t['pred_instances']) == ('instances',
                                                        'components')
    assert (t['n_gt'], t['n_pred']) == (2, 1)
    # separate pair: Dice 2*15/33, AJI 15/18, both matched: SQ (1 + 2/3)/2
    s = rows['sep']
    assert s['Dice'] == pytest.approx(2 * 15 / 33 * 100)
    assert s['IoU'] == pytest.approx(15 / 18 * 100)
    assert s['AJI'] == pytest.approx(15 / 18 * 100)
    assert s['DQ'] == 100.0
    assert s['SQ'] == pytest.approx((1 + 2 / 3) / 2 * 100)
    assert s['gt_instances'] == 'components'
    assert res['nuclei/mAJI'] == pytest.approx((50 + 15 / 18 * 100) / 2)
    assert res['nuclei/mPQ'] == pytest.approx(s['PQ'] / 2)
    # aggregated: C = 32 + 15, U = 64 + 18; TP 2, FP 1, FN 2
    assert res['nuclei/aAJI'] == pytest.approx(47 / 82 * 100)
    assert res['nuclei/aDQ'] == pytest.approx(2 / (2 + 0.5 + 1) * 100)
    assert res['nuclei/aSQ'] == pytest.approx((1 + 2 / 3) / 2 * 100)
    assert res['nuclei/aDice'] == pytest.approx(2 * 47 / (47 + 50) * 100)
    assert res['nuclei/num_gt_from_instances'] == 1
    assert res['nuclei/num_gt_from_components'] == 1
    assert res['nuclei/num_pred_sge'] == 0
    assert 'ground-truth instances from \'instances\' in 1 image(s), from ' \
        'connected components in 1' in logged[0][0]


def test_instances_change_the_ground_truth_count():
    """Without `instances`, touching nuclei are one ground-truth component,
    and the merged prediction looks perfect."""
    inst, mask = touching_pair()
    metric = NucleiMetric()
    res = run(metric, [sample(mask, mask, 'touch')])
    assert metric.image_rows[0]['gt_instances'] == 'components'
    assert metric.image_rows[0]['n_gt'] == 1
    assert res['nuclei/mPQ'] == 100.0 and res['nuclei/mAJI'] == 100.0


def test_sge_split_with_edge_logits(monkeypatch):
    logged = capture(monkeypatch)
    inst, mask = touching_pair()
    edge = np.full(mask.shape, -6.0)        # sigmoid ~ 0.0025
    edge[0:4, 3:5] = 6.0                    # the contact band: ~ 0.9975
    samples = [sample(mask, mask, 'touch', inst, edge)]
    res = run(NucleiMetric(pred_instances='sge', sge_min_seed_area=1),
              samples)
    assert res['nuclei/mPQ'] == 100.0 and res['nuclei/mAJI'] == 100.0
    assert res['nuclei/num_pred_sge'] == 1
    assert 'split with the SGE boundary map in 1 image(s)' in logged[0][0]
    # components ignore the edge map
    res = run(NucleiMetric(), samples)
    assert res['nuclei/mPQ'] == 0.0


def test_sge_mode_requires_the_edge_map_auto_falls_back():
    inst, mask = touching_pair()
    with pytest.raises(KeyError, match="'/data/images/touch.png' has no "
                       "'edge_logits'.*pred_instances='auto'"):
        run(NucleiMetric(pred_instances='sge'),
            [sample(mask, mask, 'touch', inst)])
    edge = np.full(mask.shape, -6.0)
    edge[0:4, 3:5] = 6.0
    metric = NucleiMetric(pred_instances='auto', sge_min_seed_area=1)
    res = run(metric, [sample(mask, mask, 'a', inst, edge),
                       sample(mask, mask, 'b', inst)])
    assert [r['pred_instances'] for r in metric.image_rows] == [
        'sge_watershed', 'components']
    assert res['nuclei/num_pred_sge'] == 1
    assert res['nuclei/mPQ'] == pytest.approx(50.0)


def test_empty_cases():
    e = np.zeros((5, 5), np.int64)
    f = e.copy()
    f[1:3, 1:3] = 1
    metric = NucleiMetric()
    res = run(metric, [sample(e, e, 'both_empty'), sample(f, e, 'false'),
                       sample(e, f, 'missed')])
    rows = {r['image']: r for r in metric.image_rows}
    assert all(rows['both_empty'][k] == 100.0
               for k in ('Dice', 'IoU', 'AJI', 'AJIplus', 'DQ', 'SQ', 'PQ'))
    for name in ('false', 'missed'):
        assert all(rows[name][k] == 0.0
                   for k in ('Dice', 'IoU', 'AJI', 'AJIplus', 'DQ', 'SQ',
                             'PQ'))
    assert res['nuclei/mPQ'] == pytest.approx(100 / 3)
    assert res['nuclei/aPQ'] == 0.0
    metric = NucleiMetric(empty_policy='exclude')
    res = run(metric, [sample(e, e, 'both_empty'), sample(f, f, 'ok')])
    assert np.isnan(metric.image_rows[0]['PQ'])
    assert res['nuclei/mPQ'] == 100.0 and res['nuclei/aPQ'] == 100.0
    res = run(NucleiMetric(empty_policy='exclude'), [sample(e, e, 'only')])
    assert np.isnan(res['nuclei/mAJI']) and np.isnan(res['nuclei/aAJI'])


def test_ignored_pixels_are_removed_and_all_ignored_is_skipped(monkeypatch):
    logged = capture(monkeypatch)
    gt = np.zeros((6, 6), np.int64)
    gt[0:2, 0:2] = 1
    gt[4:, :] = 255
    pred = gt.copy()
    pred[4:, :] = 1                       # predicted on ignored pixels
    metric = NucleiMetric()
    res = run(metric, [sample(pred, gt, 'i'),
                       sample(pred, np.full((6, 6), 255), 'all_ignored')])
    assert metric.image_rows[0]['n_pred'] == 1
    assert res['nuclei/mPQ'] == 100.0
    assert res['nuclei/num_skipped'] == 1
    assert metric.image_rows[1]['skipped'] == 'no_valid_pixel'
    assert np.isnan(metric.image_rows[1]['AJI'])
    res = run(NucleiMetric(), [sample(pred, np.full((6, 6), 255), 'x')])
    assert np.isnan(res['nuclei/aAJI'])
    assert any('no image has a pixel to score' in m for m, _ in logged)


def test_mismatch_between_instances_and_mask_is_logged(monkeypatch):
    logged = capture(monkeypatch)
    inst, mask = touching_pair()
    inst = inst.copy()
    inst[5, 9] = 3                        # an instance pixel the mask lacks
    run(NucleiMetric(), [sample(mask, mask, 'odd', inst)])
    warning = [m for m, level in logged if level == logging.WARNING]
    assert len(warning) == 1
    assert "1 image(s) the 'instances' map and the ground-truth mask " \
        "disagree" in warning[0] and 'odd.png' in warning[0]


def test_through_evaluator_with_seg_data_samples():
    inst, mask = touching_pair()
    ds = SegDataSample(metainfo=dict(img_path='/data/images/t.png'))
    ds.gt_sem_seg = PixelData(**pix(mask))
    ds.pred_sem_seg = PixelData(**pix(mask))
    ds.set_data(dict(instances=PixelData(**pix(inst, torch.int32))))
    evaluator = Evaluator([METRICS.build(dict(type='NucleiMetric'))])
    evaluator.dataset_meta = META
    evaluator.process([ds])
    res = evaluator.evaluate(1)
    assert res['nuclei/mAJI'] == pytest.approx(50.0)
    assert res['nuclei/num_gt_from_instances'] == 1


def test_csv(tmp_path):
    pred, gt = separate_pair()
    metric = NucleiMetric(output_dir=str(tmp_path))
    run(metric, [sample(pred, gt, 'sep')])
    with open(tmp_path / 'per_image_nuclei_metrics.csv') as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ['image', 'img_path', 'gt_instances',
                             'pred_instances', 'n_gt', 'n_pred', 'Dice',
                             'IoU', 'AJI', 'AJIplus', 'DQ', 'SQ', 'PQ',
                             'skipped']
    assert float(rows[0]['AJI']) == pytest.approx(15 / 18 * 100)


def test_csv_name_follows_the_prefix(tmp_path):
    """Two NucleiMetrics in one evaluator list (components and the SGE
    split) write two CSVs instead of one overwriting the other."""
    from sgdc_mmseg.evaluation.metrics.nuclei_metric import nuclei_csv_name
    assert nuclei_csv_name(None) == 'per_image_nuclei_metrics.csv'
    assert nuclei_csv_name('nuclei') == 'per_image_nuclei_metrics.csv'
    assert nuclei_csv_name('nuclei_sge') == 'per_image_nuclei_sge_metrics.csv'
    assert nuclei_csv_name('a/b c') == 'per_image_a_b_c_metrics.csv'
    pred, gt = separate_pair()
    for prefix in (None, 'nuclei_sge'):
        run(NucleiMetric(output_dir=str(tmp_path), prefix=prefix),
            [sample(pred, gt, 'sep')])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'per_image_nuclei_metrics.csv', 'per_image_nuclei_sge_metrics.csv']


def test_errors():
    inst, mask = touching_pair()
    with pytest.raises(ValueError, match=r"'/data/images/s.png' differ in "
                       r"size.*instances \(5, 10\)"):
        run(NucleiMetric(), [sample(mask, mask, 's', inst[:5])])
    with pytest.raises(ValueError, match="'/data/images/f.png' must hold "
                       'integer ids'):
        s = sample(mask, mask, 'f')
        s['instances'] = pix(inst, torch.float32)
        run(NucleiMetric(), [s])
    for kwargs, match in ((dict(pred_instances='watershed'), 'one of'),
                          (dict(empty_policy='auto'), 'one of'),
                          (dict(connectivity=4), 'connectivity'),
                          (dict(sge_threshold=1.5), 'sge_threshold'),
                          (dict(sge_min_seed_area=0), 'sge_min_seed_area')):
        with pytest.raises(ValueError, match=match):
            NucleiMetric(**kwargs)
    with pytest.raises(TypeError, match='unexpected argument'):
        NucleiMetric(instances_key='inst')
