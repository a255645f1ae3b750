"""CoNIC converter: patches to PNG images / class masks / uint16 instance
maps, grouped k-fold, and the consistency checks between the four files."""
import json
import os
import os.path as osp
import zipfile

import cv2
import numpy as np
import pytest

from sgdc_mmseg.cli import convert_conic
from sgdc_mmseg.datasets.converters import ConversionError, conic
from sgdc_mmseg.datasets.splits import grouped_kfold

from .archives import (CONIC_GROUPS, make_conic, read_lines, read_mask,
                       read_tree, snapshot, write_conic)


def _group(name):
    return name.rsplit('-', 1)[0]


def test_convert_patches_and_grouped_folds(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    data = make_conic(source)
    before = snapshot(source)
    record = conic.convert(source, out, folds=3, seed=2)
    assert snapshot(source) == before

    names = data['names']
    assert read_lines(osp.join(out, 'splits', 'all.txt')) == sorted(names)
    for i, name in enumerate(names):
        img = cv2.imread(osp.join(out, 'images', name + '.png'))
        np.testing.assert_array_equal(img[..., ::-1], data['images'][i])  # RGB
        cls = read_mask(osp.join(out, 'masks', name + '.png'))
        assert cls.dtype == np.uint8
        np.testing.assert_array_equal(cls, data['labels'][i, ..., 1])
        inst = read_mask(osp.join(out, 'instances', name + '.png'))
        assert inst.dtype == np.uint16
        np.testing.assert_array_equal(inst, data['labels'][i, ..., 0])

    expected = grouped_kfold(names, _group, 3, seed=2)
    vals = []
    for i, (tr, va) in enumerate(expected):
        assert read_lines(osp.join(out, 'splits', f'fold{i}_train.txt')) == tr
        assert read_lines(osp.join(out, 'splits', f'fold{i}_val.txt')) == va
        vals.append({_group(n) for n in va})
    for i in range(3):  # no source image in two folds
        for j in range(i + 1, 3):
            assert not vals[i] & vals[j]
    assert set().union(*vals) == {g for g, _ in CONIC_GROUPS}

    assert record['options'] == {'size': None, 'folds': 3, 'seed': 2}
    assert record['counts']['all'] == 9
    assert record['patch_size'] == [256, 256]
    assert record['classes'][1] == 'neutrophil' and len(record['classes']) == 7
    assert sorted(os.listdir(out)) == ['conversion.json', 'images',
                                       'instances', 'masks', 'splits']
    with open(osp.join(out, 'conversion.json')) as f:
        assert json.load(f) == record


def test_files_in_a_subfolder_default_folds_and_idempotency(tmp_path):
    source, out = tmp_path / 'src', str(tmp_path / 'out')
    groups = tuple((f'img_{g}', 1 + g % 2) for g in range(6))
    make_conic(str(source / 'conic_data'), groups=groups)
    (source / 'README.txt').write_text('readme')
    conic.convert(str(source), out)
    first = read_tree(out)
    assert sorted(p for p in first if p.startswith('splits/fold')) == sorted(
        f'splits/fold{i}_{s}.txt' for i in range(5) for s in ('train', 'val'))
    conic.convert(str(source), out)
    assert read_tree(out) == first


def test_nproc_2_and_size(tmp_path):
    source = str(tmp_path / 'src')
    data = make_conic(source, groups=(('a_1', 2), ('b_2', 2)))
    conic.convert(source, str(tmp_path / 'one'), folds=2, size=64)
    conic.convert(source, str(tmp_path / 'two'), folds=2, size=64, nproc=2)
    one = read_tree(str(tmp_path / 'one'))
    assert one == read_tree(str(tmp_path / 'two'))
    inst = read_mask(osp.join(tmp_path, 'one', 'instances', 'a_1-0000.png'))
    assert inst.shape == (64, 64) and inst.dtype == np.uint16
    np.testing.assert_array_equal(
        inst, cv2.resize(data['labels'][0, ..., 0].astype(np.uint16),
                         (64, 64), interpolation=cv2.INTER_NEAREST))


def test_length_and_shape_mismatches_name_the_files(tmp_path):
    source = str(tmp_path / 'src')
    data = make_conic(source)
    out = str(tmp_path / 'out')
    write_conic(source, data['names'][:-1], data['images'], data['labels'],
                data['counts'])
    with pytest.raises(ConversionError,
                       match=r'patch_info\.csv lists 8 patch\(es\) but '
                       r'\S*images\.npy holds 9'):
        conic.convert(source, out)
    write_conic(source, data['names'], data['images'], data['labels'],
                data['counts'][:-2])
    with pytest.raises(ConversionError,
                       match=r'counts\.csv has 7 row\(s\) but \S*images\.npy'):
        conic.convert(source, out)
    write_conic(source, data['names'], data['images'],
                data['labels'][:, :128], data['counts'])
    with pytest.raises(ConversionError,
                       match=r'images\.npy\S* \(shape \(9, 256, 256, 3\)\) '
                       r'and \S*labels\.npy\S* \(shape \(9, 128, 256, 2\)\) '
                       'do not agree'):
        conic.convert(source, out)
    write_conic(source, data['names'], data['images'][..., :2],
                data['labels'], data['counts'])
    with pytest.raises(ConversionError,
                       match=r'images\.npy.*expected uint8 N x H x W x 3'):
        conic.convert(source, out)
    assert not osp.exists(out)


def test_counts_are_checked_with_the_challenge_rule(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    data = make_conic(source)
    counts = data['counts'].copy()
    k = int(np.argmax(counts[3]))
    counts[3, k] += 1
    write_conic(source, data['names'], data['images'], data['labels'],
                counts)
    with pytest.raises(ConversionError,
                       match=r'counts\.csv line 5 does not match .*'
                       r'patch 3 \(crag_2-0001\).*central 224x224'):
        conic.convert(source, out)
    assert not osp.exists(osp.join(out, 'conversion.json'))
    record = conic.convert(source, out, check_counts=False, overwrite=True)
    assert record['counts']['all'] == 9
    assert convert_conic.main([source, '-o', str(tmp_path / 'o2'),
                               '--skip-count-check', '--folds', '2']) == 0


def test_bad_class_ids_and_names(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    data = make_conic(source)
    labels = data['labels'].copy()
    labels[2, 100, 100, 1] = 7
    write_conic(source, data['names'], data['images'], labels,
                data['counts'])
    with pytest.raises(ConversionError,
                       match=r'labels\.npy.*patch 2 \(crag_2-0000\): class '
                       r'channel holds value\(s\) 7'):
        conic.convert(source, out, check_counts=False)
    names = list(data['names'])
    names[1] = 'no_index'
    names[4] = names[0]
    write_conic(source, names, data['images'], data['labels'],
                data['counts'])
    with pytest.raises(ConversionError, match=r"line 3: 'no_index'"):
        conic.convert(source, out)
    names[1] = 'consep_1-0001'
    write_conic(source, names, data['images'], data['labels'],
                data['counts'])
    with pytest.raises(ConversionError,
                       match=r'listed more than once: consep_1-0000'):
        conic.convert(source, out)


def test_fewer_groups_than_folds_is_an_error(tmp_path):
    source = str(tmp_path / 'src')
    make_conic(source, groups=(('a_1', 3), ('b_2', 2)))
    with pytest.raises(ConversionError,
                       match=r'--folds 5: .*only 2 group\(s\) \(a_1, b_2\)'):
        conic.convert(source, str(tmp_path / 'out'))
    assert not osp.exists(tmp_path / 'out')


def test_zip_and_missing_files(tmp_path):
    packed = tmp_path / 'packed'
    make_conic(str(tmp_path / 'raw'), groups=(('a_1', 1), ('b_2', 1)))
    packed.mkdir()
    with zipfile.ZipFile(packed / 'conic.zip', 'w') as zf:
        for fn in conic.FILES:
            zf.write(tmp_path / 'raw' / fn, f'data/{fn}')
    with pytest.raises(ConversionError,
                       match=r'inside the zip file .*conic\.zip.*extract it'):
        conic.convert(str(packed), str(tmp_path / 'out'))
    os.remove(tmp_path / 'raw' / 'counts.csv')
    with pytest.raises(ConversionError,
                       match=r'holds images\.npy but not counts\.csv'):
        conic.convert(str(tmp_path / 'raw'), str(tmp_path / 'out'))
