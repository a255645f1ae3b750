"""DRIVE converter: the official layout as DRIVE.zip, training.zip +
test.zip or extracted folders (TIFF images, GIF masks), the field of view
(masks 255 outside it, fov/ 0/1), the second observer, the k-fold of the
training images, skipped splits, errors naming the files, re-runs, and the
real training split in ../shared when present."""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from sgdc_mmseg.datasets.converters import CONVERTERS, ConversionError, drive
from sgdc_mmseg.datasets.splits import kfold

from .archives import read_lines, read_mask, read_tree, snapshot
from .drive_archives import fov_disk, gif, make_drive, vessels

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
REAL = osp.join(REPO_ROOT, '..', 'shared', 'data', 'drive-training')
TRAIN = [f'{n}_training' for n in range(21, 26)]
TEST = ['01_test', '02_test']


def _expected_mask(v, fov):
    out = (v == 255).astype(np.uint8)
    out[fov == 0] = 255
    return out


def _check(out, arrays):
    for stem, (rgb, v, fov, v2) in arrays.items():
        img = cv2.imread(osp.join(out, 'images', stem + '.png'))
        np.testing.assert_array_equal(img, rgb[..., ::-1])  # lossless, BGR
        mask = read_mask(osp.join(out, 'masks', stem + '.png'))
        assert mask.dtype == np.uint8 and mask.ndim == 2
        np.testing.assert_array_equal(mask, _expected_mask(v, fov))
        f = read_mask(osp.join(out, 'fov', stem + '.png'))
        np.testing.assert_array_equal(f, (fov == 255).astype(np.uint8))
        path2 = osp.join(out, 'masks_2nd', stem + '.png')
        if v2 is None:
            assert not osp.exists(path2)
        else:
            np.testing.assert_array_equal(read_mask(path2),
                                          _expected_mask(v2, fov))


def test_registered_converter():
    assert CONVERTERS['drive'] is drive


@pytest.mark.parametrize('mode', ['dir', 'DRIVE.zip', 'split-zips'])
def test_convert_both_splits(tmp_path, mode):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    arrays = make_drive(source, mode)
    before = snapshot(source)
    record = drive.convert(source, out, folds=3)
    assert snapshot(source) == before
    _check(out, arrays)
    assert read_lines(osp.join(out, 'splits', 'train.txt')) == TRAIN
    assert read_lines(osp.join(out, 'splits', 'test.txt')) == TEST
    for i, (tr, va) in enumerate(kfold(TRAIN, 3, seed=0)):
        assert read_lines(osp.join(out, 'splits', f'fold{i}_train.txt')) == tr
        assert read_lines(osp.join(out, 'splits', f'fold{i}_val.txt')) == va
    assert record['counts']['train'] == 5 and record['counts']['test'] == 2
    assert record['second_observer'] == TEST
    assert record['missing_splits'] == {}
    assert record['mask_values']['255'].startswith('outside the field')
    # every fake annotation has 3-5 vessel pixels in the top-left corner
    outside = record['vessel_pixels_outside_fov']
    assert set(outside) == set(TRAIN + TEST)
    for stem, (_, v, fov, _) in arrays.items():
        assert outside[stem] == int(((v == 255) & (fov == 0)).sum()) >= 3
    assert sorted(os.listdir(out)) == ['conversion.json', 'fov', 'images',
                                       'masks', 'masks_2nd', 'splits']


def test_source_may_be_the_zip_the_drive_folder_or_a_split_folder(
        tmp_path):
    make_drive(str(tmp_path / 'z'), 'DRIVE.zip')
    rec = drive.convert(str(tmp_path / 'z' / 'DRIVE.zip'),
                        str(tmp_path / 'o1'))
    assert rec['counts']['train'] == 5 and rec['counts']['test'] == 2
    arrays = make_drive(str(tmp_path / 'd'), 'dir')
    drive.convert(str(tmp_path / 'd' / 'DRIVE'), str(tmp_path / 'o2'))
    _check(str(tmp_path / 'o2'), arrays)
    assert read_tree(str(tmp_path / 'o1'), skip=['conversion.json']) == \
        read_tree(str(tmp_path / 'o2'), skip=['conversion.json'])
    rec = drive.convert(str(tmp_path / 'd' / 'DRIVE' / 'test'),
                        str(tmp_path / 'o3'))
    assert rec['counts'] == {'test': 2}
    assert 'train' in rec['missing_splits']


def test_only_the_test_split_writes_no_folds(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    arrays = make_drive(source, 'split-zips', splits=('test', ))
    record = drive.convert(source, out)
    _check(out, arrays)
    assert sorted(os.listdir(osp.join(out, 'splits'))) == ['test.txt']
    assert record['missing_splits'] == {
        'train': f'no training/ folder in {source}'}
    assert "split 'train' not converted" in capsys.readouterr().out


def test_split_without_ground_truth_is_skipped_and_named(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_drive(source, 'dir')
    for sub in ('1st_manual', '2nd_manual'):
        shutil.rmtree(osp.join(source, 'DRIVE', 'test', sub))
    record = drive.convert(source, out)
    assert record['counts']['train'] == 5 and 'test' not in record['counts']
    reason = record['missing_splits']['test']
    assert 'holds no 1st_manual/' in reason
    assert osp.join(source, 'DRIVE', 'test') in reason
    assert "split 'test' not converted" in capsys.readouterr().out
    assert not osp.exists(osp.join(out, 'masks_2nd'))
    # nothing left to convert: an error naming why
    shutil.rmtree(osp.join(source, 'DRIVE', 'training', '1st_manual'))
    with pytest.raises(ConversionError, match=r'nothing to convert.*'
                       r'train: .*holds no 1st_manual/'):
        drive.convert(source, str(tmp_path / 'out2'))


def test_unpaired_and_unexpected_files_are_listed(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_drive(source, 'dir')
    root = osp.join(source, 'DRIVE', 'training')
    os.remove(osp.join(root, 'mask', '22_training_mask.gif'))
    os.remove(osp.join(root, '1st_manual', '23_manual1.gif'))
    os.remove(osp.join(source, 'DRIVE', 'test', 'images', '02_test.tif'))
    with open(osp.join(root, 'images', 'Thumbs.db'), 'wb') as f:
        f.write(b'x')
    with pytest.raises(ConversionError) as e:
        drive.convert(source, out)
    msg = str(e.value)
    assert 'images/Thumbs.db' in msg
    assert '22.tif' not in msg and '22_training.tif' in msg  # no FOV mask
    assert osp.join(root, 'mask') in msg
    assert '23_training.tif' in msg and osp.join(root, '1st_manual') in msg
    assert '02_manual1.gif' in msg and '02_test_mask.gif' in msg
    assert not osp.exists(out)


@pytest.mark.parametrize('what', ['values', 'colour', 'size'])
def test_bad_masks_are_refused_naming_the_file(tmp_path, what):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_drive(source, 'dir')
    if what == 'size':
        path = osp.join(source, 'DRIVE', 'training', 'mask',
                        '22_training_mask.gif')
        data = gif(fov_disk((72, 69)))
        match = (r'22_training\.tif is 72x70 \(WxH\) but its '
                 r'field-of-view mask .*22_training_mask\.gif is 72x69')
    elif what == 'values':
        path = osp.join(source, 'DRIVE', 'training', '1st_manual',
                        '22_manual1.gif')
        v = vessels(22)
        v[10, 10] = 128
        data = gif(v)
        match = r'vessel annotation .*22_manual1\.gif holds value\(s\) 128'
    else:
        from PIL import Image
        import io
        path = osp.join(source, 'DRIVE', 'test', '2nd_manual',
                        '01_manual2.gif')
        rgb = np.zeros((70, 72, 3), np.uint8)
        rgb[5, 5] = (255, 0, 0)
        buf = io.BytesIO()
        Image.fromarray(rgb).convert('P').save(buf, format='GIF')
        data = buf.getvalue()
        match = r'01_manual2\.gif holds colours that are not grey'
    with open(path, 'wb') as f:
        f.write(data)
    with pytest.raises(ConversionError, match=match):
        drive.convert(source, out)
    assert not osp.exists(osp.join(out, 'conversion.json'))


def test_a_split_in_two_zips_is_refused_and_a_folder_wins(tmp_path):
    source = str(tmp_path / 'src')
    make_drive(source, 'DRIVE.zip')
    make_drive(source, 'split-zips')
    with pytest.raises(ConversionError,
                       match=r"'training' split is in more than one zip.*"
                       r'DRIVE\.zip.*training\.zip'):
        drive.convert(source, str(tmp_path / 'out'))
    os.remove(osp.join(source, 'DRIVE.zip'))
    os.remove(osp.join(source, 'test.zip'))
    arrays = make_drive(source, 'dir', splits=('training', ))
    record = drive.convert(source, str(tmp_path / 'out'))
    assert record['inputs'] == {
        'train': osp.join(source, 'DRIVE', 'training')}
    _check(str(tmp_path / 'out'), arrays)


def test_bad_sources(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ConversionError,
                       match=r'no DRIVE split folder .* found in .*empty'):
        drive.convert(str(tmp_path / 'empty'), str(tmp_path / 'out'))
    (tmp_path / 'a.zip').write_bytes(b'not a zip')
    with pytest.raises(ConversionError, match=r'a\.zip.* is a file but not '
                       'a zip file'):
        drive.convert(str(tmp_path / 'a.zip'), str(tmp_path / 'out'))
    with pytest.raises(ConversionError, match='does not exist'):
        drive.convert(str(tmp_path / 'nope'), str(tmp_path / 'out'))
    with pytest.raises(ConversionError, match='folds must be 0'):
        drive.convert(str(tmp_path / 'empty'), str(tmp_path / 'out'),
                      folds=1)


def test_size_rerun_and_nproc(tmp_path, capsys):
    source = str(tmp_path / 'src')
    make_drive(source, 'DRIVE.zip')
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    drive.convert(source, one, size=(36, 35))
    for sub in ('masks', 'fov', 'masks_2nd'):
        m = read_mask(osp.join(one, sub, '01_test.png'))
        assert m.shape == (35, 36)
        assert set(np.unique(m)) <= ({0, 1} if sub == 'fov' else {0, 1, 255})
    assert cv2.imread(osp.join(one, 'images', '21_training.png')).shape == \
        (35, 36, 3)
    drive.convert(source, two, size=(36, 35), nproc=2)
    tree = read_tree(one, skip=['conversion.json'])
    assert read_tree(two, skip=['conversion.json']) == tree
    capsys.readouterr()
    drive.convert(source, one, size=(36, 35))
    assert '(0 written, 7 already there' in capsys.readouterr().out
    assert read_tree(one, skip=['conversion.json']) == tree
    with pytest.raises(ConversionError, match='other settings'):
        drive.convert(source, one)


@pytest.mark.skipif(not osp.isdir(REAL),
                    reason='the real DRIVE training split (../shared/data/'
                    'drive-training) is not present on this machine')
def test_real_training_split(tmp_path):
    from PIL import Image
    out = str(tmp_path / 'out')
    before = snapshot(REAL)
    record = drive.convert(REAL, out)
    assert snapshot(REAL) == before
    stems = read_lines(osp.join(out, 'splits', 'train.txt'))
    assert stems == [f'{n}_training' for n in range(21, 41)]
    assert record['missing_splits'].keys() == {'test'}
    root = osp.join(REAL, 'DRIVE', 'training')
    total_outside = 0
    for stem in stems:
        nn = stem.split('_')[0]
        src = np.asarray(Image.open(osp.join(root, 'images', stem + '.tif')))
        v = np.asarray(Image.open(osp.join(root, '1st_manual',
                                           f'{nn}_manual1.gif')))
        fov = np.asarray(Image.open(osp.join(root, 'mask',
                                             f'{stem}_mask.gif')))
        img = cv2.imread(osp.join(out, 'images', stem + '.png'))
        assert img.shape == (584, 565, 3)
        np.testing.assert_array_equal(img[..., ::-1], src)
        np.testing.assert_array_equal(
            read_mask(osp.join(out, 'masks', stem + '.png')),
            _expected_mask(v, fov))
        f = read_mask(osp.join(out, 'fov', stem + '.png'))
        assert 0.6 < f.mean() < 0.75  # the round field of view
        total_outside += record['vessel_pixels_outside_fov'].get(stem, 0)
    assert total_outside == 200  # counted on the official files
    assert record['counts']['fold0_val'] == 4
