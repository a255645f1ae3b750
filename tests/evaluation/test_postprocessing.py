"""sgdc_mmseg.evaluation.postprocessing: nnU-Net's rule (kept only when the
pooled mean per-image Dice strictly improves) and the spec file."""
import json

import numpy as np
import pytest

from sgdc_mmseg.evaluation import postprocessing as pp
from sgdc_mmseg.evaluation.functional.postprocess import apply_postprocessing

KEEP = [dict(operation='keep_largest_component')]


def _case(pred_boxes, gt_boxes, shape=(10, 10)):
    pred, gt = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    for (y0, y1, x0, x1, c) in pred_boxes:
        pred[y0:y1, x0:x1] = c
    for (y0, y1, x0, x1, c) in gt_boxes:
        gt[y0:y1, x0:x1] = c
    return pred, gt


def _dice(pred, gt):
    inter = np.logical_and(pred, gt).sum()
    return 2 * inter / (pred.sum() + gt.sum())


def test_an_option_that_improves_the_pooled_dice_is_chosen():
    # image 1: the lesion (16 px) plus a 4-px false positive; image 2: fine
    one = _case([(0, 4, 0, 4, 1), (8, 10, 8, 10, 1)], [(0, 4, 0, 4, 1)])
    two = _case([(2, 5, 2, 5, 1)], [(2, 5, 2, 5, 1)])
    spec = pp.choose_postprocessing(iter([one, two]), 2, KEEP,
                                    class_names=('bg', 'lesion'))
    entry = spec['per_class']['1']
    before = (_dice(one[0] == 1, one[1] == 1) + 1.0) / 2
    assert entry['score_before'] == pytest.approx(before)   # 0.944...
    assert entry['score_after'] == pytest.approx(1.0)
    assert (entry['operation'], entry['name'], entry['num_images']) == (
        'keep_largest_component', 'lesion', 2)
    assert spec['num_images'] == 2 and spec['version'] == pp.VERSION
    out = apply_postprocessing(one[0], spec)
    assert np.array_equal(out, one[1])


def test_an_option_that_hurts_is_not_chosen():
    # two true lesions in image 1: keeping the largest loses one
    one = _case([(0, 4, 0, 4, 1), (6, 9, 6, 9, 1)],
                [(0, 4, 0, 4, 1), (6, 9, 6, 9, 1)])
    spec = pp.choose_postprocessing([one], 2, KEEP)
    entry = spec['per_class']['1']
    assert entry['operation'] is None
    assert entry['score_before'] == pytest.approx(1.0)
    assert entry['scores']['keep_largest_component'] == pytest.approx(
        2 * 16 / (16 + 25))
    assert entry['score_after'] == entry['score_before']


def test_a_tie_is_not_chosen():
    # one component per image: keep-largest changes nothing (equal score)
    one = _case([(1, 4, 1, 4, 1)], [(0, 4, 0, 4, 1)])
    spec = pp.choose_postprocessing([one, one], 2, KEEP)
    entry = spec['per_class']['1']
    assert entry['scores']['keep_largest_component'] == \
        entry['score_before']
    assert entry['operation'] is None


def test_per_class_choice_and_best_of_the_sizes():
    # class 1: a 1-px and a 4-px false positive; removing below 2 helps,
    # removing below 5 helps more, keep-largest as much (listed first wins)
    # class 2: correct, untouched
    pred, gt = _case([(0, 5, 0, 5, 1), (7, 9, 7, 9, 1), (9, 10, 0, 1, 1),
                      (6, 9, 0, 3, 2)],
                     [(0, 5, 0, 5, 1), (6, 9, 0, 3, 2)])
    cands = [dict(operation='remove_small_components', min_size=2),
             dict(operation='remove_small_components', min_size=5),
             dict(operation='keep_largest_component')]
    spec = pp.choose_postprocessing([(pred, gt)], 3, cands, connectivity=1)
    one, two = spec['per_class']['1'], spec['per_class']['2']
    assert (one['operation'], one['min_size']) == (
        'remove_small_components', 5)
    assert one['scores'] == {
        'remove_small_components:2': pytest.approx(50 / 54),
        'remove_small_components:5': 1.0, 'keep_largest_component': 1.0}
    assert two['operation'] is None
    assert spec['candidates'] == list(one['scores'])


def test_ignored_pixels_and_empty_images():
    pred, gt = _case([(0, 2, 0, 2, 1)], [])
    gt[0:2, 0:2] = 255          # the false positive lies in ignored pixels
    spec = pp.choose_postprocessing([(pred, gt)], 2, KEEP)
    assert spec['per_class']['1']['score_before'] == 1.0  # both empty
    allignored = np.full((4, 4), 255)
    spec = pp.choose_postprocessing([(np.ones((4, 4), int), allignored)], 2)
    assert spec['per_class']['1']['num_images'] == 0
    assert spec['per_class']['1']['operation'] is None


def test_bad_cases_are_named():
    with pytest.raises(ValueError, match=r'case 1: prediction \(3, 3\) and '
                       r'ground truth \(4, 4\)'):
        pp.choose_postprocessing([_case([], []), (np.zeros((3, 3)),
                                                  np.zeros((4, 4)))], 2)
    with pytest.raises(ValueError, match='case 0: prediction holds class '
                       'ids outside 0..1'):
        pp.choose_postprocessing([(np.full((2, 2), 2), np.zeros((2, 2)))],
                                 2)
    with pytest.raises(ValueError, match='got no cases'):
        pp.choose_postprocessing([], 2)
    with pytest.raises(ValueError, match='metric must be one of'):
        pp.choose_postprocessing([_case([], [])], 2, metric='hd95')


def test_save_and_load_round_trip_and_errors(tmp_path):
    spec = pp.choose_postprocessing([_case([(0, 4, 0, 4, 1)],
                                           [(0, 4, 0, 4, 1)])], 2)
    path = tmp_path / 'postprocessing.json'
    assert pp.save_postprocessing(spec, str(path)) == str(path)
    assert pp.load_postprocessing(str(path)) == json.loads(path.read_text())
    assert json.loads(path.read_text())['version'] == 1
    with pytest.raises(FileExistsError, match=f'"{path}" exists'):
        pp.save_postprocessing(spec, str(path))
    pp.save_postprocessing(spec, str(path), overwrite=True)
    bad = dict(spec, per_class={'1': dict(operation='dilate')})
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match=f"{path}: class 1: unknown "
                       "operation 'dilate'"):
        pp.load_postprocessing(str(path))
    path.write_text('{')
    with pytest.raises(ValueError, match=f'{path} is not valid JSON'):
        pp.load_postprocessing(str(path))
    with pytest.raises(FileNotFoundError, match='"nope.json" not found'):
        pp.load_postprocessing('nope.json')
    path.write_text(json.dumps(dict(spec, per_class={'2': dict(
        operation=None)})))
    with pytest.raises(ValueError, match="class '2' is not a foreground "
                       r'class id \(1..1\)'):
        pp.load_postprocessing(str(path))
