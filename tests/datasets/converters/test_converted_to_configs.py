"""The whole chain: fake official archives (zips) -> converter -> every
dataloader dataset of the dataset base configs (counts, names, mask values,
palette, one pipeline pass)."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import sgdc_mmseg  # noqa: F401
from mmseg.registry import DATASETS
from sgdc_mmseg.datasets.converters import conic, isic2016, isic2018, ph2
from sgdc_mmseg.datasets.splits import read_split_file

from helpers import REPO_ROOT
from .archives import make_conic, make_isic2016, make_isic2018, make_ph2

BASES = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')


def build_archive_and_convert(name, tmp_path):
    src, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    if name == 'isic2016':
        make_isic2016(src, mode='zip', train=3, test=2)
        isic2016.convert(src, out)
    elif name == 'isic2018':
        make_isic2018(src, mode='zip', counts=dict(train=5, val=2, test=2))
        isic2018.convert(src, out)
    elif name == 'ph2':
        make_ph2(src, mode='zip')
        ph2.convert(src, out)
    else:
        make_conic(src)
        conic.convert(src, out)
    return out


@pytest.mark.parametrize('name', ['isic2016', 'isic2018', 'ph2', 'conic'])
def test_archive_to_base_config_datasets(tmp_path, name):
    out = build_archive_and_convert(name, tmp_path)
    cfg = Config.fromfile(osp.join(BASES, f'{name}.py'))
    num_classes = 7 if name == 'conic' else 2
    loaders = [k for k in ('train', 'val', 'test')
               if cfg.get(f'{k}_dataloader') is not None]
    with DefaultScope.overwrite_default_scope('mmseg'):
        for loader in loaders:
            ds_cfg = cfg[f'{loader}_dataloader'].dataset
            ds_cfg.data_root = out
            ds = DATASETS.build(ds_cfg)
            split = read_split_file(osp.join(out, ds_cfg.ann_file))
            assert len(ds) == len(split) > 0
            assert [osp.splitext(osp.basename(
                ds.get_data_info(i)['img_path']))[0]
                    for i in range(len(ds))] == list(split)
            assert len(ds.metainfo['palette']) == num_classes
            values = set()
            for i in range(len(ds)):
                sample = ds[i]
                gt = sample['data_samples'].gt_sem_seg.data.numpy()
                values |= set(np.unique(gt).tolist())
            assert values <= set(range(num_classes))
            assert max(values) >= 1, 'no foreground at all'
            assert tuple(sample['inputs'].shape) == (3, 256, 256)
