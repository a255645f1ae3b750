"""ISIC 2018 converter: official splits, k-fold files, known extra files,
missing splits."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from sgdc_mmseg.cli import convert_isic2018
from sgdc_mmseg.datasets.converters import ConversionError, isic2018
from sgdc_mmseg.datasets.splits import kfold

from .archives import (ISIC2018, KNOWN_TXT, make_isic2018, read_lines,
                       read_mask, snapshot)


@pytest.mark.parametrize('mode', ['dir', 'zip'])
def test_convert_with_official_splits_and_folds(tmp_path, mode):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2018(source, mode)
    before = snapshot(source)
    record = isic2018.convert(source, out, folds=2, seed=3)
    assert snapshot(source) == before

    splits = osp.join(out, 'splits')
    for split in ('train', 'val', 'test'):
        assert read_lines(osp.join(splits, f'{split}.txt')) == \
            sorted(written[split])
    train = sorted(written['train'])
    for i, (tr, va) in enumerate(kfold(train, 2, seed=3)):
        assert read_lines(osp.join(splits, f'fold{i}_train.txt')) == tr
        assert read_lines(osp.join(splits, f'fold{i}_val.txt')) == va
        assert sorted(tr + va) == train and not set(tr) & set(va)
    assert sorted(os.listdir(splits)) == sorted(
        ['train.txt', 'val.txt', 'test.txt', 'fold0_train.txt',
         'fold0_val.txt', 'fold1_train.txt', 'fold1_val.txt'])
    # ATTRIBUTION.txt / LICENSE.txt are ignored, not converted
    assert sorted(os.listdir(osp.join(out, 'images'))) == sorted(
        f'{n}.jpg' for s in written.values() for n in s)
    for split in written.values():
        for name, (jpeg, mask) in split.items():
            with open(osp.join(out, 'images', name + '.jpg'), 'rb') as f:
                assert f.read() == jpeg
            np.testing.assert_array_equal(
                read_mask(osp.join(out, 'masks', name + '.png')),
                (mask == 255).astype(np.uint8))
    assert record['options'] == {'size': None, 'folds': 2, 'seed': 3}
    assert record['counts'] == {
        'train': 4, 'val': 1, 'test': 2, 'fold0_train': 2, 'fold0_val': 2,
        'fold1_train': 2, 'fold1_val': 2}
    with open(osp.join(out, 'conversion.json')) as f:
        assert json.load(f) == record


def test_default_is_five_folds_seed_0(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2018(source, counts=dict(train=6))
    record = isic2018.convert(source, out)
    assert record['options'] == {'size': None, 'folds': 5, 'seed': 0}
    folds = kfold(sorted(written['train']), 5, seed=0)
    for i in range(5):
        assert read_lines(osp.join(out, 'splits', f'fold{i}_val.txt')) == \
            folds[i][1]


def test_missing_splits_are_reported(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2018(source, 'zip', counts=dict(train=3, test=2))
    record = isic2018.convert(source, out, folds=3)
    assert set(record['missing_splits']) == {'val'}
    assert 'ISIC2018_Task1-2_Validation_Input' in \
        record['missing_splits']['val']
    assert not osp.exists(osp.join(out, 'splits', 'val.txt'))
    assert read_lines(osp.join(out, 'splits', 'test.txt')) == \
        ['ISIC_0000300', 'ISIC_0000301']
    assert "split 'val' not converted" in capsys.readouterr().out

    # no training set: official splits only, and the folds said missing
    only_test = str(tmp_path / 'only_test')
    make_isic2018(only_test, counts=dict(test=2))
    record = isic2018.convert(only_test, str(tmp_path / 'out2'))
    assert record['counts'] == {'test': 2}
    assert 'training set' in record['missing_splits']['folds']


def test_no_split_present_names_the_expected_folders(tmp_path):
    (tmp_path / 'src').mkdir()
    with pytest.raises(ConversionError) as e:
        isic2018.convert(str(tmp_path / 'src'), str(tmp_path / 'out'))
    for split in ISIC2018.values():
        for folder in split:
            assert f'{folder}[.zip]' in str(e.value)
    assert not osp.exists(tmp_path / 'out')


def test_unexpected_file_is_an_error_listing_it(tmp_path):
    source = str(tmp_path / 'src')
    make_isic2018(source, extra={
        ISIC2018['val'][0]: {'notes.docx': b'x'},
        ISIC2018['train'][1]: {'ISIC_0000000_segmentation.jpg': b'y'}})
    with pytest.raises(ConversionError) as e:
        isic2018.convert(source, str(tmp_path / 'out'))
    msg = str(e.value)
    assert 'Validation_Input: 1 unexpected file(s)' in msg
    assert 'notes.docx' in msg
    assert 'ISIC_0000000_segmentation.jpg' in msg
    for known in KNOWN_TXT:
        assert known not in msg
    assert not osp.exists(tmp_path / 'out')


def test_too_many_folds_is_an_error_before_writing(tmp_path):
    source = str(tmp_path / 'src')
    make_isic2018(source, counts=dict(train=3))
    with pytest.raises(ConversionError,
                       match=r'--folds 4: .*only 3 names'):
        isic2018.convert(source, str(tmp_path / 'out'), folds=4)
    assert not osp.exists(tmp_path / 'out')
    with pytest.raises(ConversionError, match='folds must be 0'):
        isic2018.convert(source, str(tmp_path / 'out'), folds=1)


def test_other_folds_into_the_same_output_need_overwrite(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2018(source)
    isic2018.convert(source, out, folds=2)
    with pytest.raises(ConversionError, match='other settings'):
        isic2018.convert(source, out, folds=3)
    isic2018.convert(source, out, folds=3, overwrite=True)
    names = sorted(os.listdir(osp.join(out, 'splits')))
    assert 'fold2_val.txt' in names and len(names) == 3 + 2 * 3


def test_help_documents_the_protocol(capsys):
    with pytest.raises(SystemExit):
        convert_isic2018.main(['--help'])
    text = capsys.readouterr().out
    assert 'default_rng(seed)' in text and 'ATTRIBUTION.txt' in text
    assert 'fold<i>_val.txt' in text
