"""LoadFOV: the 0/1 field-of-view PNG into results['gt_fov'] (a seg field,
so mmseg's geometric transforms follow it), errors naming the file."""
import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose

import sgdc_mmseg  # noqa: F401  (fills the registries)
from mmseg.registry import TRANSFORMS
from sgdc_mmseg.datasets.transforms import FOV_RESULTS_KEY, LoadFOV

H, W = 12, 10


def _fov():
    fov = np.zeros((H, W), np.uint8)
    fov[2:9, 1:8] = 1
    return fov


def _write(path, arr):
    assert cv2.imwrite(str(path), arr)
    return str(path)


def test_registered_and_loads_into_a_seg_field(tmp_path):
    assert TRANSFORMS.get('LoadFOV') is LoadFOV
    path = _write(tmp_path / 'a.png', _fov())
    results = LoadFOV()(dict(fov_path=path, ori_shape=(H, W),
                             seg_fields=['gt_seg_map']))
    assert FOV_RESULTS_KEY == 'gt_fov'
    np.testing.assert_array_equal(results['gt_fov'], _fov())
    assert results['gt_fov'].dtype == np.uint8
    assert results['seg_fields'] == ['gt_seg_map', 'gt_fov']
    again = LoadFOV()(results)  # not listed twice
    assert again['seg_fields'] == ['gt_seg_map', 'gt_fov']


def test_geometric_transforms_follow_it(tmp_path):
    """mmseg's RandomFlip and Resize treat it as ground truth (flipped
    with the image, resized nearest)."""
    path = _write(tmp_path / 'a.png', _fov())
    pipeline = Compose([
        LoadFOV(),
        TRANSFORMS.build(dict(type='RandomFlip', prob=1.0,
                              direction='horizontal')),
        TRANSFORMS.build(dict(type='Resize', scale=(2 * W, 2 * H),
                              keep_ratio=False)),
    ])
    img = np.zeros((H, W, 3), np.uint8)
    out = pipeline(dict(fov_path=path, img=img, img_shape=(H, W),
                        ori_shape=(H, W), seg_fields=[]))
    expected = np.repeat(np.repeat(_fov()[:, ::-1], 2, 0), 2, 1)
    np.testing.assert_array_equal(out['gt_fov'], expected)


def test_errors_name_the_file(tmp_path):
    with pytest.raises(KeyError, match=r"no fov_path \(image 'x\.png'\)"):
        LoadFOV()(dict(img_path='x.png'))
    missing = str(tmp_path / 'missing.png')
    with pytest.raises(OSError, match=r'cannot read the field-of-view mask '
                       r'.*missing\.png'):
        LoadFOV()(dict(fov_path=missing))
    garbage = tmp_path / 'garbage.png'
    garbage.write_bytes(b'not a png')
    with pytest.raises(OSError, match=r'cannot decode .*garbage\.png'):
        LoadFOV()(dict(fov_path=str(garbage)))
    path = _write(tmp_path / 'b255.png', _fov() * 255)
    with pytest.raises(ValueError, match=r'b255\.png.* holds value\(s\) 255;'
                       r'.*Convert 0/255 masks to 0/1'):
        LoadFOV()(dict(fov_path=path))
    path = _write(tmp_path / 'rgb.png', np.zeros((H, W, 3), np.uint8))
    with pytest.raises(ValueError, match=r'rgb\.png.* has shape \(12, 10, 3'):
        LoadFOV()(dict(fov_path=path))
    path = _write(tmp_path / 'small.png', _fov()[:-1])
    with pytest.raises(ValueError, match=r'small\.png.* is 11x10 \(H x W\) '
                       r"but image 'i\.png' is 12x10"):
        LoadFOV()(dict(fov_path=path, img_path='i.png', ori_shape=(H, W)))
