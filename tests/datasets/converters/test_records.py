"""converters/records.py: re-runs skip a sample by content, not by name
(case 5): a corrected source file or a damaged output is converted again,
and conversion.json holds what that decision needs."""
import hashlib
import json
import os
import os.path as osp

import numpy as np
import pytest

from sgdc_mmseg.datasets.converters import conic, isic2016
from sgdc_mmseg.datasets.converters.output import write_output
from sgdc_mmseg.datasets.converters.records import is_current

from .archives import (ISIC2016, SIZE, encode, make_conic, make_isic2016,
                       read_mask, read_tree, write_conic, write_folder)

TRAIN_MASKS = ISIC2016['train'][1]


def _mtimes(out):
    return {p: os.stat(osp.join(out, p)).st_mtime_ns
            for p in read_tree(out) if p.startswith(('images/', 'masks/',
                                                     'instances/'))}


def _summary(capsys):
    return capsys.readouterr().out


def _fixed_mask(seed=7):
    m = np.zeros(SIZE[::-1], np.uint8)
    m[2 + seed % 3:10, 3:15] = 255
    return m


@pytest.mark.parametrize('mode', ['dir', 'zip'])
def test_corrected_source_mask_is_converted_again(tmp_path, mode, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2016(source, mode)
    isic2016.convert(source, out)
    before = _mtimes(out)
    # correct one mask in SOURCE
    fixed = _fixed_mask()
    if mode == 'zip':  # the zip is rewritten: only one member's CRC changes
        masks = {f'{n}_Segmentation.png': encode('.png', m)
                 for n, (_, m) in written['train'].items()}
        masks['ISIC_0000002_Segmentation.png'] = encode('.png', fixed)
        os.remove(osp.join(source, TRAIN_MASKS + '.zip'))
        write_folder(source, TRAIN_MASKS, masks, mode)
    else:
        path = osp.join(source, TRAIN_MASKS, 'ISIC_0000002_Segmentation.png')
        old = os.stat(path)
        with open(path, 'wb') as f:
            f.write(encode('.png', fixed))
        new = os.stat(path)  # the precondition of a size + mtime signature
        assert (new.st_size, new.st_mtime_ns) != (old.st_size,
                                                  old.st_mtime_ns)
    _summary(capsys)
    record = isic2016.convert(source, out)
    assert '(1 written, 4 already there' in _summary(capsys)
    np.testing.assert_array_equal(
        read_mask(osp.join(out, 'masks', 'ISIC_0000002.png')),
        (fixed == 255).astype(np.uint8))
    after = _mtimes(out)
    changed = sorted(p for p in before if after[p] != before[p])
    assert changed == ['images/ISIC_0000002.jpg', 'masks/ISIC_0000002.png']
    with open(osp.join(out, 'conversion.json')) as f:
        assert json.load(f) == record


@pytest.mark.parametrize('damage', ['truncated', 'same size', 'link'])
def test_damaged_output_is_written_again(tmp_path, damage, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source, 'zip')
    isic2016.convert(source, out)
    good = read_tree(out)
    target = osp.join(out, 'images', 'ISIC_0000100.jpg')
    with open(target, 'rb') as f:
        data = f.read()
    if damage == 'truncated':
        with open(target, 'wb') as f:
            f.write(data[:len(data) // 2])
    elif damage == 'same size':
        with open(target, 'r+b') as f:
            f.seek(len(data) // 2)
            f.write(bytes([data[len(data) // 2] ^ 0xFF]))
    else:  # a link to an identical copy elsewhere is not an output
        other = str(tmp_path / 'elsewhere.jpg')
        with open(other, 'wb') as f:
            f.write(data)
        os.remove(target)
        os.symlink(other, target)
    _summary(capsys)
    isic2016.convert(source, out)
    assert '(1 written, 4 already there' in _summary(capsys)
    assert read_tree(out) == good
    assert not osp.islink(target)


def test_record_holds_sources_and_output_digests(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source, 'zip', train=1, test=1)
    record = isic2016.convert(source, out)
    entry = record['sample_files']['ISIC_0000000']
    assert set(entry['sources']) == {'image', 'mask'}
    assert set(entry['sources']['image']) == {'size', 'crc32'}
    for rel, digest in entry['outputs'].items():
        with open(osp.join(out, rel), 'rb') as f:
            data = f.read()
        assert digest == dict(size=len(data),
                              sha1=hashlib.sha1(data).hexdigest())
    assert sorted(entry['outputs']) == ['images/ISIC_0000000.jpg',
                                        'masks/ISIC_0000000.png']


def test_is_current_checks_sources_outputs_and_names(tmp_path):
    root = str(tmp_path)
    os.makedirs(osp.join(root, 'masks'))
    digest = write_output(root, 'masks/a.png', b'12345')
    prev = dict(sources={'m': 1}, outputs={'masks/a.png': digest})
    assert is_current(prev, {'m': 1}, root, ['masks/a.png'])
    assert not is_current(prev, {'m': 2}, root, ['masks/a.png'])
    assert not is_current(prev, {'m': 1}, root, ['masks/a.png', 'x/a.png'])
    assert not is_current(None, {'m': 1}, root, ['masks/a.png'])
    with open(osp.join(root, 'masks', 'a.png'), 'wb') as f:
        f.write(b'12346')
    assert not is_current(prev, {'m': 1}, root, ['masks/a.png'])


def test_conic_changed_patch_and_damaged_output(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    data = make_conic(source, size=32, groups=(('a_1', 2), ('b_2', 2)))
    conic.convert(source, out, folds=2, check_counts=False)
    good = read_tree(out)
    labels = data['labels'].copy()
    labels[1, 0, 0, 1] = 5  # a corrected class in patch 1
    write_conic(source, data['names'], data['images'], labels,
                data['counts'])
    name = data['names'][1]
    with open(osp.join(out, 'instances', data['names'][3] + '.png'),
              'ab') as f:
        f.write(b'x')  # damaged output of patch 3
    _summary(capsys)
    conic.convert(source, out, folds=2, check_counts=False)
    assert '(2 written, 2 already there' in _summary(capsys)
    assert read_mask(osp.join(out, 'masks', name + '.png'))[0, 0] == 5
    now = read_tree(out, skip=['conversion.json'])
    assert {k for k in now if now[k] != good[k]} == {f'masks/{name}.png'}
