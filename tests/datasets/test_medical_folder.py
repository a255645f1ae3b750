"""MedicalFolderDataset: pairing by name, several image suffixes, split
files, and the errors (naming the files) for bad input. The bad-input
tests run through every dataset class built on it."""
import os.path as osp

import cv2
import numpy as np
import pytest

import sgdc_mmseg  # noqa: F401  (fills the registries)
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS
from sgdc_mmseg.datasets import MedicalFolderDataset

H, W = 16, 20
THREE = dict(classes=('bg', 'a', 'b'),
             palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0]])
# Every registered dataset built on MedicalFolderDataset, with what it
# needs to load a 0/1 mask.
DATASET_CFGS = {
    'MedicalFolderDataset': dict(type='MedicalFolderDataset',
                                 metainfo=THREE),
    'LesionFolderDataset': dict(type='LesionFolderDataset',
                                img_suffix=('.png', '.jpg')),
    'ISIC2016Dataset': dict(type='ISIC2016Dataset'),
    'ISIC2018Dataset': dict(type='ISIC2018Dataset'),
    'PH2Dataset': dict(type='PH2Dataset'),
    'CoNICDataset': dict(type='CoNICDataset'),
}
LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
PACK = LOAD + [dict(type='PackSegInputs')]


def _image(seed=0, size=(H, W)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (*size, 3), dtype=np.uint8)


def _mask(value=1, size=(H, W)):
    m = np.zeros(size, np.uint8)
    m[size[0] // 4:size[0] // 2, size[1] // 4:size[1] // 2] = value
    return m


def _write(root, name, img_suffix='.png', img=True, mask=True,
           mask_array=None, img_size=(H, W)):
    """One sample of the converted layout under ``root``."""
    for sub in ('images', 'masks'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if img:
        cv2.imwrite(str(root / 'images' / (name + img_suffix)),
                    _image(len(name), img_size))
    if mask:
        cv2.imwrite(str(root / 'masks' / (name + '.png')),
                    _mask() if mask_array is None else mask_array)


def _layout(tmp_path, names=('a', 'b', 'c'), jpg=('b', )):
    root = tmp_path / 'data'
    for n in names:
        _write(root, n, '.jpg' if n in jpg else '.png')
    return root


def _build(root, kind='MedicalFolderDataset', **kwargs):
    cfg = dict(DATASET_CFGS[kind], data_root=str(root))
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def _load(ds, idx):
    with DefaultScope.overwrite_default_scope('mmseg'):
        return ds[idx]


def _basenames(ds):
    return [osp.basename(ds.get_data_info(i)['img_path'])
            for i in range(len(ds))]


# --------------------------------------------------------------------- #
# listing and pairing
# --------------------------------------------------------------------- #
def test_default_layout_pairs_png_and_jpg_by_name(tmp_path):
    root = _layout(tmp_path, names=('c', 'a', 'b'), jpg=('b', ))
    ds = _build(root)
    assert isinstance(ds, MedicalFolderDataset)
    assert _basenames(ds) == ['a.png', 'b.jpg', 'c.png']
    for i, name in enumerate('abc'):
        info = ds.get_data_info(i)
        assert info['seg_map_path'] == str(root / 'masks' / f'{name}.png')
        assert osp.dirname(info['img_path']) == str(root / 'images')
    assert ds.metainfo['classes'] == THREE['classes']
    assert ds.metainfo['palette'] == THREE['palette']


def test_needs_class_names(tmp_path):
    root = _layout(tmp_path)
    with pytest.raises(ValueError, match='no class names'):
        DATASETS.build(dict(type='MedicalFolderDataset', data_root=str(root)))


def test_single_suffix_ignores_other_images(tmp_path):
    root = _layout(tmp_path, names=('a', 'b'), jpg=('b', ))
    # only b.jpg is an image; a.png's mask then has no image
    with pytest.raises(ValueError, match=r"1 mask\(s\).*no image.*: a$"):
        _build(root, img_suffix='.jpg')
    (root / 'masks' / 'a.png').unlink()
    assert _basenames(_build(root, img_suffix='.jpg')) == ['b.jpg']


def test_bad_suffix_argument(tmp_path):
    with pytest.raises(ValueError, match='img_suffix must be'):
        _build(_layout(tmp_path), img_suffix=())


def test_two_images_for_one_name_raise_naming_both(tmp_path):
    root = _layout(tmp_path, names=('a', 'b'), jpg=())
    _write(root, 'b', '.jpg', mask=False)
    with pytest.raises(ValueError, match='more than one image') as err:
        _build(root)
    msg = str(err.value)
    assert str(root / 'images' / 'b.jpg') in msg
    assert str(root / 'images' / 'b.png') in msg
    assert 'a.png' not in msg


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
def test_image_without_mask_raises(tmp_path, kind):
    root = _layout(tmp_path)
    _write(root, 'lonely', mask=False)
    with pytest.raises(ValueError,
                       match=r"1 image\(s\) .* have no mask .*: lonely"):
        _build(root, kind)


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
def test_extra_mask_raises(tmp_path, kind):
    root = _layout(tmp_path)
    _write(root, 'orphan', img=False)
    with pytest.raises(ValueError,
                       match=r"1 mask\(s\) .* have no image .*: orphan"):
        _build(root, kind)


def test_missing_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match='image folder .* does not'):
        _build(tmp_path / 'nowhere')
    root = _layout(tmp_path)
    with pytest.raises(FileNotFoundError, match="mask folder '.*/labels' does"):
        _build(root, data_prefix=dict(img_path='images',
                                      seg_map_path='labels'))


def test_images_only_when_no_mask_folder_is_given(tmp_path):
    root = tmp_path / 'data'
    _write(root, 'x', mask=False)
    ds = _build(root, data_prefix=dict(img_path='images', seg_map_path=''))
    assert len(ds) == 1 and 'seg_map_path' not in ds.get_data_info(0)


# --------------------------------------------------------------------- #
# split files
# --------------------------------------------------------------------- #
def test_split_file_selects_and_orders(tmp_path):
    root = _layout(tmp_path, names=('a', 'b', 'c', 'd'), jpg=('d', ))
    (root / 'splits').mkdir()
    (root / 'splits' / 'val.txt').write_text('d\n\nb.png\n')
    ds = _build(root, ann_file='splits/val.txt')
    assert _basenames(ds) == ['d.jpg', 'b.png']


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
def test_split_naming_missing_samples_raises(tmp_path, kind):
    root = _layout(tmp_path, names=('a', 'b'))
    _write(root, 'nomask', mask=False)
    (root / 'splits').mkdir()
    split = root / 'splits' / 'test.txt'
    split.write_text('a\nghost\n')
    # the unlisted nomask.png image is not used, hence no error for it
    with pytest.raises(ValueError) as err:
        _build(root, kind, ann_file='splits/test.txt')
    msg = str(err.value)
    assert str(split) in msg and 'without an image' in msg
    assert msg.endswith(': ghost') and 'nomask' not in msg
    split.write_text('a\nnomask\n')
    with pytest.raises(ValueError,
                       match=r"test\.txt.*1 name\(s\) without a mask.*nomask"):
        _build(root, kind, ann_file='splits/test.txt')


def test_split_file_errors(tmp_path):
    root = _layout(tmp_path)
    (root / 'splits').mkdir()
    with pytest.raises(FileNotFoundError, match='train.txt.*does not exist'):
        _build(root, ann_file='splits/train.txt')
    (root / 'splits' / 'twice.txt').write_text('a\nb\na\n')
    with pytest.raises(ValueError, match=r'twice\.txt.*more than once: a$'):
        _build(root, ann_file='splits/twice.txt')
    (root / 'splits' / 'empty.txt').write_text('\n')
    with pytest.raises(ValueError, match=r'no samples.*empty\.txt.*empty'):
        _build(root, ann_file='splits/empty.txt')


# --------------------------------------------------------------------- #
# loading a sample
# --------------------------------------------------------------------- #
@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
def test_full_pipeline_pass(tmp_path, kind):
    root = _layout(tmp_path)
    ds = _build(root, kind, pipeline=PACK)
    for i in range(len(ds)):
        out = _load(ds, i)
        assert tuple(out['inputs'].shape) == (3, H, W)
        gt = out['data_samples'].gt_sem_seg.data
        assert tuple(gt.shape) == (1, H, W)
        assert gt.unique().tolist() == [0, 1]
        assert int(gt.sum()) == int(_mask().sum())
        assert out['data_samples'].img_path == ds.get_data_info(i)['img_path']


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
def test_empty_mask_is_a_valid_sample(tmp_path, kind):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'empty', mask_array=np.zeros((H, W), np.uint8))
    ds = _build(root, kind, pipeline=PACK)
    assert _basenames(ds) == ['a.png', 'empty.png']
    assert int(_load(ds, 1)['data_samples'].gt_sem_seg.data.max()) == 0


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
@pytest.mark.parametrize('what', ['image', 'mask'])
@pytest.mark.parametrize('content', ['garbage', 'truncated'])
def test_corrupt_file_raises_naming_it(tmp_path, kind, what, content):
    root = _layout(tmp_path, names=('a', 'b'), jpg=())
    path = root / ('images' if what == 'image' else 'masks') / 'b.png'
    if content == 'garbage':
        path.write_bytes(b'this is not a PNG file' * 4)
    else:
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    ds = _build(root, kind, pipeline=PACK)
    _load(ds, 0)
    with pytest.raises(OSError, match=f'failed to read or decode {what}') \
            as err:
        _load(ds, 1)
    assert repr(str(path)) in str(err.value)


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
def test_0_127_255_mask_raises_naming_it(tmp_path, kind):
    root = _layout(tmp_path, names=('a', ))
    bad = _mask(255)
    bad[0, 0] = 127
    _write(root, 'b', mask_array=bad)
    ds = _build(root, kind, pipeline=PACK)
    _load(ds, 0)
    with pytest.raises(ValueError, match=r'holds value\(s\) 127, 255;') \
            as err:
        _load(ds, 1)
    assert str(root / 'masks' / 'b.png') in str(err.value)


def test_value_message_lists_the_classes_and_hint(tmp_path):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'b', mask_array=_mask(255))
    ds = _build(root, 'ISIC2016Dataset', pipeline=LOAD)
    with pytest.raises(ValueError, match=r'\[0, 1\] \(0 = background, '
                       r'1 = lesion\)\. Convert 0/255 masks to 0/1'):
        _load(ds, 1)
    ds = _build(root, pipeline=LOAD)  # three classes: 255 is just bad
    with pytest.raises(ValueError, match=r'\[0, 1, 2\] \(0 = bg, 1 = a, '
                       r'2 = b\)\.$'):
        _load(ds, 1)


def test_class_ids_up_to_num_classes_minus_one(tmp_path):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'two', mask_array=_mask(2))
    ds = _build(root, pipeline=LOAD)
    assert int(_load(ds, 1)['gt_seg_map'].max()) == 2
    with pytest.raises(ValueError, match=r"two\.png' holds value\(s\) 2;"):
        _load(_build(root, 'ISIC2016Dataset', pipeline=LOAD), 1)


def test_reduce_zero_label_allows_ignore_index(tmp_path):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'b', mask_array=_mask(3))
    _write(root, 'c', mask_array=_mask(4))
    ds = _build(root, reduce_zero_label=True, pipeline=LOAD)
    seg = _load(ds, 1)['gt_seg_map']
    assert sorted(np.unique(seg).tolist()) == [2, 255]
    with pytest.raises(ValueError, match=r"c\.png' holds value\(s\) 3;"):
        _load(ds, 2)


def test_colour_mask_raises(tmp_path):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'rgb', mask_array=np.dstack([_mask()] * 3))
    ds = _build(root, pipeline=LOAD)
    with pytest.raises(ValueError, match=r"rgb\.png' has shape \(16, 20, 3\)"
                       '; expected a single-channel'):
        _load(ds, 1)


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
def test_mask_image_size_mismatch_raises_naming_both(tmp_path, kind):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'b', img_size=(H, W + 1))
    ds = _build(root, kind, pipeline=PACK)
    with pytest.raises(ValueError, match=r'is 16x20 \(H x W\) but image') \
            as err:
        _load(ds, 1)
    assert str(root / 'masks' / 'b.png') in str(err.value)
    assert str(root / 'images' / 'b.png') in str(err.value)
    assert 'is 16x21' in str(err.value)


def test_size_checked_against_original_image_after_resize(tmp_path):
    """Test pipeline: Resize before LoadAnnotations (metrics at the original
    resolution) passes for a matching mask and still catches a mismatch."""
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'b', img_size=(H + 2, W))
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(32, 32), keep_ratio=False),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs')
    ]
    ds = _build(root, pipeline=pipeline)
    out = _load(ds, 0)
    assert tuple(out['inputs'].shape) == (3, 32, 32)
    assert tuple(out['data_samples'].gt_sem_seg.data.shape) == (1, H, W)
    assert out['data_samples'].ori_shape == (H, W)
    with pytest.raises(ValueError, match=r'but image .*b\.png.* is 18x20'):
        _load(ds, 1)


def test_mask_loaded_before_image_is_still_size_checked(tmp_path):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'b', img_size=(H, W - 2))
    ds = _build(root, pipeline=LOAD[::-1])
    assert _load(ds, 0)['gt_seg_map'].shape == (H, W)
    with pytest.raises(ValueError, match='is 16x18'):
        _load(ds, 1)


def test_checks_inside_test_time_augmentation(tmp_path):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'b', mask_array=_mask(255))
    _write(root, 'c', mask_array=np.zeros((H, W - 4), np.uint8))
    _write(root, 'd')
    (root / 'masks' / 'd.png').write_bytes(b'garbage')
    tta = [
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug', transforms=[
            [dict(type='RandomFlip', prob=0., direction='horizontal'),
             dict(type='RandomFlip', prob=1., direction='horizontal')],
            [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])
    ]
    ds = _build(root, 'ISIC2016Dataset', pipeline=tta)
    out = _load(ds, 0)
    assert len(out['inputs']) == 2
    assert out['data_samples'][1].flip is True
    with pytest.raises(ValueError, match=r"b\.png' holds value\(s\) 255"):
        _load(ds, 1)
    with pytest.raises(ValueError, match=r"c\.png' is 16x16"):
        _load(ds, 2)
    with pytest.raises(OSError, match=r"decode mask '.*d\.png' in "
                       'TestTimeAug'):
        _load(ds, 3)


def test_checks_can_be_switched_off(tmp_path):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'b', mask_array=_mask(255))
    ds = _build(root, 'PH2Dataset', pipeline=PACK, check_mask_values=False)
    assert int(_load(ds, 1)['data_samples'].gt_sem_seg.data.max()) == 255


# --------------------------------------------------------------------- #
# file headers, checked once when the dataset is built
# --------------------------------------------------------------------- #
def _save_with_orientation(path, rgb, orientation=6):
    from PIL import Image
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(str(path), exif=exif.tobytes())


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
@pytest.mark.parametrize('size', [(H, H), (H, W)], ids=['square', 'wide'])
def test_exif_rotated_image_is_refused_naming_it(tmp_path, kind, size):
    """OpenCV rotates a JPEG with EXIF orientation 6 on loading (a square
    one used to load rotated against its mask without any error)."""
    root = tmp_path / 'data'
    _write(root, 'a', img_size=size, mask_array=_mask(size=size))
    _write(root, 'b', '.jpg', img_size=size, mask_array=_mask(size=size))
    rotated = root / 'images' / 'b.jpg'
    _save_with_orientation(rotated, _image(1, size))
    assert cv2.imread(str(rotated)).shape[:2] == size[::-1]  # OpenCV rotates
    with pytest.raises(ValueError, match=r'1 image\(s\) have an EXIF '
                       r'orientation other than 1: .*\(orientation 6\)') \
            as err:
        _build(root, kind, pipeline=PACK)
    msg = str(err.value)
    assert repr(str(rotated)) in msg and 'a.png' not in msg
    assert 'exif_transpose' in msg and 'without the orientation tag' in msg


def test_exif_rotated_png_is_refused_and_orientation_1_passes(tmp_path):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'b', mask=True)
    _save_with_orientation(root / 'images' / 'a.png', _image(0), 1)
    assert len(_build(root)) == 2  # orientation 1: nothing to rotate
    _save_with_orientation(root / 'images' / 'b.png', _image(0), 8)
    with pytest.raises(ValueError, match=r"b\.png' \(orientation 8\)"):
        _build(root)


def test_exif_check_also_for_images_only(tmp_path):
    root = tmp_path / 'data'
    _write(root, 'x', '.jpg', mask=False)
    _save_with_orientation(root / 'images' / 'x.jpg', _image(0))
    with pytest.raises(ValueError, match=r"x\.jpg' \(orientation 6\)"):
        _build(root, data_prefix=dict(img_path='images', seg_map_path=''))


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
def test_16_bit_mask_is_refused_before_the_uint8_cast(tmp_path, kind):
    """mmseg's LoadAnnotations casts to uint8: a 0/256 mask used to load as
    all background."""
    root = _layout(tmp_path, names=('a', ))
    deep = _mask(1).astype(np.uint16) * 256  # class 256: 0 as uint8
    _write(root, 'b', mask_array=deep)
    assert cv2.imread(str(root / 'masks' / 'b.png'),
                      cv2.IMREAD_UNCHANGED).dtype == np.uint16
    with pytest.raises(ValueError, match=r"1 mask\(s\) have more than 8 bits "
                       r"per sample: '.*b\.png' \(16-bit, Pillow mode I;16") \
            as err:
        _build(root, kind, pipeline=PACK)
    assert str(root / 'masks' / 'b.png') in str(err.value)
    assert '256 into 0' in str(err.value)
    # even with valid class ids and the value checks switched off
    _write(root, 'b', mask_array=_mask(1).astype(np.uint16))
    with pytest.raises(ValueError, match=r"b\.png' \(16-bit"):
        _build(root, kind, pipeline=PACK, check_mask_values=False)


@pytest.mark.parametrize('kind', sorted(DATASET_CFGS))
@pytest.mark.parametrize('size', [(1, 5), (5, 1), (1, 1)])
def test_degenerate_mask_is_refused_with_its_real_shape(tmp_path, kind,
                                                       size):
    """LoadAnnotations squeezes: a 1x5 mask used to be refused as 'shape
    (5,)', blaming the mask format."""
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'thin', img_size=size, mask_array=np.ones(size, np.uint8))
    with pytest.raises(ValueError) as err:
        _build(root, kind, pipeline=PACK)
    msg = str(err.value)
    assert (f"1 mask(s) are less than 2 pixels high or wide: "
            f"'{root / 'masks' / 'thin.png'}' is {size[0]}x{size[1]} "
            '(H x W)') in msg
    assert 'shape (' not in msg


def test_header_problems_are_listed_together(tmp_path):
    root = _layout(tmp_path, names=('a', ))
    _write(root, 'deep', mask_array=_mask(1).astype(np.uint16))
    _write(root, 'thin', img_size=(1, 4), mask_array=np.zeros((1, 4),
                                                              np.uint8))
    _write(root, 'turned', '.jpg')
    _save_with_orientation(root / 'images' / 'turned.jpg', _image(0))
    with pytest.raises(ValueError) as err:
        _build(root)
    msg = str(err.value)
    for part in ('turned.jpg', 'deep.png', 'thin.png', '1 image(s)',
                 '1 mask(s) have more', '1 mask(s) are less'):
        assert part in msg

