#!/usr/bin/env python
"""Training curves (losses and validation metrics) from mmengine logs.

Usage::

    python tools/analysis/plot_curves.py WORK_DIR [WORK_DIR ...] --out FILE.png
        [--keys loss decode.loss_ce ...] [--metrics mIoU mDice ...]
        [--title TEXT]

Each WORK_DIR is a training work dir (all its ``<timestamp>/vis_data/
scalars.json`` runs are read in time order; where a resumed run repeats
steps, the later run wins), one run's folder, or a ``scalars.json`` file.
mmengine writes one JSON object per line: training entries carry ``loss``
(and ``lr``, ``time``...), validation entries the metric keys, both with
``step`` (the iteration). The figure has a losses panel (default: every key
with ``loss`` in its name) and validation panels (default: every metric;
distances such as ``medical/mHD95`` get their own panel); several
WORK_DIRs are drawn in one figure, labelled by folder name.
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import sys

#: Keys of mmengine's log entries that are no curves.
NON_CURVE_KEYS = ('step', 'iter', 'epoch', 'time', 'data_time', 'memory',
                  'lr', 'base_lr')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot losses and validation metrics of training runs')
    parser.add_argument('inputs', nargs='+', metavar='WORK_DIR',
                        help='work dir, run folder or scalars.json')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument('--keys', nargs='+', default=None,
                        help='training keys to plot (default: every key '
                        'containing "loss")')
    parser.add_argument('--metrics', nargs='+', default=None,
                        help='validation keys to plot (default: all)')
    parser.add_argument('--title', default=None, help='figure title')
    return parser.parse_args(argv)


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


def _series(entries, key):
    points = [(e['step'], e[key]) for e in entries
              if isinstance(e.get(key), (int, float)) and
              math.isfinite(e[key])]
    return [p[0] for p in points], [p[1] for p in points]


def _is_count(key):
    """Bookkeeping, not a curve: step/lr/time keys and counts such as
    ``medical/num_skipped_ignored``."""
    return key in NON_CURVE_KEYS or key.split('/')[-1].startswith('num_')


def _keys(entries, wanted, default):
    present = []
    for e in entries:
        for k in e:
            if k not in present and not _is_count(k) and \
                    isinstance(e[k], (int, float)):
                present.append(k)
    if wanted is None:
        return [k for k in present if default(k)]
    return [k for k in wanted if k in present]


def _is_distance(key):
    name = key.split('/')[-1]
    return name.startswith(('HD', 'mHD', 'ASSD', 'mASSD', 'ASD', 'mASD'))


def plot(curves, out, keys=None, metrics=None, title=None):
    """Draw ``{label: (train, val)}`` into ``out`` (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    all_train = [e for t, _ in curves.values() for e in t]
    all_val = [e for _, v in curves.values() for e in v]
    train_keys = _keys(all_train, keys, lambda k: 'loss' in k)
    val_keys = _keys(all_val, metrics, lambda k: True)
    missing = [k for k in (keys or []) if k not in train_keys] + \
        [k for k in (metrics or []) if k not in val_keys]
    if missing:
        raise ValueError(f'not in the logs: {", ".join(missing)}')
    distance = [k for k in val_keys if _is_distance(k)]
    overlap = [k for k in val_keys if not _is_distance(k)]
    panels = [('training losses', train_keys, True)] if train_keys else []
    if overlap:
        panels.append(('validation', overlap, False))
    if distance:
        panels.append(('validation distances (pixels)', distance, False))
    if not panels:
        raise ValueError('nothing to plot: no loss or metric keys in the logs')
    fig, axes = plt.subplots(1, len(panels), squeeze=False, sharex=True,
                             figsize=(4.8 * len(panels), 3.4))
    multi = len(curves) > 1
    for ax, (name, panel_keys, is_train) in zip(axes[0], panels):
        for label, (train, val) in curves.items():
            entries = train if is_train else val
            for key in panel_keys:
                xs, ys = _series(entries, key)
                if not xs:
                    continue
                text = f'{label}: {key}' if multi else key
                ax.plot(xs, ys, marker='o' if len(xs) < 30 else None,
                        markersize=3, linewidth=1.8 if key == 'loss' else 1.1,
                        label=text)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main(argv=None):
    args = parse_args(argv)
    curves = {}
    try:
        for path in args.inputs:
            label = osp.basename(osp.normpath(path))
            if label in curves:
                label = osp.normpath(path)
            curves[label] = load_curves(path)
        plot(curves, args.out, args.keys, args.metrics, args.title)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    for label, (train, val) in curves.items():
        print(f'{label}: {len(train)} training and {len(val)} validation '
              'entries')
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
