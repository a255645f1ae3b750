"""The figure of training curves: a losses panel and validation panels
(overlap metrics; distances such as ``medical/mHD95`` in their own panel),
several runs in one figure. Curves are read by
:func:`sgdc_mmseg.engine.training_logs.load_curves`."""
import math
import os
import os.path as osp

#: Keys of mmengine's log entries that are no curves.
NON_CURVE_KEYS = ('step', 'iter', 'epoch', 'time', 'data_time', 'memory',
                  'lr', 'base_lr')


def _series(entries, key):
    points = [(e['step'], e[key]) for e in entries
              if isinstance(e.get(key), (int, float)) and
              math.isfinite(e[key])]
    return [p[0] for p in points], [p[1] for p in points]


def _is_count(key):
    """Bookkeeping, not a curve: step/lr/time keys and counts such as
    ``medical/num_skipped_ignored``."""
    return key in NON_CURVE_KEYS or key.split('/')[-1].startswith('num_')


def curve_keys(entries, wanted, default):
    """Numeric curve keys of ``entries`` in order of appearance (counts and
    bookkeeping left out): those ``default`` accepts, or of ``wanted`` those
    present."""
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


def plot_curves(curves, out, keys=None, metrics=None, title=None):
    """Draw ``{label: (train, val)}`` into ``out`` (PNG)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    all_train = [e for t, _ in curves.values() for e in t]
    all_val = [e for _, v in curves.values() for e in v]
    train_keys = curve_keys(all_train, keys, lambda k: 'loss' in k)
    val_keys = curve_keys(all_val, metrics, lambda k: True)
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
