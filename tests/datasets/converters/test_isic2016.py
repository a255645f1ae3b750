"""ISIC 2016 converter, and the machinery it shares with the others
(pairing, mask checks, idempotency, settings, --size, --nproc)."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from sgdc_mmseg.cli import convert_isic2016
from sgdc_mmseg.datasets.converters import ConversionError, isic2016
from sgdc_mmseg.version import __version__

from .archives import (ISIC2016, SIZE, encode, make_isic2016, read_lines,
                       read_mask, read_tree, snapshot)


def _check_output(out, written):
    names = {s: sorted(v) for s, v in written.items()}
    assert sorted(os.listdir(out)) == ['conversion.json', 'images', 'masks',
                                       'splits']
    assert sorted(os.listdir(osp.join(out, 'splits'))) == ['test.txt',
                                                            'train.txt']
    for split in ('train', 'test'):
        assert read_lines(osp.join(out, 'splits', f'{split}.txt')) == \
            names[split]
    all_names = sorted(n for v in names.values() for n in v)
    assert sorted(os.listdir(osp.join(out, 'images'))) == \
        [n + '.jpg' for n in all_names]
    assert sorted(os.listdir(osp.join(out, 'masks'))) == \
        [n + '.png' for n in all_names]
    for split in written.values():
        for name, (jpeg, mask) in split.items():
            with open(osp.join(out, 'images', name + '.jpg'), 'rb') as f:
                assert f.read() == jpeg  # byte for byte
            m = read_mask(osp.join(out, 'masks', name + '.png'))
            assert m.dtype == np.uint8 and m.ndim == 2
            np.testing.assert_array_equal(m, (mask == 255).astype(np.uint8))
            assert set(np.unique(m)) == {0, 1}


@pytest.mark.parametrize('mode', ['dir', 'zip', 'zip-nested', 'zip-flat',
                                  'dir-nested'])
def test_convert_extracted_and_zipped(tmp_path, mode, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2016(source, mode)
    before = snapshot(source)
    record = isic2016.convert(source, out)
    _check_output(out, written)
    assert snapshot(source) == before  # SOURCE untouched

    with open(osp.join(out, 'conversion.json')) as f:
        on_disk = json.load(f)
    assert on_disk == record
    assert record['converter'] == 'isic2016'
    assert record['sgdc_mmseg_version'] == __version__
    assert record['source'] == osp.abspath(source)
    assert record['options'] == {'size': None}
    assert record['counts'] == {'train': 3, 'test': 2}
    assert record['split_files'] == ['splits/train.txt', 'splits/test.txt']
    assert record['image_suffix'] == '.jpg'
    assert record['missing_splits'] == {}
    expected_where = ('.zip:' if mode.startswith('zip') else
                      osp.join(source, ISIC2016['train'][0]))
    assert expected_where in record['inputs']['train']['images']
    summary = capsys.readouterr().out
    assert 'isic2016: 5 sample(s)' in summary and out in summary
    assert 'train.txt' in summary and 'test.txt' in summary


def test_zip_and_extracted_give_the_same_files(tmp_path):
    outs = []
    for mode in ('dir', 'zip'):
        source = str(tmp_path / f'src_{mode}')
        make_isic2016(source, mode)
        isic2016.convert(source, str(tmp_path / f'out_{mode}'))
        outs.append(read_tree(str(tmp_path / f'out_{mode}'),
                              skip=['conversion.json']))
    assert outs[0] == outs[1] and len(outs[0]) == 12


def test_idempotent_second_run_skips_and_gives_same_files(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source, 'zip')
    isic2016.convert(source, out)
    first = read_tree(out)
    mtimes = {p: os.stat(osp.join(out, p)).st_mtime_ns for p in first
              if p.startswith(('images/', 'masks/'))}
    capsys.readouterr()
    isic2016.convert(source, out)
    assert read_tree(out) == first
    assert '(0 written, 5 already there' in capsys.readouterr().out
    assert {p: os.stat(osp.join(out, p)).st_mtime_ns
            for p in mtimes} == mtimes  # skipped, not rewritten


def test_other_settings_need_overwrite_and_leave_no_mix(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source)
    isic2016.convert(source, out)
    first = read_tree(out)
    with open(osp.join(out, 'notes.txt'), 'w') as f:
        f.write('mine')
    with pytest.raises(ConversionError, match=r'other settings.*size.*'
                       r'--overwrite'):
        isic2016.convert(source, out, size=(12, 9))
    assert read_tree(out, skip=['notes.txt']) == first  # untouched

    isic2016.convert(source, out, size=(12, 9), overwrite=True)
    images = sorted(os.listdir(osp.join(out, 'images')))
    assert images and all(n.endswith('.png') for n in images)  # no .jpg left
    with open(osp.join(out, 'notes.txt')) as f:
        assert f.read() == 'mine'  # not an output of the converter
    with open(osp.join(out, 'conversion.json')) as f:
        assert json.load(f)['options'] == {'size': [12, 9]}


def test_size_resizes_images_and_masks(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2016(source)
    record = isic2016.convert(source, out, size=(12, 9))
    assert record['image_suffix'] == '.png'
    for split in written.values():
        for name, (jpeg, mask) in split.items():
            img = cv2.imread(osp.join(out, 'images', name + '.png'))
            m = read_mask(osp.join(out, 'masks', name + '.png'))
            assert img.shape == (9, 12, 3) and m.shape == (9, 12)
            src = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            np.testing.assert_array_equal(
                img, cv2.resize(src, (12, 9), interpolation=cv2.INTER_AREA))
            np.testing.assert_array_equal(
                m, cv2.resize((mask == 255).astype(np.uint8), (12, 9),
                              interpolation=cv2.INTER_NEAREST))
    # a single value means a square
    isic2016.convert(source, str(tmp_path / 'sq'), size=10)
    m = read_mask(osp.join(tmp_path, 'sq', 'masks', 'ISIC_0000000.png'))
    assert m.shape == (10, 10) and set(np.unique(m)) <= {0, 1}


def test_nproc_2_equals_nproc_1(tmp_path):
    source = str(tmp_path / 'src')
    make_isic2016(source, 'zip')
    isic2016.convert(source, str(tmp_path / 'one'), size=(12, 9), nproc=1)
    isic2016.convert(source, str(tmp_path / 'two'), size=(12, 9), nproc=2)
    one = read_tree(str(tmp_path / 'one'), skip=['conversion.json'])
    assert one == read_tree(str(tmp_path / 'two'), skip=['conversion.json'])
    assert len(one) == 12


def _replace(source, folder, filename, data):
    with open(osp.join(source, folder, filename), 'wb') as f:
        f.write(data)


def test_unpaired_image_and_mask_are_listed_before_writing(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source)
    os.remove(osp.join(source, ISIC2016['train'][1],
                       'ISIC_0000001_Segmentation.png'))
    os.remove(osp.join(source, ISIC2016['test'][0], 'ISIC_0000101.jpg'))
    with pytest.raises(ConversionError) as e:
        isic2016.convert(source, out)
    msg = str(e.value)
    assert 'train split: 1 image(s)' in msg and 'ISIC_0000001.jpg' in msg
    assert 'test split: 1 mask(s)' in msg and \
        'ISIC_0000101_Segmentation.png' in msg
    assert not osp.exists(out)  # nothing written


def test_mask_with_other_values_is_rejected_naming_it(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source)
    bad = np.zeros(SIZE[::-1], np.uint8)
    bad[:, 8:16] = 127
    bad[:, 16:] = 255
    _replace(source, ISIC2016['train'][1], 'ISIC_0000002_Segmentation.png',
             encode('.png', bad))
    with pytest.raises(ConversionError,
                       match=r'ISIC_0000002_Segmentation\.png holds value\(s\)'
                       r' 127 in 144 pixel'):
        isic2016.convert(source, out)
    assert not osp.exists(osp.join(out, 'conversion.json'))  # incomplete


def test_failing_samples_in_workers_are_all_listed(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source, train=4)
    for name in ('ISIC_0000001', 'ISIC_0000003'):
        _replace(source, ISIC2016['train'][1], f'{name}_Segmentation.png',
                 encode('.png', np.full(SIZE[::-1], 1, np.uint8)))
    with pytest.raises(ConversionError) as e:
        isic2016.convert(source, out, nproc=2)
    msg = str(e.value)
    assert 'isic2016: 2 of 6 sample(s) failed' in msg
    assert 'ISIC_0000001_Segmentation.png holds value(s) 1 ' in msg
    assert 'ISIC_0000003_Segmentation.png holds value(s) 1 ' in msg
    assert not osp.exists(osp.join(out, 'conversion.json'))
    assert len(os.listdir(osp.join(out, 'masks'))) == 4  # the good ones


def test_jpeg_damaged_mask_is_rejected(tmp_path):
    source = str(tmp_path / 'src')
    written = make_isic2016(source)
    # a mask stored as JPEG gets values between 0 and 255 at its edges
    jpeg_mask = cv2.imdecode(np.frombuffer(encode(
        '.jpg', written['test']['ISIC_0000100'][1]), np.uint8),
        cv2.IMREAD_GRAYSCALE)
    assert ((jpeg_mask > 0) & (jpeg_mask < 255)).any()
    _replace(source, ISIC2016['test'][1], 'ISIC_0000100_Segmentation.png',
             encode('.png', jpeg_mask))
    with pytest.raises(ConversionError,
                       match=r'ISIC_0000100_Segmentation\.png holds value'):
        isic2016.convert(source, str(tmp_path / 'out'))


def test_size_mismatch_names_both_files(tmp_path):
    source = str(tmp_path / 'src')
    make_isic2016(source)
    _replace(source, ISIC2016['train'][1], 'ISIC_0000001_Segmentation.png',
             encode('.png', np.zeros((18, 23), np.uint8)))
    with pytest.raises(ConversionError,
                       match=r'image \S*ISIC_0000001\.jpg is 24x18 \(WxH\) '
                       r'but its mask \S*ISIC_0000001_Segmentation\.png is '
                       r'23x18'):
        isic2016.convert(source, str(tmp_path / 'out'))


def test_interrupted_run_is_resumed_with_the_same_settings(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2016(source)
    good = encode('.png', written['test']['ISIC_0000101'][1])
    _replace(source, ISIC2016['test'][1], 'ISIC_0000101_Segmentation.png',
             encode('.png', np.full(SIZE[::-1], 7, np.uint8)))
    with pytest.raises(ConversionError, match='ISIC_0000101_Segmentation'):
        isic2016.convert(source, out)
    assert not osp.exists(osp.join(out, 'conversion.json'))
    assert len(os.listdir(osp.join(out, 'masks'))) == 4  # written before it
    _replace(source, ISIC2016['test'][1], 'ISIC_0000101_Segmentation.png',
             good)
    isic2016.convert(source, out)  # same settings: no --overwrite needed
    _check_output(out, written)


def test_foreign_output_folder_needs_overwrite(tmp_path):
    source, out = str(tmp_path / 'src'), tmp_path / 'out'
    make_isic2016(source)
    (out / 'images').mkdir(parents=True)
    (out / 'images' / 'other.jpg').write_bytes(b'x')
    with pytest.raises(ConversionError,
                       match=r'already holds images but no readable '
                       r'conversion\.json'):
        isic2016.convert(source, str(out))
    isic2016.convert(source, str(out), overwrite=True)
    assert 'other.jpg' not in os.listdir(out / 'images')


def test_output_inside_source_is_refused(tmp_path):
    source = str(tmp_path / 'src')
    make_isic2016(source)
    before = snapshot(source)
    with pytest.raises(ConversionError, match='lies inside SOURCE'):
        isic2016.convert(source, osp.join(source, 'converted'))
    assert snapshot(source) == before


def test_half_present_split_and_no_split(tmp_path):
    source = str(tmp_path / 'src')
    make_isic2016(source, 'zip')
    os.remove(osp.join(source, ISIC2016['test'][1] + '.zip'))
    with pytest.raises(ConversionError,
                       match=r'test split: found \S*Test_Data\.zip:\S* but '
                       r'not ISBI2016_ISIC_Part1_Test_GroundTruth'):
        isic2016.convert(source, str(tmp_path / 'out'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ConversionError,
                       match=r'no official folder or zip.*'
                       r'ISBI2016_ISIC_Part1_Training_Data\[\.zip\]'):
        isic2016.convert(str(empty), str(tmp_path / 'out'))


def test_main_returns_1_with_the_message(tmp_path, capsys):
    empty = tmp_path / 'empty'
    empty.mkdir()
    out = str(tmp_path / 'out')
    assert convert_isic2016.main([str(empty), '-o', out]) == 1
    assert 'error: isic2016: no official folder' in capsys.readouterr().err
    source = str(tmp_path / 'src')
    make_isic2016(source)
    assert convert_isic2016.main([source, '-o', out, '--size', '12', '9',
                                  '--nproc', '1']) == 0
    assert len(os.listdir(tmp_path / 'out' / 'images')) == 5
    with pytest.raises(SystemExit):
        convert_isic2016.main([source, '-o', str(tmp_path / 'o2'), '--size',
                               '1', '2', '3'])
    assert '--size takes one or two' in capsys.readouterr().err
