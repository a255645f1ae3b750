"""Split protocols: plain and grouped k-fold, split files."""
import random

import numpy as np
import pytest

from sgdc_mmseg.datasets.splits import (fold_splits, grouped_kfold, kfold,
                                        read_split_file, write_split_files)

NAMES = [f'ISIC_{i:07d}' for i in range(23)]


def _check_partition(folds, names):
    vals = [set(v) for _, v in folds]
    assert sorted(n for v in vals for n in v) == sorted(names)  # covers all
    for i, (train, val) in enumerate(folds):
        assert train == sorted(train) and val == sorted(val)
        assert not set(train) & set(val)
        assert sorted(train + val) == sorted(names)
        for j in range(i + 1, len(folds)):
            assert not vals[i] & vals[j]  # disjoint


def test_kfold_is_a_reproducible_partition():
    folds = kfold(NAMES, 5, seed=0)
    _check_partition(folds, NAMES)
    # 23 = 5 + 5 + 5 + 4 + 4: the first n % k chunks are one longer
    assert [len(v) for _, v in folds] == [5, 5, 5, 4, 4]
    assert kfold(NAMES, 5, seed=0) == folds
    shuffled = list(NAMES)
    random.Random(1).shuffle(shuffled)
    assert kfold(shuffled, 5, seed=0) == folds  # input order is irrelevant
    assert kfold(NAMES, 5, seed=1) != folds


def test_kfold_follows_the_documented_recipe():
    # the sorted names permuted by default_rng(seed), cut into k
    # consecutive chunks; fold i validates on chunk i
    perm = np.random.default_rng(7).permutation(len(NAMES))
    shuffled = [sorted(NAMES)[i] for i in perm]
    folds = kfold(NAMES, 4, seed=7)
    sizes = [6, 6, 6, 5]
    start = 0
    for i, size in enumerate(sizes):
        assert folds[i][1] == sorted(shuffled[start:start + size])
        start += size


def test_kfold_errors():
    with pytest.raises(ValueError, match='4 folds asked for but there are '
                       'only 3 names'):
        kfold(['a', 'b', 'c'], 4)
    with pytest.raises(ValueError, match=r'integer >= 2, got 1'):
        kfold(NAMES, 1)
    with pytest.raises(ValueError, match=r'more than once: b'):
        kfold(['a', 'b', 'b', 'c'], 2)


def _group(name):
    return name.rsplit('-', 1)[0]


PATCHES = [f'{img}-{p:04d}' for img, n in
           [('consep_1', 4), ('consep_2', 1), ('crag_1', 3), ('glas_7', 2),
            ('pannuke_3', 5), ('dpath_2', 1), ('crag_9', 2)]
           for p in range(n)]


@pytest.mark.parametrize('k', [2, 3, 5, 7])
def test_grouped_kfold_keeps_groups_together(k):
    folds = grouped_kfold(PATCHES, _group, k, seed=0)
    _check_partition(folds, PATCHES)
    val_groups = [{_group(n) for n in v} for _, v in folds]
    for i in range(k):
        for j in range(i + 1, k):
            assert not val_groups[i] & val_groups[j]
        # a group is entirely inside fold i's validation set or not at all
        for g in val_groups[i]:
            members = [n for n in PATCHES if _group(n) == g]
            assert set(members) <= set(folds[i][1])
            assert not set(members) & set(folds[i][0])
    assert grouped_kfold(list(reversed(PATCHES)), _group, k, seed=0) == folds


def test_grouped_kfold_group_forms_and_seed():
    by_func = grouped_kfold(PATCHES, _group, 3, seed=4)
    assert grouped_kfold(PATCHES, [_group(n) for n in PATCHES], 3,
                         seed=4) == by_func
    assert grouped_kfold(PATCHES, {n: _group(n) for n in PATCHES}, 3,
                         seed=4) == by_func
    seeds = {tuple(map(tuple, (v for _, v in grouped_kfold(
        PATCHES, _group, 3, seed=s)))) for s in range(6)}
    assert len(seeds) > 1  # the seed changes the assignment


def test_grouped_kfold_balances_greedily_largest_first():
    # one group of 5 and five groups of 1: the big one fills fold 0 alone
    # (largest first, to the emptiest fold), the five singles then all go
    # to fold 1 until it has 5 as well, whatever the permutation.
    names = [f'big-{i}' for i in range(5)] + [f's{i}-0' for i in range(5)]
    for seed in range(4):
        folds = grouped_kfold(names, _group, 2, seed=seed)
        assert folds[0][1] == [f'big-{i}' for i in range(5)]
        assert folds[1][1] == sorted(f's{i}-0' for i in range(5))
    # equal group sizes: the permutation decides, each fold gets one group
    folds = grouped_kfold(['a-0', 'b-0', 'c-0'], _group, 3, seed=0)
    assert sorted(len(v) for _, v in folds) == [1, 1, 1]


def test_grouped_kfold_too_few_groups():
    with pytest.raises(ValueError,
                       match=r'5 folds asked for but the samples come from '
                       r'only 2 group\(s\) \(a, b\)'):
        grouped_kfold(['a-0', 'a-1', 'b-0', 'b-1', 'b-2'], _group, 5)
    with pytest.raises(ValueError, match='3 group labels for 2 names'):
        grouped_kfold(['a-0', 'b-0'], ['a', 'b', 'c'], 2)
    with pytest.raises(ValueError, match=r'1 name\(s\) have no group: b-0'):
        grouped_kfold(['a-0', 'b-0'], {'a-0': 'a'}, 2)


def test_split_files_round_trip(tmp_path):
    splits = fold_splits(kfold(NAMES, 3, seed=0))
    assert list(splits)[:2] == ['fold0_train', 'fold0_val']
    paths = write_split_files(str(tmp_path / 'splits'), splits)
    assert [p.rsplit('/', 1)[1] for p in paths] == [
        f'{k}.txt' for k in splits]
    for key, path in zip(splits, paths):
        assert read_split_file(path) == sorted(splits[key])
        with open(path) as f:
            text = f.read()
        assert text.endswith('\n') and text.count('\n') == len(splits[key])
    with pytest.raises(ValueError, match="cannot be written one per line"):
        write_split_files(str(tmp_path / 'bad'), {'x': ['a', 'b\nc']})


def test_split_file_is_written_atomically_never_through_a_link(tmp_path):
    """A split file is written to a temporary file renamed into place: a
    symbolic link at its name (e.g. into a source folder) is replaced, its
    target left as it was, and no temporary file is left behind."""
    import os
    folder = tmp_path / 'splits'
    folder.mkdir()
    elsewhere = tmp_path / 'source_list.txt'
    elsewhere.write_text('keep me\n')
    os.symlink(elsewhere, folder / 'train.txt')
    write_split_files(str(folder), {'train': ['b', 'a']})
    assert not os.path.islink(folder / 'train.txt')
    assert read_split_file(str(folder / 'train.txt')) == ['a', 'b']
    assert elsewhere.read_text() == 'keep me\n'
    assert sorted(os.listdir(folder)) == ['train.txt']
