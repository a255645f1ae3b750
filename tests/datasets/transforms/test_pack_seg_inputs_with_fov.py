"""PackSegInputsWithFOV: mmseg's PackSegInputs plus the data sample field
``fov`` (a (1, H, W) bool tensor) and the meta key ``fov_path``; what a
metric receives after mmengine's ``to_dict()``."""
import numpy as np

import sgdc_mmseg  # noqa: F401  (fills the registries)
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS
from sgdc_mmseg.datasets.transforms import (FOV_SAMPLE_KEY,
                                            PackSegInputsWithFOV)


def _results(with_fov=True):
    fov = np.zeros((4, 5), np.uint8)
    fov[1:3, 1:4] = 1
    results = dict(img=np.zeros((4, 5, 3), np.uint8),
                   gt_seg_map=np.full((4, 5), 255, np.uint8),
                   img_path='a.png', fov_path='fov/a.png', ori_shape=(4, 5),
                   img_shape=(4, 5))
    if with_fov:
        results['gt_fov'] = fov
    return results, fov


def test_packs_the_fov_and_its_path():
    assert TRANSFORMS.get('PackSegInputsWithFOV') is PackSegInputsWithFOV
    assert FOV_SAMPLE_KEY == 'fov'
    results, fov = _results()
    sample = PackSegInputsWithFOV()(results)['data_samples']
    data = sample.fov.data
    assert data.dtype.is_floating_point is False and str(data.dtype) == \
        'torch.bool'
    np.testing.assert_array_equal(data.numpy(), fov[None].astype(bool))
    assert sample.fov_path == 'fov/a.png'
    # the rest as mmseg packs it
    plain = PackSegInputs()(_results()[0])['data_samples']
    assert (sample.gt_sem_seg.data == plain.gt_sem_seg.data).all()
    assert 'fov' not in plain and 'fov_path' not in plain.metainfo
    # what a metric gets from mmengine's Evaluator
    as_dict = sample.to_dict()
    np.testing.assert_array_equal(as_dict['fov']['data'].numpy()[0],
                                  fov.astype(bool))
    assert as_dict['fov_path'] == 'fov/a.png'


def test_without_a_loaded_fov_only_the_path_is_packed():
    results, _ = _results(with_fov=False)
    sample = PackSegInputsWithFOV()(results)['data_samples']
    assert 'fov' not in sample
    assert sample.fov_path == 'fov/a.png'
