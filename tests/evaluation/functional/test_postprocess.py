"""sgdc_mmseg.evaluation.functional.postprocess: connected-component
operations and applying a spec to a label map."""
import numpy as np
import pytest

from sgdc_mmseg.evaluation.functional.postprocess import (
    apply_postprocessing, connected_components, keep_largest_component,
    remove_small_components)


def _mask():
    m = np.zeros((6, 8), dtype=np.uint8)
    m[0:2, 0:2] = 1        # 4 pixels
    m[3:6, 3:6] = 1        # 9 pixels
    m[2, 2] = 1            # touches both blocks diagonally only
    m[0, 7] = 1            # 1 pixel
    return m


def test_connectivity_decides_what_touches():
    _, sizes8 = connected_components(_mask(), 2)
    _, sizes4 = connected_components(_mask(), 1)
    assert sorted(sizes8[1:]) == [1, 14]   # diagonal pixel joins the blocks
    assert sorted(sizes4[1:]) == [1, 1, 4, 9]


def test_keep_largest_component():
    kept = keep_largest_component(_mask(), connectivity=1)
    assert kept.dtype == bool and kept.sum() == 9 and kept[4, 4]
    assert keep_largest_component(_mask()).sum() == 14
    assert not keep_largest_component(np.zeros((3, 3))).any()
    tie = np.array([[1, 0, 1]])
    assert keep_largest_component(tie).tolist() == [[True, False, False]]


def test_remove_small_components():
    m = _mask()
    assert remove_small_components(m, 2, connectivity=1).sum() == 13
    assert remove_small_components(m, 5, connectivity=1).sum() == 9
    assert remove_small_components(m, 1).sum() == m.sum()
    assert not remove_small_components(m, 100).any()
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match='min_size must be an int >= 1'):
            remove_small_components(m, bad)
    with pytest.raises(ValueError, match='connectivity must be 1 or 2'):
        remove_small_components(m, 2, connectivity=4)


def test_apply_postprocessing_touches_only_the_listed_class():
    label = np.zeros((6, 8), dtype=np.int64)
    label[_mask() == 1] = 1
    label[5, 0] = 2
    label[5, 7] = 2        # two single pixels of class 2
    spec = dict(connectivity=1, per_class={
        '1': dict(operation='keep_largest_component'),
        '2': dict(operation=None)})
    out = apply_postprocessing(label, spec)
    assert (out == 1).sum() == 9 and (out == 2).sum() == 2
    assert out[0, 0] == 0 and out[0, 7] == 0   # removed -> background
    assert label[0, 0] == 1                     # input unchanged
    spec['per_class']['2'] = dict(operation='remove_small_components',
                                  min_size=2)
    assert (apply_postprocessing(label, spec) == 2).sum() == 0
    assert np.array_equal(apply_postprocessing(label, None), label)
    with pytest.raises(ValueError, match='unknown post-processing operation'):
        apply_postprocessing(label, dict(per_class={'1': dict(
            operation='dilate')}))
    with pytest.raises(ValueError, match='class 0'):
        apply_postprocessing(label, dict(per_class={'0': dict(
            operation='keep_largest_component')}))
