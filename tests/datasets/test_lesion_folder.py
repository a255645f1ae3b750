import os.path as osp
import random

import cv2
import numpy as np
import pytest

import sgdc_mmseg  # noqa: F401  (fills the registries)
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS
from sgdc_mmseg.datasets import LesionFolderDataset


def _write_sample(root, split, name, img=True, mask=True, size=(6, 8),
                  img_suffix='.jpg'):
    h, w = size
    if img:
        image = np.full((h, w, 3), 200, np.uint8)
        image[h // 2:, :w // 2] = (90, 60, 40)
        cv2.imwrite(osp.join(root, split, 'images', name + img_suffix),
                    image)
    if mask:
        m = np.zeros((h, w), np.uint8)
        m[h // 2:, :w // 2] = 1
        cv2.imwrite(osp.join(root, split, 'masks', name + '.png'), m)


def _make_root(tmp_path, names, split='train', **kwargs):
    root = tmp_path / 'data'
    (root / split / 'images').mkdir(parents=True, exist_ok=True)
    (root / split / 'masks').mkdir(parents=True, exist_ok=True)
    for name in names:
        _write_sample(str(root), split, name, **kwargs)
    return root


def _build(root, split='train', **kwargs):
    cfg = dict(
        type='LesionFolderDataset',
        data_root=str(root),
        data_prefix=dict(
            img_path=f'{split}/images', seg_map_path=f'{split}/masks'))
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_pairs_by_name_in_sorted_order(tmp_path):
    names = [f'case_{i:02d}' for i in range(7)]
    shuffled = names[:]
    random.Random(3).shuffle(shuffled)
    root = tmp_path / 'data'
    for sub in ('images', 'masks'):
        (root / 'train' / sub).mkdir(parents=True)
    # images and masks created in two different random orders
    for n in shuffled:
        _write_sample(str(root), 'train', n, mask=False)
    for n in reversed(shuffled):
        _write_sample(str(root), 'train', n, img=False)

    ds = _build(root)
    assert isinstance(ds, LesionFolderDataset)
    assert len(ds) == len(names)
    for i, name in enumerate(names):
        info = ds.get_data_info(i)
        assert osp.basename(info['img_path']) == name + '.jpg'
        assert osp.basename(info['seg_map_path']) == name + '.png'
        assert osp.dirname(info['img_path']) == str(root / 'train/images')
        assert osp.dirname(info['seg_map_path']) == str(root / 'train/masks')
        assert info['reduce_zero_label'] is False


def test_metainfo():
    meta = LesionFolderDataset.METAINFO
    assert meta['classes'] == ('background', 'lesion')
    assert [list(c) for c in meta['palette']] == [[0, 0, 0], [255, 0, 0]]


def test_metainfo_on_instance(tmp_path):
    ds = _build(_make_root(tmp_path, ['a']))
    assert ds.metainfo['classes'] == ('background', 'lesion')
    assert [list(c) for c in ds.metainfo['palette']] == [[0, 0, 0],
                                                          [255, 0, 0]]
    assert ds.metainfo['reduce_zero_label'] is False


def test_ann_file_selects_split(tmp_path):
    root = _make_root(tmp_path, ['a', 'b', 'c', 'd'])
    (root / 'subset.txt').write_text('d\nb\n\n')
    ds = _build(root, ann_file='subset.txt')
    assert [osp.basename(ds.get_data_info(i)['img_path'])
            for i in range(len(ds))] == ['d.jpg', 'b.jpg']
    assert osp.basename(ds.get_data_info(0)['seg_map_path']) == 'd.png'


def test_ann_file_missing_partner_raises(tmp_path):
    root = _make_root(tmp_path, ['a', 'b'])
    _write_sample(str(root), 'train', 'c', mask=False)
    (root / 'subset.txt').write_text('a\nc\nzz\n')
    with pytest.raises(ValueError) as err:
        _build(root, ann_file='subset.txt')
    msg = str(err.value)
    assert "without an image" in msg and 'zz' in msg
    assert "without a mask" in msg and 'c' in msg


def test_image_without_mask_raises(tmp_path):
    root = _make_root(tmp_path, ['a', 'b'])
    for i in range(13):
        _write_sample(str(root), 'train', f'lonely_{i:02d}', mask=False)
    with pytest.raises(ValueError) as err:
        _build(root)
    msg = str(err.value)
    assert '13 image(s)' in msg
    assert 'have no mask' in msg
    assert str(root / 'train/images') in msg
    assert str(root / 'train/masks') in msg
    assert 'lonely_00' in msg and 'lonely_09' in msg
    assert 'lonely_12' not in msg  # only the first ten are listed ...
    assert '3 more' in msg  # ... with a count of the rest


def test_mask_without_image_raises(tmp_path):
    root = _make_root(tmp_path, ['a', 'b'])
    _write_sample(str(root), 'train', 'orphan', img=False)
    with pytest.raises(ValueError, match=r"1 mask\(s\).*no image.*orphan"):
        _build(root)


def test_both_directions_reported(tmp_path):
    root = _make_root(tmp_path, ['a'])
    _write_sample(str(root), 'train', 'only_img', mask=False)
    _write_sample(str(root), 'train', 'only_mask', img=False)
    with pytest.raises(ValueError) as err:
        _build(root)
    assert 'only_img' in str(err.value) and 'only_mask' in str(err.value)


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        _build(tmp_path / 'nowhere')
    root = _make_root(tmp_path, [])
    with pytest.raises(ValueError, match='no samples'):
        _build(root)


def test_custom_suffix(tmp_path):
    root = _make_root(tmp_path, ['x', 'y'], img_suffix='.png')
    ds = _build(root, img_suffix='.png')
    assert len(ds) == 2


def test_pipeline_loads_binary_mask(tmp_path):
    root = _make_root(tmp_path, ['a', 'b'], size=(6, 8))
    # Resolve transform names in mmseg's scope, as a runner does.
    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = _build(
            root,
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations'),
            ])
        sample = ds[0]
    assert sample['img'].shape == (6, 8, 3)
    seg = sample['gt_seg_map']
    assert seg.shape == (6, 8)
    assert set(np.unique(seg).tolist()) == {0, 1}
    assert seg[5, 0] == 1 and seg[0, 7] == 0


PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]


def test_mask_with_unexpected_values_names_the_file(tmp_path):
    root = _make_root(tmp_path, ['a', 'b'])
    bad = np.zeros((6, 8), np.uint8)
    bad[3:, :4] = 255  # an unconverted 0/255 mask
    bad_path = osp.join(str(root), 'train', 'masks', 'b.png')
    cv2.imwrite(bad_path, bad)
    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = _build(root, pipeline=PIPELINE)
        packed = ds[0]  # a.png is 0/1 and passes
        assert set(packed['data_samples'].gt_sem_seg.data.unique().tolist()) \
            == {0, 1}
        with pytest.raises(ValueError, match='holds value') as info:
            ds.prepare_data(1)
        assert bad_path in str(info.value) and '255' in str(info.value)
        # the check can be switched off
        ds = _build(root, pipeline=PIPELINE, check_mask_values=False)
        assert ds.prepare_data(1)['data_samples'].gt_sem_seg.data.max() == 255


def test_default_data_prefix_is_images_and_masks(tmp_path):
    root = tmp_path / 'flat'
    for sub in ('images', 'masks'):
        (root / sub).mkdir(parents=True)
    _write_sample(str(tmp_path), 'flat', 'z')
    ds = DATASETS.build(dict(type='LesionFolderDataset', data_root=str(root)))
    assert ds.get_data_info(0)['img_path'] == str(root / 'images' / 'z.jpg')
    assert ds.get_data_info(0)['seg_map_path'] == str(root / 'masks' /
                                                      'z.png')


SHARED_ISIC2017 = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), '..',
    'shared', 'data', 'isic2017-256x192')


@pytest.mark.skipif(
    not osp.isdir(SHARED_ISIC2017),
    reason=f'real ISIC 2017 data not present at {SHARED_ISIC2017}')
def test_real_isic2017_folder_through_its_base_config():
    """The generic layout on real data: the val split of
    ../shared/data/isic2017-256x192 through configs/_base_/datasets."""
    from mmengine.config import Config
    from helpers import REPO_ROOT
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/_base_/datasets/isic2017_256x192.py'))
    cfg.val_dataloader.dataset.data_root = SHARED_ISIC2017
    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = DATASETS.build(cfg.val_dataloader.dataset)
        assert len(ds) == 150
        assert osp.basename(ds.get_data_info(0)['img_path']) == 'val_0001.jpg'
        for i in (0, 149):
            out = ds[i]
            assert tuple(out['inputs'].shape) == (3, 192, 256)
            gt = out['data_samples'].gt_sem_seg.data
            assert tuple(gt.shape) == (1, 192, 256)
            assert set(gt.unique().tolist()) <= {0, 1}
