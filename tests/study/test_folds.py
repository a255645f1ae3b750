"""sgdc_mmseg.study.folds: the `folds` entry of a study file, the split
files of a fold (given or generated from a folder) and its overrides."""
import os
import os.path as osp

import pytest

from sgdc_mmseg.datasets.splits import read_split_file
from sgdc_mmseg.study.folds import (check_folds, fold_overrides,
                                    fold_split_paths, generated_folds,
                                    image_names, write_generated_splits)
from sgdc_mmseg.study.schema import StudyError


def _images(folder, names, suffix='.jpg'):
    os.makedirs(folder, exist_ok=True)
    for n in names:
        open(osp.join(folder, n + suffix), 'w').close()
    return str(folder)


@pytest.mark.parametrize('folds, match', [
    (dict(num_folds=1, train_split='a{fold}', test_split='b{fold}'),
     'num_folds must be an integer >= 2'),
    (dict(num_folds=True, train_split='a{fold}', test_split='b{fold}'),
     'num_folds must be an integer >= 2'),
    (dict(num_folds=5), 'needs `train_split` and `test_split`'),
    (dict(num_folds=5, train_split='a.txt', test_split='b{fold}'),
     r"folds.train_split 'a.txt' has no \{fold\}"),
    (dict(num_folds=5, generate=dict(suffix='.jpg')), 'needs `images`'),
    (dict(num_folds=5, generate=dict(images='x', sed=1)),
     r"unknown \['sed'\]"),
    (dict(num_folds=5, k=5), r"unknown keys \['k'\]"),
])
def test_check_folds_names_the_file_and_key(folds, match):
    with pytest.raises(StudyError, match='my_study.py: .*' + match):
        check_folds(folds, 'my_study.py')


def test_given_split_files_and_overrides():
    folds = check_folds(dict(num_folds=5,
                             train_split='splits/fold{fold}_train.txt',
                             test_split='splits/fold{fold}_val.txt'))
    assert fold_split_paths(folds, 3, '/w') == (
        'splits/fold3_train.txt', 'splits/fold3_val.txt')
    assert fold_overrides(folds, 3, '/w') == dict(
        train_dataloader=dict(dataset=dict(
            ann_file='splits/fold3_train.txt')),
        val_dataloader=dict(dataset=dict(ann_file='splits/fold3_val.txt')),
        test_dataloader=dict(dataset=dict(ann_file='splits/fold3_val.txt')))


def test_generated_folds_cover_every_image_once(tmp_path):
    names = [f'img_{i:02d}' for i in range(11)]
    folder = _images(tmp_path / 'train' / 'images', names)
    open(osp.join(folder, 'notes.txt'), 'w').close()  # other suffix
    folds = check_folds(dict(num_folds=3, generate=dict(
        images=folder, suffix='.jpg', seed=0)))
    assert image_names(folder, '.jpg') == names
    work = str(tmp_path / 'work')
    paths = write_generated_splits(folds, work)
    assert paths[:2] == [osp.join(work, 'splits', 'fold0_train.txt'),
                         osp.join(work, 'splits', 'fold0_val.txt')]
    vals = [read_split_file(p) for p in paths[1::2]]
    trains = [read_split_file(p) for p in paths[0::2]]
    assert sorted(sum(vals, [])) == names  # every image held out once
    assert sorted(len(v) for v in vals) == [3, 4, 4]
    for train, val in zip(trains, vals):
        assert not set(train) & set(val)
        assert sorted(train + val) == names
    assert fold_overrides(folds, 1, work)['test_dataloader'] == dict(
        dataset=dict(ann_file=paths[3]))
    # deterministic: writing again finds the same files
    assert write_generated_splits(folds, work) == paths
    # other folds for the same work dir: refused, the file is kept
    other = check_folds(dict(num_folds=3, generate=dict(
        images=folder, suffix='.jpg', seed=1)))
    with pytest.raises(StudyError, match='fold0_train.txt lists other'):
        write_generated_splits(other, work)
    assert read_split_file(paths[0]) == trains[0]


def test_generated_folds_respect_groups(tmp_path):
    # patients p0..p4 with 1-3 images each
    names = ['p0_a', 'p0_b', 'p0_c', 'p1_a', 'p2_a', 'p2_b', 'p3_a',
             'p4_a', 'p4_b']
    folder = _images(tmp_path / 'imgs', names, '.png')
    folds = check_folds(dict(num_folds=3, generate=dict(
        images=folder, suffix='.png', group_regex=r'^(p\d+)_')))
    splits = generated_folds(folds)
    held_out = [set(n.split('_')[0] for n in val) for _, val in splits]
    for i, patients in enumerate(held_out):
        for j, others in enumerate(held_out):
            assert i == j or not patients & others  # no patient in two
    assert sorted(sum((v for _, v in splits), [])) == sorted(names)
    bad = check_folds(dict(num_folds=2, generate=dict(
        images=folder, suffix='.png', group_regex=r'^(q\d+)')))
    with pytest.raises(StudyError, match="does not match the name 'p0_a'"):
        generated_folds(bad)


def test_generate_errors_name_the_folder(tmp_path):
    with pytest.raises(StudyError, match='no such folder: .*missing'):
        image_names(str(tmp_path / 'missing'))
    folder = _images(tmp_path / 'few', ['a', 'b'])
    with pytest.raises(StudyError, match=r'no \*.png files in .*few'):
        image_names(folder, '.png')
    folds = check_folds(dict(num_folds=3, generate=dict(
        images=folder, suffix='.jpg')))
    with pytest.raises(StudyError, match='few.*3 folds asked for'):
        generated_folds(folds)
    assert write_generated_splits(None, str(tmp_path)) == []
