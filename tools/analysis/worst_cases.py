#!/usr/bin/env python
"""A figure of the worst test cases: image, ground truth, prediction, SGE
edge map and true boundary, one row per case, worst first.

Usage::

    python tools/test.py CONFIG CHECKPOINT --out DIR      # per-image metrics
    python tools/analysis/worst_cases.py CONFIG CHECKPOINT DIR/summary.json \\
        --out worst.png [--num 8] [--sort-by dice|hd95] [--class NAME]
        [--device auto|cpu|cuda:0] [--thumb 160] [--colors N]
        [--cfg-options k=v ...] [--non-strict]

METRICS is ``summary.json`` or ``per_image_metrics.csv`` written by
``tools/test.py --out`` (``MedicalMetric``). Cases are ranked by Dice
(lowest first) or HD95 (highest first) of ``--class`` (default: the mean
over the foreground classes of the row). The model is run again on those
images with the config's test pipeline (same predictions as the test); the
SGE edge map is its boundary probability, the true boundary is
``seg_to_boundary`` of the ground truth at the thumbnail size (width 1).
Overlays fill and outline each foreground class in the dataset palette.
The checkpoint must fit the model (see :mod:`sgdc_mmseg.engine.weights`);
``--non-strict`` loads what fits, with a warning.
"""
import argparse
import csv
import json
import math
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import sgdc_mmseg  # noqa: E402,F401  (compat layer first)
from mmengine.config import DictAction  # noqa: E402

SORT_KEYS = dict(dice='Dice', hd95='HD95')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Figure of the worst test cases (image, ground truth, '
        'prediction, SGE edge map, true boundary)')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        'metrics', help='summary.json or per_image_metrics.csv from '
        'tools/test.py --out')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument('--num', type=int, default=8,
                        help='number of cases (default 8)')
    parser.add_argument('--sort-by', choices=sorted(SORT_KEYS),
                        default='dice', help='dice (lowest first, default) '
                        'or hd95 (highest first)')
    parser.add_argument('--class', dest='class_name', default=None,
                        help='rank by this class (default: mean over the '
                        'foreground classes)')
    parser.add_argument('--device', default='auto',
                        help='cpu, cuda:N or auto (default)')
    parser.add_argument('--thumb', type=int, default=160,
                        help='longest side of each panel in pixels '
                        '(default 160)')
    parser.add_argument('--colors', type=int, default=0,
                        help='store a palette PNG with this many colours '
                        '(2-256; default 0: full colour)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
        help='override settings in the config')
    parser.add_argument(
        '--non-strict', action='store_true',
        help='load a checkpoint that does not fit the model (missing, '
        'unexpected or differently shaped tensors): what fits is loaded, '
        'with a warning')
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f'--num must be >= 1, got {args.num}')
    if args.thumb < 16:
        parser.error(f'--thumb must be >= 16, got {args.thumb}')
    return args


def _number(value):
    if value is None or value == '':
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def load_per_image(path):
    """Rows of per-image metrics from ``summary.json`` or a CSV."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'metrics file "{path}" not found')
    if path.lower().endswith('.json'):
        with open(path, encoding='utf-8') as f:
            rows = json.load(f).get('per_image', None)
        if not rows:
            raise ValueError(
                f'{path} has no per-image metrics (the test ran without '
                'MedicalMetric)')
    elif path.lower().endswith('.csv'):
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise ValueError(f'{path} has no rows')
    else:
        raise ValueError(f'metrics file must be .json or .csv, got {path}')
    return rows


def case_score(row, metric, class_name=None):
    """``metric`` (``'Dice'``/``'HD95'``) of ``class_name``, or the mean over
    the row's classes; None when undefined."""
    if class_name is not None:
        key = f'{metric}.{class_name}'
        if key not in row:
            classes = sorted(k.split('.', 1)[1] for k in row
                             if k.startswith(f'{metric}.'))
            raise ValueError(f'no column {key!r} in the metrics; classes '
                             f'there: {classes}')
        return _number(row[key])
    values = [_number(v) for k, v in row.items()
              if k.startswith(f'{metric}.')]
    values = [v for v in values if v is not None]
    if not values and not any(k.startswith(f'{metric}.') for k in row):
        raise ValueError(f'no {metric}.<class> columns in the metrics')
    return sum(values) / len(values) if values else None


def rank_cases(rows, sort_by='dice', class_name=None):
    """Rows sorted worst first (undefined scores last), with ``score``."""
    metric = SORT_KEYS[sort_by]
    # Images MedicalMetric did not score (ground truth entirely ignored)
    # are not cases.
    rows = [r for r in rows if not r.get('skipped')]
    scored = [(case_score(r, metric, class_name), r) for r in rows]
    defined = [(s, r) for s, r in scored if s is not None]
    undefined = [(s, r) for s, r in scored if s is None]
    defined.sort(key=lambda sr: sr[0], reverse=(sort_by == 'hd95'))
    return defined + undefined


def _stem(path):
    return osp.splitext(osp.basename(str(path)))[0]


def find_items(dataset, rows):
    """The dataset's data info of every row (by ``img_path``, else stem)."""
    by_path, by_stem = {}, {}
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        by_path[osp.abspath(info['img_path'])] = info
        by_stem.setdefault(_stem(info['img_path']), []).append(info)
    items = []
    for row in rows:
        info = by_path.get(osp.abspath(str(row.get('img_path', ''))))
        if info is None:
            matches = by_stem.get(str(row.get('image', '')), [])
            info = matches[0] if len(matches) == 1 else None
        if info is None:
            raise ValueError(
                f'image {row.get("img_path") or row.get("image")!r} of the '
                'metrics is not in the config\'s test set (were the metrics '
                'made with another config or data root?)')
        items.append(info)
    return items


def _thumb_size(shape, thumb):
    h, w = shape[:2]
    scale = thumb / max(h, w)
    return max(1, round(w * scale)), max(1, round(h * scale))


def render(cases, results, out, palette, class_ids, thumb, sort_by,
           ignore_index=255, colors=0):
    """Draw the grid of ``results`` (worst first) into ``out``."""
    import cv2
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from sgdc_mmseg.models.utils import seg_to_boundary
    from sgdc_mmseg.visualization import overlay_mask, save_figure

    titles = ['image', 'ground truth', 'prediction', 'SGE edge map',
              'true boundary']
    rows = len(results)
    w0, h0 = _thumb_size(results[0].image.shape, thumb)
    cell = thumb / 100  # inches at dpi 100: panels at about thumb pixels
    fig_h = rows * cell * h0 / w0 + 0.6
    fig, axes = plt.subplots(rows, 5, squeeze=False,
                             figsize=(5 * cell + 0.9, fig_h))
    for r, ((score, row), res) in enumerate(zip(cases, results)):
        size = _thumb_size(res.image.shape, thumb)
        image = cv2.resize(res.image, size, interpolation=cv2.INTER_AREA)
        gt = cv2.resize(res.gt.astype(np.int32), size,
                        interpolation=cv2.INTER_NEAREST)
        pred = cv2.resize(res.pred.astype(np.int32), size,
                          interpolation=cv2.INTER_NEAREST)
        boundary = seg_to_boundary(torch.from_numpy(gt)[None], 1,
                                   ignore_index)[0].numpy()
        panels = [
            image[..., ::-1],
            overlay_mask(image, gt, palette, class_ids, width=1)[..., ::-1],
            overlay_mask(image, pred, palette, class_ids,
                         width=1)[..., ::-1],
            None if res.edge is None else cv2.resize(
                res.edge, size, interpolation=cv2.INTER_AREA),
            (boundary == 1).astype(np.float32),
        ]
        for c, panel in enumerate(panels):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if panel is None:
                ax.text(0.5, 0.5, 'no SGE', ha='center', va='center',
                        transform=ax.transAxes)
            elif panel.ndim == 2:
                ax.imshow(panel, cmap='magma' if c == 3 else 'gray',
                          vmin=0, vmax=1, interpolation='nearest')
            else:
                ax.imshow(panel, interpolation='nearest')
            if r == 0:
                ax.set_title(titles[c], fontsize=8)
        dice, hd95 = case_score(row, 'Dice'), case_score(row, 'HD95')
        label = [str(row.get('image') or res.stem)]
        if dice is not None:
            label.append(f'Dice {dice:.1f}')
        if hd95 is not None:
            label.append(f'HD95 {hd95:.1f}')
        axes[r][0].set_ylabel('\n'.join(label), fontsize=7)
    order = 'lowest Dice' if sort_by == 'dice' else 'highest HD95'
    fig.suptitle(f'{rows} worst cases ({order} first)', fontsize=9)
    fig.tight_layout(pad=0.3, h_pad=0.3, w_pad=0.2,
                     rect=(0, 0, 1, 1 - 0.3 / fig_h))
    save_figure(fig, out, dpi=100, colors=colors)
    plt.close(fig)
    return out


def check_figure_path(out, config, cfg_options=None):
    """Refuse a figure path inside the test data's image or mask folders
    (before any model work), as tools/test.py and tools/infer.py do."""
    from mmengine.config import Config

    from sgdc_mmseg.apis import check_output_dir, input_dirs_of_test_data
    if not osp.isfile(config):
        raise FileNotFoundError(f'config "{config}" not found')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    check_output_dir(osp.dirname(osp.abspath(out)),
                     input_dirs_of_test_data(cfg), what='--out folder')


def main(argv=None):
    args = parse_args(argv)
    from mmseg.registry import DATASETS

    from sgdc_mmseg.apis import StructureInferencer, load_segmentor
    try:
        check_figure_path(args.out, args.config, args.cfg_options)
        rows = load_per_image(args.metrics)
        cases = rank_cases(rows, args.sort_by, args.class_name)[:args.num]
        model = load_segmentor(args.config, args.checkpoint, args.device,
                               args.cfg_options,
                               strict=not args.non_strict)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise SystemExit(f'error: {e}')
    cfg = model.cfg
    dataset_cfg = cfg.test_dataloader.dataset
    dataset = DATASETS.build(dataset_cfg)
    try:
        items = find_items(dataset, [row for _, row in cases])
    except ValueError as e:
        raise SystemExit(f'error: {e}')
    pipeline = dataset_cfg.get('pipeline', None) or cfg.test_pipeline
    try:
        inferencer = StructureInferencer(model, pipeline=pipeline,
                                         with_structure=True)
    except ValueError:  # no SGE in this model: no edge column
        inferencer = StructureInferencer(model, pipeline=pipeline)
    by_path = {}
    for item, outcome in inferencer.run(items, batch_size=1):
        if isinstance(outcome, Exception):
            raise SystemExit(f'error: {item["img_path"]}: {outcome}')
        if outcome.gt is None:
            raise SystemExit('error: the test pipeline loads no annotations '
                             '(LoadAnnotations), so there is no ground truth')
        if outcome.gt.shape != outcome.pred.shape:
            raise SystemExit(
                f'error: {item["img_path"]}: ground truth {outcome.gt.shape} '
                f'and prediction {outcome.pred.shape} differ in size')
        by_path[item['img_path']] = outcome
    results = [by_path[item['img_path']] for item in items]
    ignore_index = getattr(model.decode_head, 'ignore_index', 255)
    render(cases, results, args.out, inferencer.palette, inferencer.draw_ids,
           args.thumb, args.sort_by, ignore_index, args.colors)
    print(f'wrote {args.out} ({len(results)} cases, sorted by '
          f'{args.sort_by})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
