"""PackSegInputsWithInstances: packs ``gt_instances_map`` as the data
sample's ``instances`` (PixelData, (1, H, W) int32) and ``inst_path`` as
metainfo; the Evaluator's ``to_dict()`` gives the metric
``sample['instances']['data']``."""
import numpy as np
import torch
from mmseg.registry import TRANSFORMS

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.datasets.transforms import (INSTANCES_SAMPLE_KEY,
                                            PackSegInputsWithInstances)


def _results(with_instances=True):
    inst = np.zeros((4, 5), np.int32)
    inst[1:3, 1:3] = 70000  # beyond uint16 after a user's relabelling
    res = dict(img=np.zeros((4, 5, 3), np.uint8),
               gt_seg_map=(inst > 0).astype(np.uint8),
               img_path='i.png', seg_map_path='m.png', ori_shape=(4, 5),
               img_shape=(4, 5))
    if with_instances:
        res.update(gt_instances_map=inst, inst_path='inst/i.png')
    return res


def test_packs_instances_and_inst_path():
    pack = TRANSFORMS.build(dict(type='PackSegInputsWithInstances'))
    assert isinstance(pack, PackSegInputsWithInstances)
    sample = pack(_results())['data_samples']
    assert INSTANCES_SAMPLE_KEY == 'instances'
    data = sample.instances.data
    assert data.dtype == torch.int32 and tuple(data.shape) == (1, 4, 5)
    assert int(data.max()) == 70000 and int(data[0, 0, 0]) == 0
    assert sample.inst_path == 'inst/i.png'
    as_dict = sample.to_dict()  # what mmengine's Evaluator hands a metric
    np.testing.assert_array_equal(as_dict['instances']['data'][0].numpy(),
                                  _results()['gt_instances_map'])
    assert tuple(sample.gt_sem_seg.data.shape) == (1, 4, 5)


def test_without_instances_it_packs_like_mmseg():
    sample = PackSegInputsWithInstances()(_results(False))['data_samples']
    assert 'instances' not in sample and 'inst_path' not in sample
    assert tuple(sample.gt_sem_seg.data.shape) == (1, 4, 5)


def test_segttamodel_keeps_the_field():
    """mmseg 1.2.2's SegTTAModel returns the last view's data sample with
    the merged prediction, so ``instances`` (and ``inst_path``) survive
    ``tools/test.py --tta``."""
    from mmseg.models.segmentors.seg_tta import SegTTAModel

    class _Module:
        out_channels = 2

    tta = SegTTAModel.__new__(SegTTAModel)
    torch.nn.Module.__init__(tta)
    tta.module = _Module()
    pack = PackSegInputsWithInstances()
    views = []
    for flip in (False, True):
        sample = pack(dict(_results(), flip=flip))['data_samples']
        sample.set_data(dict(seg_logits=sample.gt_sem_seg.new(
            data=torch.randn(2, 4, 5))))
        views.append(sample)
    merged = tta.merge_preds([views])[0]
    assert int(merged.instances.data.max()) == 70000
    assert merged.inst_path == 'inst/i.png'
    assert tuple(merged.pred_sem_seg.data.shape[-2:]) == (4, 5)
