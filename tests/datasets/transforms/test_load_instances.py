"""LoadInstances: reads ``inst_path`` into ``gt_instances_map`` (int32,
moved with the ground truth by mmseg's geometric transforms), passes
samples without it, and names the file for every problem."""
import cv2
import numpy as np
import pytest
from mmseg.registry import TRANSFORMS

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.datasets.transforms import LoadInstances

INST = np.zeros((6, 8), np.uint16)
INST[1:3, 1:4] = 1
INST[3:6, 5:8] = 300  # a 16-bit id


def _write(path, arr):
    assert cv2.imwrite(str(path), arr)
    return str(path)


def _results(tmp_path, inst=INST, gt=None, shape=(6, 8)):
    res = dict(img_path='/data/images/a.png', ori_shape=shape,
               seg_fields=[], inst_path=_write(tmp_path / 'a.png', inst))
    if gt is not None:
        res.update(gt_seg_map=gt, seg_map_path='/data/masks/a.png',
                   seg_fields=['gt_seg_map'])
    return res


def test_loads_ids_as_int32_and_registers_a_seg_field(tmp_path):
    res = LoadInstances()(_results(tmp_path, gt=(INST > 0).astype(np.uint8)))
    got = res['gt_instances_map']
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, INST.astype(np.int32))
    assert res['seg_fields'] == ['gt_seg_map', 'gt_instances_map']


def test_built_from_the_registry():
    t = TRANSFORMS.build(dict(type='LoadInstances', allow_missing=False))
    assert isinstance(t, LoadInstances) and t.allow_missing is False


def test_geometric_transforms_move_it_with_the_ground_truth(tmp_path):
    gt = (INST > 0).astype(np.uint8)
    res = LoadInstances()(_results(tmp_path, gt=gt))
    res['img'] = np.zeros((6, 8, 3), np.uint8)
    res['img_shape'] = (6, 8)
    res = TRANSFORMS.build(dict(type='RandomFlip', prob=1.,
                                direction='horizontal'))(res)
    res = TRANSFORMS.build(dict(type='Resize', scale=(16, 12),
                                keep_ratio=False))(res)
    expected = cv2.resize(INST[:, ::-1].astype(np.int32), (16, 12),
                          interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(res['gt_instances_map'], expected)
    np.testing.assert_array_equal(res['gt_seg_map'], expected > 0)


def test_sample_without_inst_path(tmp_path):
    res = dict(img_path='/data/images/b.png', seg_fields=[])
    assert LoadInstances()(dict(res)) == res
    with pytest.raises(KeyError, match=r"no inst_path \(image "
                       r"'/data/images/b.png'\)"):
        LoadInstances(allow_missing=False)(dict(res))


def test_unreadable_or_not_an_image(tmp_path):
    res = dict(img_path='a.png', inst_path=str(tmp_path / 'missing.png'))
    with pytest.raises(OSError, match='cannot read the instance map .*'
                       'missing.png'):
        LoadInstances()(res)
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not a png')
    with pytest.raises(OSError, match='cannot decode the instance map .*'
                       'bad.png'):
        LoadInstances()(dict(img_path='a.png', inst_path=str(bad)))


def test_colour_map_is_refused(tmp_path):
    res = _results(tmp_path, inst=np.zeros((6, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"a.png' is uint8 of shape "
                       r"\(6, 8, 3\); expected a single-channel"):
        LoadInstances()(res)


def test_size_must_be_the_images(tmp_path):
    res = _results(tmp_path, shape=(6, 9))
    with pytest.raises(ValueError, match=r"a.png' is 6x8 \(H x W\) but "
                       r"image '/data/images/a.png' is 6x9"):
        LoadInstances()(res)


def test_foreground_must_match_the_mask_except_ignored(tmp_path):
    gt = (INST > 0).astype(np.uint8)
    gt[0, 0] = 255  # ignored: not compared
    LoadInstances()(_results(tmp_path, gt=gt.copy()))
    gt[0, 1] = 1  # foreground in the mask, background in the instances
    with pytest.raises(ValueError, match=r"and mask '/data/masks/a.png' "
                       r"disagree on the foreground in 1 pixel"):
        LoadInstances()(_results(tmp_path, gt=gt))
