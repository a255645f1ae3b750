"""MoNuSeg converter: the official layouts (training folder with Tissue
Images/ + Annotations/, test folder with .tif beside .xml; extracted or
zipped; SOURCE being one of them itself), the tile-folder layout (tiles +
grey+alpha masks + XML for a subset), where the masks come from, the
overlap rule, errors naming files, re-runs, the command line, and the check
on the real tiles of ../shared (skipped when absent)."""
import io
import json
import os
import os.path as osp
import shutil
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from sgdc_mmseg.cli import convert_monuseg
from sgdc_mmseg.datasets.converters import ConversionError, monuseg
from sgdc_mmseg.datasets.splits import kfold

from .archives import read_lines, read_tree, snapshot

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
REAL = osp.join(REPO_ROOT, '..', 'shared', 'data', 'monuseg-train')
TRAIN, TEST = monuseg.TRAIN_FOLDER, monuseg.TEST_FOLDER
W, H = 40, 32


# ---------------------------------------------------------------------------
# tiny official files
# ---------------------------------------------------------------------------
def tile(seed: int) -> np.ndarray:
    """An RGB uint8 tile."""
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), np.uint8)


def tif_bytes(rgb: np.ndarray, mode: str = 'RGB') -> bytes:
    buf = io.BytesIO()
    im = Image.fromarray(rgb)
    if mode == 'RGBA':
        im = im.convert('RGBA')
    im.save(buf, format='TIFF')
    return buf.getvalue()


def polygons(seed: int):
    """Three nuclei: two that overlap (the second one smaller) and one
    with a vertex outside the tile."""
    dx = seed % 5
    return [
        ('1', [(3 + dx, 3), (14 + dx, 3), (14 + dx, 13), (3 + dx, 13)]),
        ('2', [(11 + dx, 9.5), (18.5 + dx, 9.5), (18.5 + dx, 16),
               (11 + dx, 16)]),
        ('3', [(30.2, 20.7), (W + 2.5, 22.0), (36.0, H + 1.0)]),
    ]


def xml_bytes(regions) -> bytes:
    body = ''.join(
        f'<Region Id="{rid}" Type="0"><Attributes/><Vertices>' +
        ''.join(f'<Vertex X="{x}" Y="{y}"/>' for x, y in verts) +
        '</Vertices></Region>' for rid, verts in regions)
    return ('<Annotations MicronsPerPixel="0.252700"><Annotation Id="1">'
            f'<Regions>{body}</Regions></Annotation></Annotations>').encode()


def expected_from_xml(regions):
    """What the converter must write: union = every polygon filled on one
    image (boundary included); instance ids 1..N in file order, overlaps
    to the smaller polygon."""
    union = Image.new('L', (W, H), 0)
    for _, verts in regions:
        ImageDraw.Draw(union).polygon(verts, fill=1, outline=1)
    singles = []
    for _, verts in regions:
        im = Image.new('L', (W, H), 0)
        ImageDraw.Draw(im).polygon(verts, fill=1, outline=1)
        singles.append(np.asarray(im) > 0)
    inst = np.zeros((H, W), np.uint16)
    order = sorted(range(len(singles)), key=lambda i: -singles[i].sum())
    for i in order:
        inst[singles[i]] = i + 1
    return np.asarray(union), inst


def la_png(mask01: np.ndarray) -> bytes:
    """A 2-channel grey+alpha PNG, both channels 0/255 (the shared masks)."""
    grey = (mask01 * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.dstack([grey, grey]), 'LA').save(buf, format='PNG')
    return buf.getvalue()


def official_files(split: str, names, seed: int = 0):
    """``({relative path: bytes}, {name: (rgb, regions)})`` of one official
    folder."""
    files, truth = {}, {}
    for k, name in enumerate(names):
        rgb, regions = tile(seed + k), polygons(seed + k)
        if split == 'train':
            files[f'Tissue Images/{name}.tif'] = tif_bytes(rgb)
            files[f'Annotations/{name}.xml'] = xml_bytes(regions)
        else:
            files[f'{name}.tif'] = tif_bytes(rgb)
            files[f'{name}.xml'] = xml_bytes(regions)
        truth[name] = (rgb, regions)
    return files, truth


def write(root: str, folder: str, files, mode: str = 'dir') -> None:
    """``folder`` under ``root`` as a folder or as ``folder.zip`` holding
    ``folder/...``."""
    os.makedirs(root, exist_ok=True)
    if mode == 'dir':
        for rel, data in files.items():
            path = osp.join(root, folder, *rel.split('/'))
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)
    else:
        with zipfile.ZipFile(osp.join(root, folder + '.zip'), 'w') as zf:
            for rel, data in files.items():
                zf.writestr(f'{folder}/{rel}', data)


TRAIN_NAMES = ['TCGA-A1', 'TCGA-B2', 'TCGA-C3']
TEST_NAMES = ['TCGA-T1', 'TCGA-T2']


def make_official(source: str, mode: str = 'dir', train=True, test=True):
    truth = {}
    if train:
        files, t = official_files('train', TRAIN_NAMES)
        write(source, TRAIN, files, mode)
        truth.update(t)
    if test:
        files, t = official_files('test', TEST_NAMES, seed=10)
        write(source, TEST, files, mode)
        truth.update(t)
    return truth


def make_tile_folder(source: str, with_xml=('TCGA-A1', ), names=TRAIN_NAMES):
    """tissue_images/ + masks/ (grey+alpha) for every name, annotations/
    for ``with_xml``; a mask given with an XML differs in one pixel."""
    truth = {}
    for k, name in enumerate(names):
        rgb, regions = tile(k), polygons(k)
        union, _ = expected_from_xml(regions)
        given = union.copy()
        if name in with_xml:
            given[0, 0] = 1 - given[0, 0]
        files = {f'tissue_images/{name}.tif': tif_bytes(rgb),
                 f'masks/{name}.png': la_png(given)}
        if name in with_xml:
            files[f'annotations/{name}.xml'] = xml_bytes(regions)
        for rel, data in files.items():
            path = osp.join(source, rel)
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)
        truth[name] = (rgb, regions, given)
    return truth


def read(out, sub, name):
    return cv2.imread(osp.join(out, sub, name + '.png'), cv2.IMREAD_UNCHANGED)


def check_xml_outputs(out, truth):
    for name, (rgb, regions, *_) in truth.items():
        img = cv2.imread(osp.join(out, 'images', name + '.png'))
        np.testing.assert_array_equal(img, rgb[..., ::-1])  # lossless, BGR
        union, inst = expected_from_xml(regions)
        mask = read(out, 'masks', name)
        assert mask.dtype == np.uint8
        np.testing.assert_array_equal(mask, union)
        got = read(out, 'instances', name)
        assert got.dtype == np.uint16
        np.testing.assert_array_equal(got, inst)


# ---------------------------------------------------------------------------
# official layouts
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('mode', ['dir', 'zip'])
def test_official_train_and_test(tmp_path, mode):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    truth = make_official(source, mode)
    before = snapshot(source)
    record = monuseg.convert(source, out, folds=3, seed=1)
    assert snapshot(source) == before  # SOURCE untouched
    check_xml_outputs(out, truth)
    assert read_lines(osp.join(out, 'splits', 'train.txt')) == TRAIN_NAMES
    assert read_lines(osp.join(out, 'splits', 'test.txt')) == TEST_NAMES
    for i, (tr, va) in enumerate(kfold(TRAIN_NAMES, 3, seed=1)):
        assert read_lines(osp.join(out, 'splits', f'fold{i}_train.txt')) \
            == tr
        assert read_lines(osp.join(out, 'splits', f'fold{i}_val.txt')) == va
    assert record['counts']['train'] == 3 and record['counts']['test'] == 2
    assert record['missing_splits'] == {}
    assert record['mask_from'] == {'train': {'xml': 3, 'mask': 0},
                                   'test': {'xml': 2, 'mask': 0}}
    assert record['options']['rasterizer'].startswith(
        'PIL.ImageDraw.polygon (Pillow ')
    sample = record['sample_files']['TCGA-A1']
    assert sample['mask_from'] == 'xml'
    assert sample['annotation'] == dict(
        regions=3, instances=3, empty=[], degenerate=[], clipped=['3'],
        hidden=[], overlap_pixels=sample['annotation']['overlap_pixels'])
    assert sample['annotation']['overlap_pixels'] > 0
    assert set(sample['sources']) == {'image', 'xml'}
    assert record['annotations']['samples_with_clipped_regions'] == [
        f'{n} (1)' for n in sorted(TRAIN_NAMES + TEST_NAMES)]
    with open(osp.join(out, 'conversion.json')) as f:
        assert json.load(f) == record


def test_zip_and_folder_give_the_same_files(tmp_path):
    make_official(str(tmp_path / 'a'), 'dir')
    make_official(str(tmp_path / 'b'), 'zip')
    monuseg.convert(str(tmp_path / 'a'), str(tmp_path / 'oa'), folds=0)
    monuseg.convert(str(tmp_path / 'b'), str(tmp_path / 'ob'), folds=0)
    skip = ['conversion.json']
    assert read_tree(str(tmp_path / 'oa'), skip) == \
        read_tree(str(tmp_path / 'ob'), skip)


def test_source_may_be_an_official_folder_or_zip_itself(tmp_path):
    make_official(str(tmp_path / 'a'), 'dir')
    rec = monuseg.convert(str(tmp_path / 'a' / TRAIN), str(tmp_path / 'o1'),
                          folds=0)
    assert rec['counts'] == {'train': 3}
    assert rec['missing_splits'] == {'test': 'not found in SOURCE'}
    rec = monuseg.convert(str(tmp_path / 'a' / TEST), str(tmp_path / 'o2'),
                          folds=0)
    assert rec['counts'] == {'test': 2}
    make_official(str(tmp_path / 'b'), 'zip')
    rec = monuseg.convert(str(tmp_path / 'b' / (TRAIN + '.zip')),
                          str(tmp_path / 'o3'), folds=0)
    assert rec['counts'] == {'train': 3}
    check_xml_outputs(str(tmp_path / 'o3'),
                      {n: v for n, v in make_official(
                          str(tmp_path / 'c'), test=False).items()})


def test_training_zip_without_wrapper_folder(tmp_path):
    files, truth = official_files('train', TRAIN_NAMES)
    os.makedirs(tmp_path / 'src')
    with zipfile.ZipFile(tmp_path / 'src' / (TRAIN + '.zip'), 'w') as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)
    monuseg.convert(str(tmp_path / 'src'), str(tmp_path / 'out'), folds=0)
    check_xml_outputs(str(tmp_path / 'out'), truth)


def test_only_the_test_set_gives_no_folds(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_official(source, 'zip', train=False)
    record = monuseg.convert(source, out)  # default folds=5
    assert sorted(os.listdir(osp.join(out, 'splits'))) == ['test.txt']
    assert record['folds_skipped'] == 'no training set in SOURCE'
    assert record['missing_splits'] == {'train': 'not found in SOURCE'}
    text = capsys.readouterr().out
    assert 'no fold files: no training set in SOURCE' in text
    assert "split 'train' not converted" in text


# ---------------------------------------------------------------------------
# the tile-folder layout (../shared/data/monuseg-train)
# ---------------------------------------------------------------------------
def test_tile_folder_masks_from_xml_or_given_mask(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    truth = make_tile_folder(source)
    before = snapshot(source)
    record = monuseg.convert(source, out, folds=0)
    assert snapshot(source) == before
    assert record['inputs'] == {'train': {'layout': 'tile folder',
                                          'location': source}}
    assert record['mask_from'] == {'train': {'xml': 1, 'mask': 2}}
    files = record['sample_files']
    # with XML: mask and instances from it, the given mask only compared
    check_xml_outputs(out, {'TCGA-A1': truth['TCGA-A1']})
    assert files['TCGA-A1']['mask_from'] == 'xml'
    assert files['TCGA-A1']['given_mask_differs_px'] == 1
    assert set(files['TCGA-A1']['sources']) == {'image', 'xml', 'mask'}
    # without: the given (grey+alpha 0/255) mask as 0/1, no instances
    for name in ('TCGA-B2', 'TCGA-C3'):
        assert files[name]['mask_from'] == 'mask'
        assert 'annotation' not in files[name]
        np.testing.assert_array_equal(read(out, 'masks', name),
                                      truth[name][2])
        assert not osp.exists(osp.join(out, 'instances', name + '.png'))
        assert set(files[name]['outputs']) == {f'images/{name}.png',
                                               f'masks/{name}.png'}
    assert sorted(os.listdir(osp.join(out, 'instances'))) == ['TCGA-A1.png']


@pytest.mark.parametrize('arr, expected', [
    (np.dstack([np.full((H, W), 255, np.uint8),
                np.full((H, W), 128, np.uint8)]),
     'alpha channel is neither opaque nor equal to the grey channel'),
    (np.dstack([np.full((H, W), 100, np.uint8),
                np.full((H, W), 255, np.uint8)]),
     'holds value(s) 100'),
])
def test_bad_given_mask_names_the_file(tmp_path, arr, expected):
    source = str(tmp_path / 'src')
    make_tile_folder(source, with_xml=())
    bad = osp.join(source, 'masks', 'TCGA-B2.png')
    Image.fromarray(arr, 'LA').save(bad)
    with pytest.raises(ConversionError) as e:
        monuseg.convert(source, str(tmp_path / 'out'), folds=0)
    assert bad in str(e.value) and expected in str(e.value)


def test_given_mask_of_another_size_is_refused(tmp_path):
    source = str(tmp_path / 'src')
    make_tile_folder(source, with_xml=())
    bad = osp.join(source, 'masks', 'TCGA-C3.png')
    with open(bad, 'wb') as f:
        f.write(la_png(np.zeros((H, W + 2), np.uint8)))
    with pytest.raises(ConversionError, match='is 40x32 \\(WxH\\) but its '
                       'mask .*TCGA-C3.png is 42x32'):
        monuseg.convert(source, str(tmp_path / 'out'), folds=0)


# ---------------------------------------------------------------------------
# errors name the files
# ---------------------------------------------------------------------------
def test_malformed_xml_names_the_file_and_other_samples_are_kept(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_official(source, 'dir', test=False)
    bad = osp.join(source, TRAIN, 'Annotations', 'TCGA-B2.xml')
    with open(bad, 'wb') as f:
        f.write(b'<Annotations><Region Id="1"><Vertices>')
    with pytest.raises(ConversionError) as e:
        monuseg.convert(source, out, folds=0)
    assert bad in str(e.value) and 'not well-formed XML' in str(e.value)
    assert '1 of 3 sample(s) failed' in str(e.value)
    assert not osp.exists(osp.join(out, 'conversion.json'))
    assert osp.isfile(osp.join(out, 'instances', 'TCGA-A1.png'))


def test_pairing_and_unexpected_files_are_listed(tmp_path):
    source = str(tmp_path / 'src')
    files, _ = official_files('train', TRAIN_NAMES)
    del files['Annotations/TCGA-B2.xml']
    files['Annotations/TCGA-Z9.xml'] = xml_bytes(polygons(0))
    files['Tissue Images/notes.txt'] = b'x'
    write(source, TRAIN, files)
    with pytest.raises(ConversionError) as e:
        monuseg.convert(source, str(tmp_path / 'out'), folds=0)
    msg = str(e.value)
    assert '3 problem(s)' in msg
    assert 'have no XML annotation: TCGA-B2' in msg
    assert '1 XML annotation(s)' in msg and 'TCGA-Z9.xml' in msg
    assert 'unexpected file(s) (expected only Tissue Images/<id>.tif and ' \
        'Annotations/<id>.xml): Tissue Images/notes.txt' in msg
    assert not osp.exists(tmp_path / 'out')  # nothing written


def test_two_training_sets_are_refused(tmp_path):
    source = str(tmp_path / 'src')
    make_official(source, 'dir', test=False)
    make_tile_folder(source)
    with pytest.raises(ConversionError, match='two train sets in .*keep '
                       'one'):
        monuseg.convert(source, str(tmp_path / 'out'), folds=0)


def test_no_monuseg_data_and_bad_folds(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ConversionError, match='no MoNuSeg data found'):
        monuseg.convert(str(tmp_path / 'empty'), str(tmp_path / 'out'))
    make_official(str(tmp_path / 'src'), test=False)
    with pytest.raises(ConversionError, match='--folds 5: .*only 3 names'):
        monuseg.convert(str(tmp_path / 'src'), str(tmp_path / 'out'))


def test_transparent_tile_is_refused(tmp_path):
    source = str(tmp_path / 'src')
    files, _ = official_files('test', TEST_NAMES)
    rgba = np.dstack([tile(0), np.full((H, W), 7, np.uint8)])
    buf = io.BytesIO()
    Image.fromarray(rgba, 'RGBA').save(buf, format='TIFF')
    files['TCGA-T1.tif'] = buf.getvalue()
    write(source, TEST, files)
    with pytest.raises(ConversionError, match=r'TCGA-T1.tif has 1280 '
                       'transparent pixel'):
        monuseg.convert(source, str(tmp_path / 'out'))


# ---------------------------------------------------------------------------
# re-runs and the command line
# ---------------------------------------------------------------------------
def test_rerun_skips_and_a_changed_xml_is_converted_again(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_official(source, 'dir', test=False)
    monuseg.convert(source, out, folds=0)
    first = read_tree(out)
    capsys.readouterr()
    monuseg.convert(source, out, folds=0)
    assert '(0 written, 3 already there' in capsys.readouterr().out
    assert read_tree(out) == first
    xml = osp.join(source, TRAIN, 'Annotations', 'TCGA-C3.xml')
    regions = polygons(2)[:1]
    with open(xml, 'wb') as f:
        f.write(xml_bytes(regions))
    record = monuseg.convert(source, out, folds=0)
    assert '(1 written, 2 already there' in capsys.readouterr().out
    assert record['sample_files']['TCGA-C3']['annotation']['regions'] == 1
    np.testing.assert_array_equal(read(out, 'instances', 'TCGA-C3'),
                                  expected_from_xml(regions)[1])
    with pytest.raises(ConversionError, match='other settings'):
        monuseg.convert(source, out, folds=3)


def test_size_resizes_instances_nearest(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    truth = make_official(source, 'dir', test=False)
    monuseg.convert(source, out, folds=0, size=(20, 16))
    for name, (_, regions) in truth.items():
        _, inst = expected_from_xml(regions)
        got = read(out, 'instances', name)
        assert got.shape == (16, 20) and got.dtype == np.uint16
        np.testing.assert_array_equal(
            got, cv2.resize(inst, (20, 16), interpolation=cv2.INTER_NEAREST))
        np.testing.assert_array_equal(read(out, 'masks', name),
                                      (got > 0).astype(np.uint8))


def test_cli_exit_status_and_messages(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_official(source, 'zip')
    assert convert_monuseg.main([source, '-o', out, '--folds', '2']) == 0
    text = capsys.readouterr().out
    assert 'monuseg: 5 sample(s)' in text
    assert 'train: masks from XML for 3 tile(s)' in text
    assert 'clipped regions (vertices outside the tile: clipped)' in text
    assert read_lines(osp.join(out, 'splits', 'fold1_val.txt'))
    assert convert_monuseg.main([str(tmp_path / 'nowhere'), '-o', out]) == 1
    assert 'neither a folder nor a zip file' in capsys.readouterr().err


# ---------------------------------------------------------------------------
# the real tiles
# ---------------------------------------------------------------------------
def _real_annotated():
    if not osp.isdir(osp.join(REAL, 'annotations')):
        return []
    return sorted(f[:-4] for f in os.listdir(osp.join(REAL, 'annotations'))
                  if f.endswith('.xml'))


@pytest.mark.slow
@pytest.mark.skipif(not _real_annotated(),
                    reason='../shared/data/monuseg-train is absent')
def test_real_tiles_xml_reproduces_the_shared_masks(tmp_path):
    """The 13 shared tiles with XML: filling every polygon reproduces the
    shared masks exactly with Pillow <= 11.0; Pillow changed its fill rule
    before 11.3 (measured with 13.0: 0..5 edge pixels per tile differ from
    the shared masks, made with an older Pillow; 20 missing, 1 extra).
    Nothing else may differ."""
    import PIL
    names = _real_annotated()
    source = tmp_path / 'src'
    for sub in ('tissue_images', 'masks', 'annotations'):
        (source / sub).mkdir(parents=True)
    for n in names:  # links: the tiles are read, never copied or written
        for sub, ext in (('tissue_images', '.tif'), ('masks', '.png'),
                         ('annotations', '.xml')):
            os.symlink(osp.join(REAL, sub, n + ext), source / sub / (n + ext))
    record = monuseg.convert(str(source), str(tmp_path / 'out'), folds=0,
                             nproc=2)
    old_pillow = tuple(int(p) for p in PIL.__version__.split('.')[:2]) < (
        11, 1)
    for n in names:
        rec = record['sample_files'][n]
        assert rec['mask_from'] == 'xml'
        assert rec['annotation']['empty'] == []
        ours = read(str(tmp_path / 'out'), 'masks', n)
        shared = np.asarray(Image.open(osp.join(REAL, 'masks', n + '.png')))
        shared = (shared[..., 0] == 255).astype(np.uint8)
        differ = ours != shared
        assert int(differ.sum()) == rec['given_mask_differs_px']
        if old_pillow:
            assert not differ.any(), n
            continue
        assert differ.sum() <= 5, n
        # single pixels at a nucleus (an edge pixel, or a one-pixel hole in
        # the shared mask): a nucleus pixel of both masks in each one's 3x3
        kernel = np.ones((3, 3), np.uint8)
        assert (cv2.dilate(ours, kernel)[differ] == 1).all(), n
        assert (cv2.dilate(shared, kernel)[differ] == 1).all(), n
        inst = read(str(tmp_path / 'out'), 'instances', n)
        np.testing.assert_array_equal(inst > 0, ours > 0)


def test_converted_folder_feeds_the_base_config(tmp_path):
    """The chain: official zips -> converter -> the test loader of
    configs/_base_/datasets/monuseg.py -> data samples whose ``instances``
    are the converted instance maps."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import DATASETS
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    truth = make_official(source, 'zip')
    monuseg.convert(source, out, folds=0)
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_',
                                   'datasets', 'monuseg.py'))
    cfg.test_dataloader.dataset.data_root = out
    with DefaultScope.overwrite_default_scope('mmseg'):
        ds = DATASETS.build(cfg.test_dataloader.dataset)
    assert ds.num_with_instances == len(ds) == len(TEST_NAMES)
    for i, name in enumerate(TEST_NAMES):
        sample = ds[i]['data_samples']
        union, inst = expected_from_xml(truth[name][1])
        np.testing.assert_array_equal(sample.instances.data[0].numpy(), inst)
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      union)
