"""CoNICDataset on a tiny fake converted folder (class-id masks 0..6,
uint16 instance maps that the dataset does not read, grouped folds)."""
import os.path as osp

import cv2
import numpy as np
import pytest

import sgdc_mmseg  # noqa: F401  (fills the registries)
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS
from sgdc_mmseg.datasets import CoNICDataset

H, W = 16, 20
CLASSES = ('background', 'neutrophil', 'epithelial', 'lymphocyte', 'plasma',
           'eosinophil', 'connective')
# two source images, all patches of one source image in the same fold
FOLDS = {'fold0_train': ['consep_1-0000', 'consep_1-0001'],
         'fold0_val': ['crag_2-0000']}
NAMES = sorted(FOLDS['fold0_train'] + FOLDS['fold0_val'])


def _mask(shift):
    """All seven class ids, one column block each (rolled by ``shift``)."""
    mask = np.zeros((H, W), np.uint8)
    for c in range(7):
        mask[:, c * 2:c * 2 + 2] = c
    return np.roll(mask, shift, axis=1)


def _converted(root):
    """Fake output of tools/dataset_converters/conic.py."""
    for sub in ('images', 'masks', 'instances', 'splits'):
        (root / sub).mkdir(parents=True)
    for i, n in enumerate(NAMES):
        cv2.imwrite(str(root / 'images' / (n + '.png')),
                    np.full((H, W, 3), 30 * i, np.uint8))
        cv2.imwrite(str(root / 'masks' / (n + '.png')), _mask(i))
        inst = (np.arange(H * W).reshape(H, W) % 700).astype(np.uint16)
        cv2.imwrite(str(root / 'instances' / (n + '.png')), inst)
    for split, names in dict(FOLDS, all=NAMES).items():
        (root / 'splits' / f'{split}.txt').write_text('\n'.join(names) +
                                                      '\n')
    return root


def _build(root, **kwargs):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(
            dict(type='CoNICDataset', data_root=str(root), **kwargs))


def test_metainfo():
    meta = CoNICDataset.METAINFO
    assert meta['classes'] == CLASSES
    assert len(meta['palette']) == 7
    assert len({tuple(c) for c in meta['palette']}) == 7  # all distinct
    assert meta['palette'][0] == [0, 0, 0]


@pytest.mark.parametrize('split', ['all', 'fold0_train', 'fold0_val'])
def test_splits(tmp_path, split):
    ds = _build(_converted(tmp_path / 'conic'), ann_file=f'splits/{split}.txt')
    assert type(ds) is CoNICDataset
    assert [osp.basename(ds.get_data_info(i)['seg_map_path'])
            for i in range(len(ds))] == [
                n + '.png' for n in dict(FOLDS, all=NAMES)[split]]
    assert ds.metainfo['classes'] == CLASSES


def test_all_class_ids_load_and_instances_are_not_read(tmp_path):
    ds = _build(_converted(tmp_path / 'conic'), pipeline=[
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')])
    with DefaultScope.overwrite_default_scope('mmseg'):
        for i in range(len(ds)):
            out = ds[i]
            assert tuple(out['inputs'].shape) == (3, H, W)
            gt = out['data_samples'].gt_sem_seg.data[0].numpy()
            np.testing.assert_array_equal(gt, _mask(i))
    assert all('instances' not in v for v in ds.get_data_info(0).values()
               if isinstance(v, str))


def test_class_id_7_raises_naming_the_mask(tmp_path):
    root = _converted(tmp_path / 'conic')
    bad = _mask(0)
    bad[0, 0] = 7
    cv2.imwrite(str(root / 'masks' / 'crag_2-0000.png'), bad)
    ds = _build(root, ann_file='splits/fold0_val.txt',
                pipeline=[dict(type='LoadImageFromFile'),
                          dict(type='LoadAnnotations')])
    with DefaultScope.overwrite_default_scope('mmseg'), pytest.raises(
            ValueError, match=r"crag_2-0000\.png' holds value\(s\) 7; "
            r'expected only \[0, 1, 2, 3, 4, 5, 6\] \(0 = background, '
            '1 = neutrophil'):
        ds[0]
