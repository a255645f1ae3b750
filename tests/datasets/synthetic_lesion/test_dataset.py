"""synthetic_lesion/dataset.py: SyntheticLesionDataset is registered under
its name and generates its data on first use."""
import os.path as osp

import sgdc_mmseg  # noqa: F401  (fills the registries)
from mmseg.registry import DATASETS
from sgdc_mmseg.datasets import SyntheticLesionDataset


def test_dataset_builds_and_generates(tmp_path):
    root = str(tmp_path / 'syn')
    common = dict(type='SyntheticLesionDataset', data_root=root,
                  num_train=4, num_val=2, size=(32, 32), seed=0,
                  progress=False)
    train = DATASETS.build(dict(
        common,
        data_prefix=dict(img_path='train/images',
                         seg_map_path='train/masks')))
    val = DATASETS.build(dict(
        common,
        data_prefix=dict(img_path='val/images', seg_map_path='val/masks')))
    assert isinstance(train, SyntheticLesionDataset)
    assert len(train) == 4 and len(val) == 2
    assert train.metainfo['classes'] == ('background', 'lesion')
    info = val.get_data_info(1)
    assert info['img_path'].endswith(osp.join('val', 'images',
                                              'val_00001.png'))
    assert info['seg_map_path'].endswith(osp.join('val', 'masks',
                                                  'val_00001.png'))
    assert osp.isfile(info['img_path']) and osp.isfile(info['seg_map_path'])
