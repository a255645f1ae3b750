"""DRIVEVesselDataset on a folder written by the DRIVE converter (from a
tiny fake download), and the dataset base configs drive.py / drive_cpu.py:
names, splits, fov_path, masks with 255 outside the field of view, the
field of view packed as the data sample's ``fov``."""
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import sgdc_mmseg  # noqa: F401  (fills the registries)
from helpers import REPO_ROOT
from mmseg.registry import DATASETS
from sgdc_mmseg.datasets import DRIVEVesselDataset
from sgdc_mmseg.datasets.converters import drive

sys.path.insert(0, osp.join(REPO_ROOT, 'tests', 'datasets'))
from converters.drive_archives import SIZE, make_drive  # noqa: E402

BASES = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
W, H = SIZE


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """The converter's output of a fake DRIVE (5 training, 2 test images,
    2 folds)."""
    root = tmp_path_factory.mktemp('drive')
    make_drive(str(root / 'src'), 'DRIVE.zip')
    drive.convert(str(root / 'src'), str(root / 'out'), folds=2)
    return str(root / 'out')


def _build(**kwargs):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(dict(type='DRIVEVesselDataset', **kwargs))


def _names(ds):
    return [osp.basename(ds.get_data_info(i)['img_path'])[:-4]
            for i in range(len(ds))]


def _read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def test_metainfo_and_a_name_distinct_from_mmseg():
    assert DRIVEVesselDataset.METAINFO['classes'] == ('background', 'vessel')
    assert DATASETS.get('DRIVEVesselDataset') is DRIVEVesselDataset
    assert DATASETS.get('DRIVEDataset') is not DRIVEVesselDataset


def test_splits_and_fov_paths(converted):
    ds = _build(data_root=converted, ann_file='splits/test.txt')
    assert _names(ds) == ['01_test', '02_test']
    info = ds.get_data_info(1)
    assert info['fov_path'] == osp.join(converted, 'fov', '02_test.png')
    assert info['seg_map_path'] == osp.join(converted, 'masks', '02_test.png')
    assert len(_build(data_root=converted,
                      ann_file='splits/train.txt')) == 5
    no_fov = _build(data_root=converted, ann_file='splits/test.txt',
                    data_prefix=dict(img_path='images',
                                     seg_map_path='masks'))
    assert 'fov_path' not in no_fov.get_data_info(0)
    second = _build(data_root=converted, ann_file='splits/test.txt',
                    data_prefix=dict(img_path='images',
                                     seg_map_path='masks_2nd',
                                     fov_path='fov'))
    assert second.get_data_info(0)['seg_map_path'].endswith(
        osp.join('masks_2nd', '01_test.png'))


def test_missing_fov_is_listed(converted, tmp_path):
    import shutil
    root = str(tmp_path / 'copy')
    shutil.copytree(converted, root)
    os.remove(osp.join(root, 'fov', '22_training.png'))
    with pytest.raises(ValueError, match=r"1 sample\(s\) have no "
                       r"field-of-view mask \(\*\.png\) in '.*fov': "
                       '22_training'):
        _build(data_root=root)
    shutil.rmtree(osp.join(root, 'fov'))
    with pytest.raises(FileNotFoundError, match='field-of-view folder'):
        _build(data_root=root)


def test_masks_may_hold_255_but_nothing_else(converted, tmp_path):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='PackSegInputs')]
    ds = _build(data_root=converted, ann_file='splits/test.txt',
                pipeline=pipeline)
    gt = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    assert set(np.unique(gt)) == {0, 1, 255}
    import shutil
    root = str(tmp_path / 'copy')
    shutil.copytree(converted, root)
    bad = _read(osp.join(root, 'masks', '01_test.png'))
    bad[5, 5] = 2
    cv2.imwrite(osp.join(root, 'masks', '01_test.png'), bad)
    ds = _build(data_root=root, ann_file='splits/test.txt',
                pipeline=pipeline)
    with pytest.raises(ValueError, match=r"01_test\.png' holds value\(s\) "
                       r'2; expected only \[0, 1, 255\]'):
        ds[0]


# ---------------------------------------------------------------------------
# the base configs
# ---------------------------------------------------------------------------
def _cfg(name):
    return Config.fromfile(osp.join(BASES, f'{name}.py'))


@pytest.mark.parametrize('base,splits', [
    ('drive', dict(train='train', val='test', test='test')),
    ('drive_cpu', dict(train='fold0_train', val='fold0_val',
                       test='fold0_val')),
])
def test_base_config_contents(base, splits):
    cfg = _cfg(base)
    assert [t['type'] for t in cfg.train_pipeline] == [
        'LoadImageFromFile', 'LoadAnnotations', 'RandomResize', 'RandomCrop',
        'RandomFlip', 'PhotoMetricDistortion', 'PackSegInputs']
    assert cfg.train_pipeline[3].crop_size == (64, 64)
    assert cfg.train_pipeline[2].ratio_range == (0.5, 2.0)
    assert [t['type'] for t in cfg.test_pipeline] == [
        'LoadImageFromFile', 'Resize', 'LoadAnnotations', 'LoadFOV',
        'PackSegInputsWithFOV']
    assert cfg.train_dataloader.batch_size == 16
    for loader, split in splits.items():
        ds = cfg[f'{loader}_dataloader'].dataset
        assert ds.type == 'DRIVEVesselDataset'
        assert ds.data_root == 'data/drive'
        assert ds.ann_file == f'splits/{split}.txt'
        assert ds.data_prefix == dict(img_path='images', seg_map_path='masks',
                                      fov_path='fov')
    assert [e['type'] for e in cfg.val_evaluator] == [
        'IoUMetric', 'MedicalMetric', 'VesselMetric']


@pytest.mark.parametrize('base', ['drive', 'drive_cpu'])
def test_base_config_datasets_on_a_converted_folder(converted, base):
    cfg = _cfg(base)
    if base == 'drive_cpu':
        with open(osp.join(converted, 'splits', 'fold0_val.txt')) as f:
            test_names = f.read().split()
    else:
        test_names = ['01_test', '02_test']
    with DefaultScope.overwrite_default_scope('mmseg'):
        train = cfg.train_dataloader.dataset
        train.data_root = converted
        sample = DATASETS.build(train)[0]
        assert tuple(sample['inputs'].shape) == (3, 64, 64)
        assert sample['data_samples'].gt_sem_seg.data.shape[1:] == (64, 64)
        test = cfg.test_dataloader.dataset
        test.data_root = converted
        ds = DATASETS.build(test)
        assert _names(ds) == test_names
        out = ds[0]['data_samples']
        name = test_names[0]
        assert out.ori_shape == (H, W)
        np.testing.assert_array_equal(
            out.gt_sem_seg.data[0].numpy(),
            _read(osp.join(converted, 'masks', name + '.png')))
        np.testing.assert_array_equal(
            out.fov.data[0].numpy(),
            _read(osp.join(converted, 'fov', name + '.png')).astype(bool))
        assert out.fov_path == osp.join(converted, 'fov', name + '.png')
        tta = dict(test, pipeline=cfg.tta_pipeline)
        views = DATASETS.build(tta)[0]['data_samples']
        assert len(views) == (12 if base == 'drive' else 2)
        assert all(v.fov_path == out.fov_path for v in views)
        # every view (the last one is what SegTTAModel keeps) carries the
        # unflipped FOV, as the ground truth
        for view in views:
            np.testing.assert_array_equal(view.fov.data[0].numpy(),
                                          out.fov.data[0].numpy())
