"""PH2 converter: official layout (folder or zip), 3-channel BMP masks,
ROI folders, the .rar refusal, optional folds, and the real sample cases."""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from sgdc_mmseg.datasets.converters import ConversionError, ph2
from sgdc_mmseg.datasets.splits import kfold

from .archives import (PH2_IMAGES, PH2_ROOT, encode, make_ph2, read_lines,
                       read_mask, read_tree, snapshot)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
REAL_SAMPLE = osp.join(REPO_ROOT, '..', 'shared', 'data', 'ph2-raw-sample')


def _check(out, arrays):
    assert read_lines(osp.join(out, 'splits', 'all.txt')) == sorted(arrays)
    for case, (img, mask) in arrays.items():
        got = cv2.imread(osp.join(out, 'images', case + '.png'))
        np.testing.assert_array_equal(got, img)  # lossless
        m = read_mask(osp.join(out, 'masks', case + '.png'))
        assert m.dtype == np.uint8 and m.shape == mask.shape
        np.testing.assert_array_equal(m, (mask == 255).astype(np.uint8))


@pytest.mark.parametrize('mode', ['dir', 'zip'])
def test_convert_folder_or_zip(tmp_path, mode):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    arrays = make_ph2(source, mode)  # IMD003 has a 3-channel mask
    before = snapshot(source)
    record = ph2.convert(source, out)
    assert snapshot(source) == before
    _check(out, arrays)
    assert sorted(os.listdir(osp.join(out, 'splits'))) == ['all.txt']
    assert record['counts'] == {'all': 3}
    assert record['options'] == {'size': None, 'folds': 0, 'seed': 0}
    assert record['image_suffix'] == '.png'


def test_source_may_be_the_dataset_folder_or_the_zip_itself(tmp_path):
    arrays = make_ph2(str(tmp_path / 'a'), 'dir')
    ph2.convert(str(tmp_path / 'a' / PH2_ROOT), str(tmp_path / 'out_a'))
    _check(str(tmp_path / 'out_a'), arrays)
    make_ph2(str(tmp_path / 'b'), 'zip')
    ph2.convert(str(tmp_path / 'b' / (PH2_ROOT + '.zip')),
                str(tmp_path / 'out_b'))
    _check(str(tmp_path / 'out_b'), arrays)


def test_folds_and_size(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    arrays = make_ph2(source)
    ph2.convert(source, out, folds=3, seed=1, size=(10, 8))
    for i, (tr, va) in enumerate(kfold(sorted(arrays), 3, seed=1)):
        assert read_lines(osp.join(out, 'splits', f'fold{i}_train.txt')) == tr
        assert read_lines(osp.join(out, 'splits', f'fold{i}_val.txt')) == va
    for case in arrays:
        assert cv2.imread(osp.join(out, 'images', case + '.png')).shape == \
            (8, 10, 3)
        m = read_mask(osp.join(out, 'masks', case + '.png'))
        assert m.shape == (8, 10) and set(np.unique(m)) <= {0, 1}


def test_nproc_2_equals_nproc_1_and_rerun_is_identical(tmp_path):
    source = str(tmp_path / 'src')
    make_ph2(source, 'zip')
    ph2.convert(source, str(tmp_path / 'one'))
    ph2.convert(source, str(tmp_path / 'two'), nproc=2)
    one = read_tree(str(tmp_path / 'one'))
    assert one == read_tree(str(tmp_path / 'two'))
    ph2.convert(source, str(tmp_path / 'one'))
    assert read_tree(str(tmp_path / 'one')) == one


def test_three_channel_mask_with_different_channels_is_rejected(tmp_path):
    source = str(tmp_path / 'src')
    make_ph2(source)
    mask = np.zeros((15, 22, 3), np.uint8)
    mask[2:8, 3:9] = 255
    mask[0, 0, 2] = 255  # one channel disagrees
    path = osp.join(source, PH2_ROOT, PH2_IMAGES, 'IMD003', 'IMD003_lesion',
                    'IMD003_lesion.bmp')
    with open(path, 'wb') as f:
        f.write(encode('.bmp', mask))
    with pytest.raises(ConversionError,
                       match=r'IMD003_lesion\.bmp is a 3-channel image whose '
                       'channels differ'):
        ph2.convert(source, str(tmp_path / 'out'))
    assert not osp.exists(osp.join(tmp_path, 'out', 'conversion.json'))


def test_unpaired_and_unexpected_files(tmp_path):
    source = str(tmp_path / 'src')
    make_ph2(source)
    root = osp.join(source, PH2_ROOT, PH2_IMAGES)
    os.remove(osp.join(root, 'IMD010', 'IMD010_lesion', 'IMD010_lesion.bmp'))
    os.remove(osp.join(root, 'IMD002', 'IMD002_Dermoscopic_Image',
                       'IMD002.bmp'))
    with open(osp.join(root, 'IMD003', 'IMD003_Dermoscopic_Image',
                       'Thumbs.db'), 'wb') as f:
        f.write(b'x')
    with pytest.raises(ConversionError) as e:
        ph2.convert(source, str(tmp_path / 'out'))
    msg = str(e.value)
    assert '1 image(s)' in msg and 'IMD010.bmp' in msg
    assert '1 mask(s)' in msg and 'IMD002_lesion.bmp' in msg
    assert 'IMD003/IMD003_Dermoscopic_Image/Thumbs.db' in msg
    assert not osp.exists(tmp_path / 'out')


def test_size_mismatch_and_bad_mask_values(tmp_path):
    source = str(tmp_path / 'src')
    make_ph2(source)
    lesion = osp.join(source, PH2_ROOT, PH2_IMAGES, 'IMD010', 'IMD010_lesion',
                      'IMD010_lesion.bmp')
    with open(lesion, 'wb') as f:
        f.write(encode('.bmp', np.zeros((16, 19), np.uint8)))
    with pytest.raises(ConversionError,
                       match=r'IMD010\.bmp is 19x17 \(WxH\) but its mask '
                       r'.*IMD010_lesion\.bmp is 19x16'):
        ph2.convert(source, str(tmp_path / 'out'))
    bad = np.zeros((17, 19), np.uint8)
    bad[:5], bad[5:9] = 255, 127
    with open(lesion, 'wb') as f:
        f.write(encode('.bmp', bad))
    with pytest.raises(ConversionError,
                       match=r'IMD010_lesion\.bmp holds value\(s\) 127'):
        ph2.convert(source, str(tmp_path / 'out'), overwrite=True)


def test_rar_is_refused_with_a_hint(tmp_path):
    (tmp_path / 'src').mkdir()
    (tmp_path / 'src' / 'PH2Dataset.rar').write_bytes(b'Rar!\x1a\x07\x00')
    with pytest.raises(ConversionError, match=r'\.rar archive.*extract it'):
        ph2.convert(str(tmp_path / 'src'), str(tmp_path / 'out'))
    with pytest.raises(ConversionError, match=r'\.rar archive.*extract it'):
        ph2.convert(str(tmp_path / 'src' / 'PH2Dataset.rar'),
                    str(tmp_path / 'out'))
    (tmp_path / 'none').mkdir()
    with pytest.raises(ConversionError,
                       match=r'found neither PH2Dataset/PH2 Dataset images/ '
                       'or PH2Dataset.zip'):
        ph2.convert(str(tmp_path / 'none'), str(tmp_path / 'out'))


@pytest.mark.skipif(not osp.isdir(REAL_SAMPLE),
                    reason='the real PH2 sample (../shared/data/'
                    'ph2-raw-sample) is not present on this machine')
def test_real_sample_cases(tmp_path):
    out = str(tmp_path / 'out')
    before = snapshot(REAL_SAMPLE)
    ph2.convert(REAL_SAMPLE, out)
    assert snapshot(REAL_SAMPLE) == before
    cases = read_lines(osp.join(out, 'splits', 'all.txt'))
    assert len(cases) == 4 and all(c.startswith('IMD') for c in cases)
    root = osp.join(REAL_SAMPLE, PH2_ROOT, PH2_IMAGES)
    for case in cases:
        src_img = cv2.imread(osp.join(root, case, f'{case}_Dermoscopic_Image',
                                      f'{case}.bmp'))
        src_mask = cv2.imread(osp.join(root, case, f'{case}_lesion',
                                       f'{case}_lesion.bmp'),
                              cv2.IMREAD_GRAYSCALE)
        img = cv2.imread(osp.join(out, 'images', case + '.png'))
        mask = read_mask(osp.join(out, 'masks', case + '.png'))
        # real PH2 images are about 765x572 and vary in size
        assert 500 < img.shape[0] < 800 and 700 < img.shape[1] < 800
        np.testing.assert_array_equal(img, src_img)
        assert mask.shape == img.shape[:2] and mask.dtype == np.uint8
        assert set(np.unique(mask)) == {0, 1}
        np.testing.assert_array_equal(mask, (src_mask > 127).astype(np.uint8))
        assert 0.01 < mask.mean() < 0.99  # a real lesion, not empty/full
    # the same cases from a zip of the sample give the same files
    zip_src = tmp_path / 'zipped'
    zip_src.mkdir()
    shutil.make_archive(str(zip_src / PH2_ROOT), 'zip', REAL_SAMPLE, PH2_ROOT)
    ph2.convert(str(zip_src), str(tmp_path / 'out_zip'))
    assert read_tree(str(tmp_path / 'out_zip'), skip=['conversion.json']) == \
        read_tree(out, skip=['conversion.json'])
