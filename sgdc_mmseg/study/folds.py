"""Folds of a k-fold split as an axis of a study.

A study file's ``folds`` entry (format in :mod:`.schema`) names, per fold
``f`` (``0 .. num_folds - 1``), the split file the run trains on and the
one it is tested on (``ann_file`` of the config's train and val/test
datasets, ``{fold}`` replaced by ``f``): either existing files (a
converter's ``splits/fold{f}_train.txt`` / ``fold{f}_val.txt``, relative to
the dataset's ``data_root``) or files the study generates
(:func:`write_generated_splits`) from the names of a folder of images with
:func:`sgdc_mmseg.datasets.splits.kfold` (plain) or
:func:`~sgdc_mmseg.datasets.splits.grouped_kfold` (``group_regex``: the
first group of the regex in a name is its group, e.g. a patient id; no
group has images in two folds). Generated files go to
``WORK_DIR/splits/fold{f}_{train,val}.txt``; a fixed ``seed`` gives the
same folds on every machine, and an existing file with other names is an
error (the study was planned with other folds).

:func:`fold_overrides` are the config overrides of one fold; they count in
the run's fingerprint. A study without ``folds`` has no overrides and the
run directories and fingerprints of before.
"""
import copy
import os
import os.path as osp
import re

from .errors import StudyError

FOLD_KEYS = ('num_folds', 'train_split', 'test_split', 'generate',
             'test_data_prefix')
GENERATE_KEYS = ('images', 'suffix', 'seed', 'group_regex')
GENERATED_TRAIN = 'fold{fold}_train.txt'
GENERATED_TEST = 'fold{fold}_val.txt'


def check_folds(folds, path='study'):
    """The ``folds`` entry as a plain dict with defaults, or
    :class:`StudyError` naming ``path`` and the key."""
    folds = copy.deepcopy(folds.to_dict() if hasattr(folds, 'to_dict')
                          else dict(folds))
    if folds.get('generate') is not None:
        folds['generate'] = dict(folds['generate'])
    unknown = sorted(set(folds) - set(FOLD_KEYS))
    if unknown:
        raise StudyError(f'{path}: folds: unknown keys {unknown}; known: '
                         f'{list(FOLD_KEYS)}')
    k = folds.get('num_folds')
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise StudyError(f'{path}: folds.num_folds must be an integer >= 2, '
                         f'got {k!r}')
    gen = folds.get('generate')
    if gen is not None:
        bad = sorted(set(gen) - set(GENERATE_KEYS))
        if bad or 'images' not in gen:
            raise StudyError(f'{path}: folds.generate needs `images` (a '
                             f'folder) and knows only {list(GENERATE_KEYS)}'
                             + (f'; unknown {bad}' if bad else ''))
        gen.setdefault('suffix', '')
        gen.setdefault('seed', 0)
        gen.setdefault('group_regex', None)
    elif not (folds.get('train_split') and folds.get('test_split')):
        raise StudyError(f'{path}: folds needs `train_split` and '
                         '`test_split` (split files with {fold}) or '
                         '`generate`')
    for key in ('train_split', 'test_split'):
        if folds.get(key) and '{fold}' not in folds[key]:
            raise StudyError(f'{path}: folds.{key} {folds[key]!r} has no '
                             '{fold}')
    folds.setdefault('test_data_prefix', None)
    return folds


def fold_split_paths(folds, fold, work_dir):
    """(train split file, test split file) of ``fold``: the generated files
    in ``work_dir/splits`` unless the study names its own."""
    if folds.get('generate') is not None:
        base = osp.join(work_dir, 'splits')
        train = folds.get('train_split') or osp.join(base, GENERATED_TRAIN)
        test = folds.get('test_split') or osp.join(base, GENERATED_TEST)
    else:
        train, test = folds['train_split'], folds['test_split']
    return train.format(fold=fold), test.format(fold=fold)


def fold_overrides(folds, fold, work_dir):
    """Config overrides that train on ``fold``'s training part and
    validate/test on its held-out part."""
    train, test = fold_split_paths(folds, fold, work_dir)
    held_out = dict(ann_file=test)
    if folds.get('test_data_prefix'):
        held_out['data_prefix'] = dict(folds['test_data_prefix'])
    return dict(train_dataloader=dict(dataset=dict(ann_file=train)),
                val_dataloader=dict(dataset=dict(held_out)),
                test_dataloader=dict(dataset=dict(held_out)))


def image_names(folder, suffix=''):
    """Sorted names (file names without ``suffix``) of the files in
    ``folder`` ending with ``suffix``; :class:`StudyError` when the folder
    is missing or has none."""
    if not osp.isdir(folder):
        raise StudyError(f'folds.generate.images: no such folder: {folder}')
    names = sorted(f[:len(f) - len(suffix)] if suffix else
                   osp.splitext(f)[0] for f in os.listdir(folder)
                   if f.endswith(suffix) and
                   osp.isfile(osp.join(folder, f)))
    if not names:
        raise StudyError(f'folds.generate.images: no *{suffix} files in '
                         f'{folder}')
    return names


def generated_folds(folds):
    """``[(train, val), ...]`` of the ``generate`` entry (module
    docstring)."""
    from ..datasets.splits import grouped_kfold, kfold
    gen = folds['generate']
    names = image_names(gen['images'], gen['suffix'])
    try:
        if gen.get('group_regex'):
            pattern = re.compile(gen['group_regex'])

            def group(name):
                m = pattern.search(name)
                if m is None:
                    raise StudyError(f'folds.generate.group_regex '
                                     f'{gen["group_regex"]!r} does not '
                                     f'match the name {name!r}')
                return m.group(1) if m.groups() else m.group(0)
            return grouped_kfold(names, group, folds['num_folds'],
                                 gen['seed'])
        return kfold(names, folds['num_folds'], gen['seed'])
    except ValueError as exc:
        raise StudyError(f'folds.generate ({gen["images"]}): {exc}')


def write_generated_splits(folds, work_dir):
    """Write the generated split files into ``work_dir/splits`` (when the
    study generates them); returns their paths. A file there that lists
    other names is a :class:`StudyError` (never overwritten)."""
    if folds is None or folds.get('generate') is None:
        return []
    from ..datasets.splits import read_split_file, write_split_file
    paths = []
    for fold, (train, val) in enumerate(generated_folds(folds)):
        for path, names in zip(fold_split_paths(folds, fold, work_dir),
                               (train, val)):
            if osp.isfile(path):
                if read_split_file(path) != sorted(names):
                    raise StudyError(
                        f'{path} lists other images than fold {fold} of '
                        'this study (other folder, seed or num_folds?); '
                        'use another --work-dir or delete it')
            else:
                os.makedirs(osp.dirname(path), exist_ok=True)
                write_split_file(path, names)
            paths.append(path)
    return paths
