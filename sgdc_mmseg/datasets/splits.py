"""Split protocols written as split files.

A split file (``<split>.txt``) lists one sample name per line, without a
suffix, sorted; :class:`~sgdc_mmseg.datasets.LesionFolderDataset` and
mmseg's datasets read it through ``ann_file``.

Two reproducible k-fold protocols (a fixed ``seed`` always gives the same
folds, on any machine, whatever order the names come in):

* :func:`kfold` -- plain k-fold. The names are sorted, permuted with
  ``numpy.random.default_rng(seed)`` and cut into ``k`` consecutive chunks
  whose sizes differ by at most one (the first ``n % k`` chunks are one
  longer). Fold ``i`` validates on chunk ``i`` and trains on the others.
* :func:`grouped_kfold` -- k-fold over groups (e.g. the source image of
  every patch), so that no group has samples in two folds. The sorted group
  names are permuted with ``numpy.random.default_rng(seed)``; the groups are
  then taken in order of decreasing size (a stable sort, so equal sizes keep
  the permuted order) and each goes to the fold holding the fewest samples
  so far (ties: the lowest fold index).

Both return ``[(train_names, val_names), ...]`` (one pair per fold, each
list sorted); :func:`fold_splits` names them ``fold{i}_train`` /
``fold{i}_val`` and :func:`write_split_files` writes them.
"""
import os
import os.path as osp
from typing import (Callable, Dict, List, Mapping, Sequence, Tuple, Union)

import numpy as np

Fold = Tuple[List[str], List[str]]

from .utils import format_names, write_atomically


def _shown(names: Sequence[str]) -> str:
    return format_names(names, sort=False)


def _check_names(names: Sequence[str]) -> List[str]:
    names = [str(n) for n in names]
    seen, dups = set(), set()
    for n in names:
        if n in seen:
            dups.add(n)
        seen.add(n)
    if dups:
        raise ValueError(
            f'k-fold: {len(dups)} name(s) occur more than once: '
            f'{_shown(sorted(dups))}; every sample name must be unique.')
    return sorted(names)


def _check_num_folds(num_folds) -> int:
    if isinstance(num_folds, bool) or not isinstance(
            num_folds, (int, np.integer)) or num_folds < 2:
        raise ValueError(
            f'k-fold: num_folds must be an integer >= 2, got {num_folds!r}.')
    return int(num_folds)


def kfold(names: Sequence[str], num_folds: int, seed: int = 0) -> List[Fold]:
    """Plain k-fold split of ``names``.

    Args:
        names (Sequence[str]): Unique sample names (any order).
        num_folds (int): Number of folds ``k`` (2 <= k <= len(names)).
        seed (int): Seed of ``numpy.random.default_rng``. Defaults to 0.

    Returns:
        list[tuple[list[str], list[str]]]: ``(train, val)`` per fold, sorted.
        The ``val`` lists are disjoint and together hold every name.

    Raises:
        ValueError: On duplicate names, ``num_folds < 2`` or more folds than
            names.
    """
    ordered = _check_names(names)
    k = _check_num_folds(num_folds)
    if k > len(ordered):
        raise ValueError(
            f'k-fold: {k} folds asked for but there are only {len(ordered)} '
            f'names; every fold needs at least one. Use at most '
            f'{len(ordered)} folds.')
    rng = np.random.default_rng(seed)
    chunks = np.array_split(rng.permutation(len(ordered)), k)
    folds = []
    for i in range(k):
        val = [ordered[j] for j in chunks[i]]
        train = [ordered[j] for c, chunk in enumerate(chunks) if c != i
                 for j in chunk]
        folds.append((sorted(train), sorted(val)))
    return folds


def grouped_kfold(names: Sequence[str],
                  groups: Union[Sequence[str], Mapping[str, str],
                                Callable[[str], str]],
                  num_folds: int,
                  seed: int = 0) -> List[Fold]:
    """K-fold split of ``names`` in which every group lies in one fold.

    Args:
        names (Sequence[str]): Unique sample names (any order).
        groups: The group of every name: a sequence aligned with ``names``,
            a mapping ``name -> group`` or a function ``name -> group``.
        num_folds (int): Number of folds ``k`` (2 <= k <= number of groups).
        seed (int): Seed of ``numpy.random.default_rng``. Defaults to 0.

    Returns:
        list[tuple[list[str], list[str]]]: ``(train, val)`` per fold, sorted.

    Raises:
        ValueError: On duplicate names, a group sequence of the wrong length,
            a name missing from a group mapping, ``num_folds < 2`` or fewer
            groups than folds.
    """
    names = [str(n) for n in names]
    if callable(groups):
        group_of = {n: str(groups(n)) for n in names}
    elif isinstance(groups, Mapping):
        missing = [n for n in names if n not in groups]
        if missing:
            raise ValueError(
                f'grouped k-fold: {len(missing)} name(s) have no group: '
                f'{_shown(missing)}.')
        group_of = {n: str(groups[n]) for n in names}
    else:
        groups = list(groups)
        if len(groups) != len(names):
            raise ValueError(
                f'grouped k-fold: {len(groups)} group labels for '
                f'{len(names)} names; give one group per name.')
        group_of = {n: str(g) for n, g in zip(names, groups)}
    ordered = _check_names(names)
    members: Dict[str, List[str]] = {}
    for n in ordered:
        members.setdefault(group_of[n], []).append(n)
    group_names = sorted(members)
    k = _check_num_folds(num_folds)
    if len(group_names) < k:
        raise ValueError(
            f'grouped k-fold: {k} folds asked for but the samples come from '
            f'only {len(group_names)} group(s) ({_shown(group_names)}); all '
            'samples of a group stay in one fold, so at most '
            f'{len(group_names)} folds are possible.')
    rng = np.random.default_rng(seed)
    permuted = [group_names[i] for i in rng.permutation(len(group_names))]
    by_size = sorted(permuted, key=lambda g: -len(members[g]))  # stable
    load = np.zeros(k, dtype=np.int64)
    fold_names: List[List[str]] = [[] for _ in range(k)]
    for g in by_size:
        i = int(np.argmin(load))  # first minimum: lowest fold index
        fold_names[i].extend(members[g])
        load[i] += len(members[g])
    return [(sorted(n for j, f in enumerate(fold_names) if j != i for n in f),
             sorted(fold_names[i])) for i in range(k)]


def fold_splits(folds: Sequence[Fold]) -> Dict[str, List[str]]:
    """Name the folds: ``{'fold0_train': [...], 'fold0_val': [...], ...}``."""
    out: Dict[str, List[str]] = {}
    for i, (train, val) in enumerate(folds):
        out[f'fold{i}_train'] = list(train)
        out[f'fold{i}_val'] = list(val)
    return out


def write_split_file(path: str, names: Sequence[str]) -> str:
    """Write ``names`` sorted, one per line, to ``path`` (atomically: a
    temporary file renamed into place); returns ``path``.

    Raises:
        ValueError: If a name is empty, holds a line break or surrounding
            white space (it could not be read back).
    """
    bad = [n for n in names
           if not n or n != n.strip() or '\n' in n or '\r' in n]
    if bad:
        raise ValueError(
            f'split file {path!r}: name(s) that cannot be written one per '
            f'line: {_shown([repr(n) for n in bad])}.')
    text = ''.join(f'{n}\n' for n in sorted(names))
    write_atomically(path, text.encode('utf-8'))
    return path


def write_split_files(folder: str,
                      splits: Mapping[str, Sequence[str]]) -> List[str]:
    """Write ``<folder>/<split>.txt`` for every split; returns the paths
    (in the order of ``splits``)."""
    os.makedirs(folder, exist_ok=True)
    return [
        write_split_file(osp.join(folder, f'{split}.txt'), names)
        for split, names in splits.items()
    ]


def read_split_file(path: str) -> List[str]:
    """Read a split file: the non-empty lines, stripped, in file order."""
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]
