"""sgdc_mmseg.apis.outputs: output folders vs input folders, the record of
the tools' own files, atomic writes."""
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

import sgdc_mmseg  # noqa: F401
from helpers import REPO_ROOT
from sgdc_mmseg.apis.outputs import (MANIFEST_NAME, STAGING_NAME,
                                     ForeignFileError, OutputNotWritableError,
                                     OutputRecord, UnsafeOutputError,
                                     atomic_write, check_output_dir,
                                     dataset_input_dirs, finish_test_outputs,
                                     image_input_dirs, input_dirs_of_test_data,
                                     prepare_output_dir, staging_dir)


@pytest.fixture
def data(tmp_path):
    """DATA/images/a.png and DATA/masks/a.png (the project's layout)."""
    root = tmp_path / 'DATA'
    for sub in ('images', 'masks'):
        (root / sub).mkdir(parents=True)
        (root / sub / 'a.png').write_bytes(b'png ' + sub.encode())
    return root


@pytest.mark.parametrize('out,how', [
    ('DATA', 'contains'),
    ('DATA/images', 'is'),
    ('DATA/images/preds', 'lies inside'),
])
def test_check_output_dir_refuses_overlap(data, tmp_path, out, how):
    out = str(tmp_path / out)
    images = str(data / 'images')
    with pytest.raises(UnsafeOutputError) as info:
        check_output_dir(out, [images])
    msg = str(info.value)
    assert f'output folder "{out}" {how} the input folder "{images}"' in msg
    assert 'choose a folder outside every input folder' in msg


def test_check_output_dir_allows_a_sibling(data, tmp_path):
    out = tmp_path / 'DATA' / 'preds'
    inputs = [(str(data / 'images'), 'image folder of x'),
              (str(data / 'masks'), 'mask folder of x')]
    assert check_output_dir(str(out), inputs) == osp.realpath(str(out))
    assert not out.exists()  # a pure check: nothing created


def test_check_output_dir_resolves_symlinks(data, tmp_path):
    link = tmp_path / 'link'
    link.symlink_to(data / 'masks')
    with pytest.raises(UnsafeOutputError,
                       match=r'"[^"]*link" \(= [^)]*DATA/masks\) is the mask '
                       'folder'):
        check_output_dir(str(link), [(str(data / 'masks'), 'mask folder')])
    # an input given through a symlink is resolved too
    with pytest.raises(UnsafeOutputError, match='lies inside'):
        check_output_dir(str(data / 'masks' / 'x'), [str(link)])


def test_image_input_dirs(data, tmp_path):
    single = tmp_path / 'one' / 'b.png'
    single.parent.mkdir()
    single.write_bytes(b'x')
    dirs = image_input_dirs([str(data / 'images'), str(single)],
                            [str(data / 'images' / 'a.png'), str(single)])
    assert dirs == sorted([str(data / 'images'), str(single.parent)])


def test_dataset_input_dirs_conventions(tmp_path):
    # BaseSegDataset as written in the config
    got = dataset_input_dirs(dict(
        type='BaseSegDataset', data_root='/d',
        data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir')), 'ds')
    assert got == [('/d/img_dir', 'image folder of ds'),
                   ('/d/ann_dir', 'mask folder of ds')]
    # BaseSegDataset's own default prefix '' is data_root itself
    assert [p for p, _ in dataset_input_dirs(
        dict(type='BaseSegDataset', data_root='/d'))] == ['/d', '/d']
    # MedicalFolderDataset family: images/ + masks/, and the split folder
    got = dataset_input_dirs(dict(type='ISIC2016Dataset', data_root='/i',
                                  ann_file='splits/test.txt'))
    assert [p for p, _ in got] == ['/i/images', '/i/masks', '/i/splits']
    # the synthetic data set's default data_root
    got = dataset_input_dirs(dict(
        type='SyntheticLesionDataset',
        data_prefix=dict(img_path='val/images', seg_map_path='val/masks')))
    assert [p for p, _ in got] == ['data/synthetic_lesion/val/images',
                                   'data/synthetic_lesion/val/masks']
    # images only (inference): no mask folder
    got = dataset_input_dirs(dict(type='LesionFolderDataset', data_root='/l',
                                  data_prefix=dict(img_path='im',
                                                   seg_map_path='')))
    assert [p for p, _ in got] == ['/l/im']
    # absolute prefixes are kept
    got = dataset_input_dirs(dict(
        type='BaseSegDataset', data_root='/d',
        data_prefix=dict(img_path='/abs/img', seg_map_path='ann')))
    assert [p for p, _ in got] == ['/abs/img', '/d/ann']


def test_dataset_input_dirs_wrappers_and_unknown_types():
    a = dict(type='LesionFolderDataset', data_root='/a')
    b = dict(type='BaseSegDataset', data_root='/b',
             data_prefix=dict(img_path='x', seg_map_path='y'))
    got = dataset_input_dirs(dict(
        type='ConcatDataset',
        datasets=[a, dict(type='RepeatDataset', times=2, dataset=b)]),
        'test_dataloader.dataset')
    assert got == [
        ('/a/images', 'image folder of test_dataloader.dataset.datasets[0]'),
        ('/a/masks', 'mask folder of test_dataloader.dataset.datasets[0]'),
        ('/b/x', 'image folder of '
         'test_dataloader.dataset.datasets[1].dataset'),
        ('/b/y', 'mask folder of '
         'test_dataloader.dataset.datasets[1].dataset')]
    # a type that cannot be resolved: all of data_root counts as input
    got = dataset_input_dirs(dict(type='NoSuchDataset', data_root='/n'))
    assert got[0][0] == '/n' and 'could not be told' in got[0][1]


def test_test_input_dirs_of_a_real_config():
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_',
                                   'datasets', 'isic2016.py'))
    assert [p for p, _ in input_dirs_of_test_data(cfg)] == [
        'data/isic2016/images', 'data/isic2016/masks', 'data/isic2016/splits']
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', '_base_',
                                   'datasets', 'synthetic_lesion_128x128.py'))
    assert [p for p, _ in input_dirs_of_test_data(cfg)] == [
        'data/synthetic_lesion/val/images', 'data/synthetic_lesion/val/masks']


def test_record_refuses_foreign_files_and_keeps_them(tmp_path):
    (tmp_path / 'masks').mkdir()
    foreign = tmp_path / 'masks' / 'a.png'
    foreign.write_bytes(b'not mine')
    record = OutputRecord(str(tmp_path))
    with pytest.raises(ForeignFileError) as info:
        record.claim(['masks/a.png', 'masks/b.png'])
    assert f'"{foreign}"' in str(info.value)
    assert '--overwrite' in str(info.value)
    with pytest.raises(ForeignFileError):
        record.write_bytes('masks/a.png', b'new')
    assert foreign.read_bytes() == b'not mine'
    assert not (tmp_path / MANIFEST_NAME).exists()


def test_record_claims_before_writing_and_allows_rewrites(tmp_path):
    record = OutputRecord(str(tmp_path))
    assert record.claim(['masks/a.png', 'masks/b.png']) == []
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert manifest['files'] == ['masks/a.png', 'masks/b.png']
    assert not (tmp_path / 'masks').exists()  # claimed, not yet written
    record.write_bytes('masks/a.png', b'one')
    # a later run (new record) may rewrite its own files
    again = OutputRecord(str(tmp_path))
    assert again.owns('masks/a.png') and not again.owns('masks/c.png')
    again.write_bytes('masks/a.png', b'two')
    assert (tmp_path / 'masks' / 'a.png').read_bytes() == b'two'
    # the record's bytes depend only on the files
    before = (tmp_path / MANIFEST_NAME).read_bytes()
    again.claim(['masks/b.png', 'masks/a.png'])
    assert (tmp_path / MANIFEST_NAME).read_bytes() == before


def test_record_overwrite_replaces_and_records(tmp_path):
    (tmp_path / 'summary.json').write_text('theirs')
    record = OutputRecord(str(tmp_path), overwrite=True)
    assert record.claim(['summary.json']) == [str(tmp_path / 'summary.json')]
    record.write_text('summary.json', 'ours')
    assert (tmp_path / 'summary.json').read_text() == 'ours'
    assert OutputRecord(str(tmp_path)).owns('summary.json')


def test_record_refuses_a_damaged_manifest(tmp_path):
    (tmp_path / MANIFEST_NAME).write_text('{"files": 3')
    with pytest.raises(ForeignFileError,
                       match=f'{MANIFEST_NAME}" is not a record'):
        OutputRecord(str(tmp_path))
    assert OutputRecord(str(tmp_path), overwrite=True).files == set()


@pytest.mark.parametrize('rel', ['../x.png', '/abs.png', ''])
def test_record_names_stay_inside(tmp_path, rel):
    with pytest.raises(ValueError, match='relative paths inside'):
        OutputRecord(str(tmp_path)).claim([rel])


def test_atomic_write_and_stale_temporaries(tmp_path):
    old_umask = os.umask(0o022)
    try:
        atomic_write(str(tmp_path / 'a.png'), b'abc')
    finally:
        os.umask(old_umask)
    assert (tmp_path / 'a.png').read_bytes() == b'abc'
    assert oct((tmp_path / 'a.png').stat().st_mode & 0o777) == oct(0o644)
    assert os.listdir(tmp_path) == ['a.png']
    # a failed write leaves the old file and no temporary file
    with pytest.raises(TypeError):
        atomic_write(str(tmp_path / 'a.png'), 'not bytes')
    assert (tmp_path / 'a.png').read_bytes() == b'abc'
    assert os.listdir(tmp_path) == ['a.png']
    # what a killed run leaves: removed for claimed names only
    (tmp_path / '.a.png.0123abcd.sgdc-tmp').write_bytes(b'ab')
    (tmp_path / '.b.png.0123abcd.sgdc-tmp').write_bytes(b'ab')
    (tmp_path / '.a.png.notes').write_bytes(b'user file')
    OutputRecord(str(tmp_path), overwrite=True).claim(['a.png'])
    assert sorted(os.listdir(tmp_path)) == [
        '.a.png.notes', '.b.png.0123abcd.sgdc-tmp', MANIFEST_NAME, 'a.png']


def test_prepare_output_dir(tmp_path):
    prepare_output_dir(str(tmp_path / 'o'), ['masks'])
    assert os.listdir(tmp_path / 'o') == ['masks']  # the probe is gone
    (tmp_path / 'file').write_text('x')
    with pytest.raises(OutputNotWritableError,
                       match=r'output folder "[^"]*file/o" cannot be created'):
        prepare_output_dir(str(tmp_path / 'file' / 'o'))
    with pytest.raises(OutputNotWritableError,
                       match='exists and is not a folder'):
        prepare_output_dir(str(tmp_path / 'file'))


def test_finish_test_outputs_moves_staged_files(tmp_path):
    out = tmp_path / 'out'
    record = OutputRecord(str(out))
    record.claim(['a.png', STAGING_NAME])
    stage = staging_dir(str(out))
    os.makedirs(stage)
    for name in ('a.png', 'b.png', 'c.png'):
        with open(osp.join(stage, name), 'wb') as f:
            f.write(name.encode())
    (out / 'c.png').write_bytes(b'foreign')
    moved, kept = finish_test_outputs(record)
    assert sorted(moved) == [str(out / 'a.png'), str(out / 'b.png')]
    assert kept == [osp.join(stage, 'c.png')]
    assert (out / 'a.png').read_bytes() == b'a.png'
    assert (out / 'c.png').read_bytes() == b'foreign'
    assert OutputRecord(str(out)).owns('b.png')  # recorded when moved
