"""Reading mmengine's training logs: the ``<timestamp>/vis_data/
scalars.json`` of a work dir (one JSON object per line; training entries
carry ``loss`` and ``lr``, validation entries the metric keys, both with
``step``, the iteration).

A work dir holds one run folder per start of training; where a resumed run
repeats steps, the later run wins (:func:`merge_runs`).
"""
import glob
import json
import os.path as osp


def find_scalar_files(path):
    """The ``scalars.json`` files of ``path``, oldest run first."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'"{path}" does not exist')
    direct = osp.join(path, 'vis_data', 'scalars.json')
    if osp.isfile(direct):
        return [direct]
    files = sorted(glob.glob(osp.join(path, '*', 'vis_data',
                                      'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'no <timestamp>/vis_data/scalars.json under "{path}" (is it an '
            'mmengine work dir of a training run?)')
    return files


def _is_train(entry):
    return any('loss' in k for k in entry) or 'lr' in entry


def read_scalars(path):
    """Training and validation entries of one ``scalars.json``."""
    train, val = [], []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{n}: not a JSON line ({e})')
            if 'step' not in entry:
                continue
            (train if _is_train(entry) else val).append(entry)
    return train, val


def merge_runs(runs):
    """Concatenate runs (oldest first); a run starting at or before a step
    already seen replaces the earlier entries from that step on."""
    merged = []
    for entries in runs:
        if not entries:
            continue
        first = min(e['step'] for e in entries)
        merged = [e for e in merged if e['step'] < first] + entries
    return sorted(merged, key=lambda e: e['step'])


def load_curves(path):
    """``(train_entries, val_entries)`` of a work dir, run or file."""
    files = find_scalar_files(path)
    trains, vals = zip(*(read_scalars(f) for f in files))
    train, val = merge_runs(trains), merge_runs(vals)
    if not train and not val:
        raise ValueError(f'no logged scalars in {", ".join(files)}')
    return train, val


def load_runs(paths):
    """``{label: (train_entries, val_entries)}`` of several work dirs, runs
    or files, labelled by folder name (the full path where two names are
    the same)."""
    curves = {}
    for path in paths:
        label = osp.basename(osp.normpath(path))
        if label in curves:
            label = osp.normpath(path)
        curves[label] = load_curves(path)
    return curves
