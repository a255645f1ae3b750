"""PH2Dataset on a tiny fake converted folder (PNG images from the BMPs,
masks, splits/all.txt and optional folds)."""
import os.path as osp

import cv2
import numpy as np

import sgdc_mmseg  # noqa: F401  (fills the registries)
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS
from sgdc_mmseg.datasets import PH2Dataset

H, W = 16, 20
NAMES = ['IMD002', 'IMD003', 'IMD009', 'IMD058']


def _converted(root):
    """Fake output of tools/dataset_converters/ph2.py --folds 2."""
    for sub in ('images', 'masks', 'splits'):
        (root / sub).mkdir(parents=True)
    for i, n in enumerate(NAMES):
        mask = np.zeros((H, W), np.uint8)
        mask[4:8 + i, 5:10] = 1
        cv2.imwrite(str(root / 'images' / (n + '.png')),
                    np.full((H, W, 3), 40 * i, np.uint8))
        cv2.imwrite(str(root / 'masks' / (n + '.png')), mask)
    splits = {'all': NAMES, 'fold0_train': NAMES[2:],
              'fold0_val': NAMES[:2]}
    for split, names in splits.items():
        (root / 'splits' / f'{split}.txt').write_text('\n'.join(names) +
                                                      '\n')
    return root


def _build(root, **kwargs):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(
            dict(type='PH2Dataset', data_root=str(root), **kwargs))


def _names(ds):
    return [osp.basename(ds.get_data_info(i)['img_path'])[:-4]
            for i in range(len(ds))]


def test_metainfo():
    assert PH2Dataset.METAINFO == dict(
        classes=('background', 'lesion'), palette=[[0, 0, 0], [255, 0, 0]])


def test_all_and_fold_splits(tmp_path):
    root = _converted(tmp_path / 'ph2')
    ds = _build(root, ann_file='splits/all.txt')
    assert type(ds) is PH2Dataset
    assert _names(ds) == NAMES
    assert ds.metainfo['palette'] == [[0, 0, 0], [255, 0, 0]]
    assert _names(_build(root, ann_file='splits/fold0_val.txt')) == NAMES[:2]
    assert _names(_build(root, ann_file='splits/fold0_train.txt')) == \
        NAMES[2:]


def test_pipeline_pass(tmp_path):
    ds = _build(_converted(tmp_path / 'ph2'), ann_file='splits/all.txt',
                pipeline=[dict(type='LoadImageFromFile'),
                          dict(type='LoadAnnotations'),
                          dict(type='PackSegInputs')])
    with DefaultScope.overwrite_default_scope('mmseg'):
        for i in range(len(ds)):
            out = ds[i]
            assert tuple(out['inputs'].shape) == (3, H, W)
            assert int(out['inputs'][0, 0, 0]) == 40 * i
            gt = out['data_samples'].gt_sem_seg.data
            assert tuple(gt.shape) == (1, H, W)
            assert int(gt.sum()) == 5 * (4 + i)
