"""The machinery of converters/common.py that every converter shares: full
decoding of every image and mask, content-based skipping on a re-run,
refusing writes that resolve into SOURCE, degenerate sizes."""
import json
import os
import os.path as osp
import zipfile

import numpy as np
import pytest

from sgdc_mmseg.datasets.converters import (ConversionError, conic, isic2016,
                                            ph2)
from sgdc_mmseg.datasets.converters.common import (check_decodes,
                                                   is_current, write_output)

from .archives import (ISIC2016, PH2_ROOT, SIZE, encode,
                       make_conic, make_isic2016, make_ph2, read_mask,
                       read_tree, snapshot, write_conic, write_folder)

TRAIN_IMAGES, TRAIN_MASKS = ISIC2016['train']


def _mtimes(out):
    return {p: os.stat(osp.join(out, p)).st_mtime_ns
            for p in read_tree(out) if p.startswith(('images/', 'masks/',
                                                     'instances/'))}


def _summary(capsys):
    return capsys.readouterr().out


# --------------------------------------------------------------------- #
# corrupt sources are refused (case 4)
# --------------------------------------------------------------------- #
@pytest.mark.parametrize('mode', ['dir', 'zip'])
def test_truncated_isic_jpeg_is_refused_naming_it(tmp_path, mode):
    """The JPEG is copied byte for byte; it used to be copied without being
    decoded, so training failed later on the output copy."""
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2016(source, 'dir')
    jpeg = written['train']['ISIC_0000001'][0]
    files = {f'{n}.jpg': j for n, (j, _) in written['train'].items()}
    files['ISIC_0000001.jpg'] = jpeg[:len(jpeg) - 40]  # header intact
    if mode == 'zip':
        import shutil
        shutil.rmtree(osp.join(source, TRAIN_IMAGES))
    write_folder(source, TRAIN_IMAGES, files, mode)
    with pytest.raises(ConversionError) as err:
        isic2016.convert(source, out)
    msg = str(err.value)
    assert '1 of 5 sample(s) failed' in msg
    assert 'cannot decode the image' in msg and 'truncated' in msg
    assert 'ISIC_0000001.jpg' in msg and 'ISIC_0000002' not in msg
    assert not osp.exists(osp.join(out, 'conversion.json'))
    assert not osp.exists(osp.join(out, 'images', 'ISIC_0000001.jpg'))


def test_truncated_or_garbage_files_are_refused_by_check_decodes():
    rng = np.random.default_rng(0)
    png = encode('.png', rng.integers(0, 256, (30, 40), dtype=np.uint8))
    with pytest.raises(ConversionError, match=r'cannot decode the mask '
                       r'a/m\.png \(truncated or corrupt\?\)'):
        check_decodes(png[:len(png) // 2], 'a/m.png', 'mask')
    with pytest.raises(ConversionError, match='cannot decode the image x'):
        check_decodes(b'garbage', 'x')
    check_decodes(png, 'fine.png')  # no error


# --------------------------------------------------------------------- #
# degenerate sizes (case 7)
# --------------------------------------------------------------------- #
@pytest.mark.parametrize('size', [(1, 5), (5, 1), (1, 1)])
def test_degenerate_sample_is_refused_with_its_shape(tmp_path, size):
    source = str(tmp_path / 'src')
    extra = {
        'IMD004/IMD004_Dermoscopic_Image/IMD004.bmp':
        encode('.bmp', np.full(size + (3, ), 90, np.uint8)),
        'IMD004/IMD004_lesion/IMD004_lesion.bmp':
        encode('.bmp', np.full(size, 255, np.uint8)),
    }
    make_ph2(source, cases={'IMD002': (20, 16)}, extra=extra)
    with pytest.raises(ConversionError) as err:
        ph2.convert(source, str(tmp_path / 'out'))
    msg = str(err.value)
    assert 'IMD004_lesion.bmp is ' f'{size[0]}x{size[1]} (H x W)' in msg
    assert 'at least 2x2' in msg and 'IMD002' not in msg


def test_size_below_2_is_refused(tmp_path, capsys):
    source = str(tmp_path / 'src')
    make_isic2016(source)
    with pytest.raises(ConversionError, match=r'integers >= 2'):
        isic2016.convert(source, str(tmp_path / 'out'), size=(1, 8))
    with pytest.raises(SystemExit):
        isic2016.main([source, '-o', str(tmp_path / 'o'), '--size', '1'])
    assert 'integers >= 2' in capsys.readouterr().err


# --------------------------------------------------------------------- #
# re-runs skip by content, not by name (case 5)
# --------------------------------------------------------------------- #
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


def test_records_of_passed_samples_survive_a_failed_run(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2016(source)
    good = encode('.png', written['test']['ISIC_0000101'][1])
    bad = osp.join(source, ISIC2016['test'][1],
                   'ISIC_0000101_Segmentation.png')
    with open(bad, 'wb') as f:
        f.write(encode('.png', np.full(SIZE[::-1], 3, np.uint8)))
    with pytest.raises(ConversionError):
        isic2016.convert(source, out)
    with open(osp.join(out, '.conversion_pending.json')) as f:
        pending = json.load(f)
    assert sorted(pending['sample_files']) == [
        'ISIC_0000000', 'ISIC_0000001', 'ISIC_0000002', 'ISIC_0000100']
    with open(bad, 'wb') as f:
        f.write(good)
    _summary(capsys)
    isic2016.convert(source, out)
    assert '(1 written, 4 already there' in _summary(capsys)


def test_record_holds_sources_and_output_digests(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source, 'zip', train=1, test=1)
    record = isic2016.convert(source, out)
    entry = record['sample_files']['ISIC_0000000']
    assert set(entry['sources']) == {'image', 'mask'}
    assert set(entry['sources']['image']) == {'size', 'crc32'}
    import hashlib
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


# --------------------------------------------------------------------- #
# writes resolving into SOURCE are refused (case 8)
# --------------------------------------------------------------------- #
@pytest.mark.parametrize('entry', ['masks', 'images', 'splits'])
def test_output_entry_linked_into_source_is_refused(tmp_path, entry):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source)
    isic2016.convert(source, out)
    target = osp.join(source, TRAIN_MASKS)
    path = osp.join(out, entry)
    import shutil
    shutil.rmtree(path)
    os.symlink(target, path)
    before = snapshot(source)
    for kwargs in ({}, {'overwrite': True}, {'size': 12}):
        with pytest.raises(ConversionError) as err:
            isic2016.convert(source, out, **kwargs)
        msg = str(err.value)
        assert repr(path) in msg and osp.realpath(target) in msg
        assert 'lies inside SOURCE' in msg and 'nothing was written' in msg
        assert snapshot(source) == before
    assert os.readlink(path) == target


def test_output_linked_into_an_input_outside_source_is_refused(tmp_path):
    """SOURCE's ground-truth folder is itself a link to a folder elsewhere,
    and OUT/masks links there too."""
    real = str(tmp_path / 'real')
    make_isic2016(real)
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    os.makedirs(source)
    for folders in ISIC2016.values():
        for folder in folders:
            os.symlink(osp.join(real, folder), osp.join(source, folder))
    os.makedirs(out)
    os.symlink(osp.join(real, TRAIN_MASKS), osp.join(out, 'masks'))
    before = snapshot(real)
    with pytest.raises(ConversionError, match='lies inside SOURCE'):
        isic2016.convert(source, out, overwrite=True)
    assert snapshot(real) == before
    # PH2's SOURCE may be a zip file: OUT next to it is not inside it
    make_ph2(str(tmp_path / 'ph2'), 'zip')
    zip_path = str(tmp_path / 'ph2' / (PH2_ROOT + '.zip'))
    assert zipfile.is_zipfile(zip_path)
    record = ph2.convert(zip_path, str(tmp_path / 'ph2' / 'out'))
    assert record['counts'] == {'all': 3}
