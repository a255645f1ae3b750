"""MoNuSegDataset (``inst_path`` where the instance map exists) and the
MoNuSeg base configs (configs/_base_/datasets/monuseg{,_cpu}.py): their
datasets, pipelines (instances packed as ``instances``), TTA and
evaluators, on a tiny converted folder."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import sgdc_mmseg  # noqa: F401
from mmseg.registry import DATASETS, METRICS
from sgdc_mmseg.datasets import MoNuSegDataset

from helpers import REPO_ROOT

H, W = 40, 48
BASES = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
NAMES = ['t0', 't1', 't2', 't3']
WITH_INSTANCES = ('t0', 't2')
SPLITS = {'train': ['t0', 't1', 't2'], 'test': ['t3', 't0'],
          'fold0_train': ['t1', 't2'], 'fold0_val': ['t0', 't3']}


def _instances(i):
    inst = np.zeros((H, W), np.uint16)
    inst[2:9, 3:10] = 1
    inst[8:14, 10:17] = 2  # touching the first
    inst[20 + i:30, 30:40] = 3
    return inst


def _converted(root, instances=WITH_INSTANCES):
    """What the converter writes: images, 0/1 masks, uint16 instances for
    ``instances``, split files."""
    for sub in ('images', 'masks', 'instances', 'splits'):
        (root / sub).mkdir(parents=True)
    for i, n in enumerate(NAMES):
        img = np.random.default_rng(i).integers(0, 256, (H, W, 3), np.uint8)
        inst = _instances(i)
        cv2.imwrite(str(root / 'images' / f'{n}.png'), img)
        cv2.imwrite(str(root / 'masks' / f'{n}.png'),
                    (inst > 0).astype(np.uint8))
        if n in instances:
            cv2.imwrite(str(root / 'instances' / f'{n}.png'), inst)
    for split, names in SPLITS.items():
        (root / 'splits' / f'{split}.txt').write_text('\n'.join(names))
    return root


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def test_inst_path_only_where_the_instance_map_exists(tmp_path):
    root = _converted(tmp_path / 'd')
    ds = MoNuSegDataset(data_root=str(root), pipeline=[])
    assert ds.metainfo['classes'] == ('background', 'nucleus')
    assert len(ds.metainfo['palette']) == 2
    infos = {osp.basename(ds.get_data_info(i)['img_path'])[:-4]:
             ds.get_data_info(i) for i in range(len(ds))}
    assert sorted(infos) == NAMES
    for n, info in infos.items():
        if n in WITH_INSTANCES:
            assert info['inst_path'] == osp.join(str(root), 'instances',
                                                 f'{n}.png')
        else:
            assert 'inst_path' not in info
    assert ds.num_with_instances == 2


def test_no_instances_folder_or_prefix_means_no_inst_path(tmp_path):
    root = _converted(tmp_path / 'd', instances=())
    (root / 'instances').rmdir()
    ds = MoNuSegDataset(data_root=str(root), pipeline=[])
    assert ds.num_with_instances == 0 and len(ds) == 4
    root2 = _converted(tmp_path / 'e')
    ds = MoNuSegDataset(data_root=str(root2), pipeline=[],
                        data_prefix=dict(img_path='images',
                                         seg_map_path='masks'))
    assert ds.num_with_instances == 0
    assert all('inst_path' not in ds.get_data_info(i) for i in range(4))


def test_instance_maps_without_an_image_are_not_listed(tmp_path):
    root = _converted(tmp_path / 'd')
    (root / 'instances' / 'sub').mkdir()
    cv2.imwrite(str(root / 'instances' / 'sub' / 'x.png'), _instances(0))
    cv2.imwrite(str(root / 'instances' / 'zz.png'), _instances(0))
    ds = MoNuSegDataset(data_root=str(root), pipeline=[])
    assert ds.num_with_instances == 2 and len(ds) == 4


@pytest.mark.parametrize('base, splits, size', [
    ('monuseg', dict(train='train', val='test', test='test'), None),
    ('monuseg_cpu', dict(train='fold0_train', val='fold0_val',
                         test='fold0_val'), (512, 512)),
])
def test_base_configs_on_a_converted_folder(tmp_path, base, splits, size):
    root = _converted(tmp_path / base)
    cfg = Config.fromfile(osp.join(BASES, f'{base}.py'))
    assert cfg.dataset_type == 'MoNuSegDataset'
    assert cfg.data_root == 'data/monuseg'
    for loader, split in splits.items():
        ds_cfg = cfg[f'{loader}_dataloader'].dataset
        assert ds_cfg.ann_file == f'splits/{split}.txt'
        ds_cfg.data_root = str(root)
        if loader == 'train':  # crops larger than the tiny tiles: smaller
            ds_cfg.pipeline = [
                dict(t, crop_size=(16, 16)) if t['type'] == 'RandomCrop'
                else dict(t, scale=(64, 64)) if t['type'] == 'Resize' else t
                for t in ds_cfg.pipeline]
        ds = _build(ds_cfg)
        assert [osp.basename(ds.get_data_info(i)['img_path'])[:-4]
                for i in range(len(ds))] == SPLITS[split]
        out = ds[0]
        sample = out['data_samples']
        first = SPLITS[split][0]
        if loader == 'train':
            assert tuple(out['inputs'].shape) == (3, 16, 16)
            assert 'instances' not in sample  # not loaded for training
            continue
        # the original resolution: metrics on the converted masks
        assert tuple(out['inputs'].shape[1:]) == (size[::-1] if size else
                                                  (H, W))
        assert sample.ori_shape == (H, W)
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      _instances(int(first[1])) > 0)
        if first in WITH_INSTANCES:
            np.testing.assert_array_equal(
                sample.instances.data[0].numpy(), _instances(int(first[1])))
        else:
            assert 'instances' not in sample
    assert [e['type'] for e in cfg.test_evaluator] == ['IoUMetric',
                                                       'NucleiMetric']
    assert [type(METRICS.build(e)).__name__ for e in cfg.val_evaluator] == [
        'IoUMetric', 'NucleiMetric']


@pytest.mark.parametrize('base', ['monuseg', 'monuseg_cpu'])
def test_tta_pipeline_keeps_the_stored_instances(tmp_path, base):
    root = _converted(tmp_path / base)
    cfg = Config.fromfile(osp.join(BASES, f'{base}.py'))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.update(data_root=str(root), pipeline=cfg.tta_pipeline,
                  ann_file='splits/train.txt')
    out = _build(ds_cfg)[0]  # t0: has instances
    assert len(out['inputs']) == 3
    assert [s.flip for s in out['data_samples']] == [False, True, True]
    for s in out['data_samples']:  # loaded after the flips: as stored
        np.testing.assert_array_equal(s.instances.data[0].numpy(),
                                      _instances(0))
        assert s.ori_shape == (H, W)
