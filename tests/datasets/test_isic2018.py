"""ISIC2018Dataset on a tiny fake converted folder (images/, masks/,
splits/{train,val,test}.txt and k-fold files)."""
import os.path as osp

import cv2
import numpy as np
import pytest

import sgdc_mmseg  # noqa: F401  (fills the registries)
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS
from sgdc_mmseg.datasets import ISIC2018Dataset

H, W = 16, 20
SPLITS = {'train': ['ISIC_0000000', 'ISIC_0000002', 'ISIC_0000003'],
          'val': ['ISIC_0000005'],
          'test': ['ISIC_0000001', 'ISIC_0000004'],
          # a 3-fold split over the training set
          'fold0_train': ['ISIC_0000000', 'ISIC_0000002'],
          'fold0_val': ['ISIC_0000003'],
          'fold2_train': ['ISIC_0000002', 'ISIC_0000003'],
          'fold2_val': ['ISIC_0000000']}


def _converted(root, jpg=('ISIC_0000000', 'ISIC_0000004')):
    """Fake output of tools/dataset_converters/isic2018.py: a lesion block
    whose size depends on the sample index."""
    for sub in ('images', 'masks', 'splits'):
        (root / sub).mkdir(parents=True)
    for split, names in SPLITS.items():
        (root / 'splits' / f'{split}.txt').write_text(
            ''.join(n + '\n' for n in sorted(names)))
        for n in names:
            if (root / 'masks' / (n + '.png')).exists():
                continue
            i = int(n[-1])
            img = np.full((H, W, 3), 60 * i % 256, np.uint8)
            mask = np.zeros((H, W), np.uint8)
            mask[:i + 1, :2] = 1
            cv2.imwrite(str(root / 'images' /
                            (n + ('.jpg' if n in jpg else '.png'))), img)
            cv2.imwrite(str(root / 'masks' / (n + '.png')), mask)
    (root / 'conversion.json').write_text('{}')
    return root


def _build(root, **kwargs):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(
            dict(type='ISIC2018Dataset', data_root=str(root), **kwargs))


def test_metainfo():
    assert ISIC2018Dataset.METAINFO == dict(
        classes=('background', 'lesion'), palette=[[0, 0, 0], [255, 0, 0]])


@pytest.mark.parametrize('split', sorted(SPLITS))
def test_official_splits(tmp_path, split):
    root = _converted(tmp_path / 'isic2018')
    ds = _build(root, ann_file=f'splits/{split}.txt')
    assert type(ds) is ISIC2018Dataset
    assert len(ds) == len(SPLITS[split])
    names = [osp.splitext(osp.basename(ds.get_data_info(i)['seg_map_path']))
             [0] for i in range(len(ds))]
    assert names == sorted(SPLITS[split])
    assert ds.metainfo['classes'] == ('background', 'lesion')
    assert ds.metainfo['palette'] == [[0, 0, 0], [255, 0, 0]]


def test_whole_folder_mixes_jpg_and_png(tmp_path):
    ds = _build(_converted(tmp_path / 'isic2018'))
    assert [osp.basename(ds.get_data_info(i)['img_path'])
            for i in range(len(ds))] == [
                'ISIC_0000000.jpg', 'ISIC_0000001.png', 'ISIC_0000002.png',
                'ISIC_0000003.png', 'ISIC_0000004.jpg', 'ISIC_0000005.png']


def test_pipeline_pass(tmp_path):
    root = _converted(tmp_path / 'isic2018')
    ds = _build(root, ann_file='splits/test.txt', pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(24, 24), keep_ratio=False),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')])
    with DefaultScope.overwrite_default_scope('mmseg'):
        out = ds[1]  # ISIC_0000004.jpg
    assert tuple(out['inputs'].shape) == (3, 24, 24)
    gt = out['data_samples'].gt_sem_seg.data
    assert tuple(gt.shape) == (1, H, W)
    assert int(gt.sum()) == 5 * 2 and gt.unique().tolist() == [0, 1]
