#!/usr/bin/env python
"""Benchmark: scoring mask pairs through ``MedicalMetric`` against a plain
scipy loop computing HD95 on the full images.

    python tools/benchmark/medical_metric.py [--num 1000] [--size 512]
        [--threads 2] [--out docs/benchmarks.md]

Masks are seeded synthetic lesions (a union of random ellipses; the
"prediction" is the ground truth shifted and dilated/eroded by a few pixels).
Two timings in the same run:

* ``MedicalMetric``: ``process`` (one call per batch of 8, data samples as
  mmseg builds them) + ``evaluate``; IoU, Dice, HD95 and ASSD.
* scipy loop: for each pair, the surfaces by ``scipy.ndimage.binary_erosion``
  and ``distance_transform_edt`` of the full image, then HD95, i.e. what
  MONAI and medpy do on CPU (HD95 only).

Both must give the same HD95 (the maximum difference is printed). Writes a
Markdown section between ``<!-- medical-metric:begin/end -->`` markers when
``--out`` is given.
"""
import argparse
import datetime
import os
import os.path as osp
import platform
import sys
import time

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from _report import cpu_name, write_section  # noqa: E402  (this folder)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num', type=int, default=1000, help='mask pairs')
    parser.add_argument('--size', type=int, default=512, help='mask side')
    parser.add_argument('--threads', type=int, default=2,
                        help='OpenCV / torch threads')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='Markdown file to update')
    return parser.parse_args(argv)


def make_pairs(num, size, seed):
    import cv2
    import numpy as np
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(num):
        gt = np.zeros((size, size), np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            center = (int(rng.integers(size // 4, 3 * size // 4)),
                      int(rng.integers(size // 4, 3 * size // 4)))
            axes = (int(rng.integers(size // 16, size // 4)),
                    int(rng.integers(size // 16, size // 4)))
            cv2.ellipse(gt, center, axes, float(rng.uniform(0, 180)), 0, 360,
                        1, -1)
        shift = rng.integers(-6, 7, size=2)
        pred = np.roll(gt, tuple(int(s) for s in shift), axis=(0, 1))
        k = int(rng.integers(1, 6))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        pred = (cv2.dilate(pred, kernel) if rng.random() < 0.5 else
                cv2.erode(pred, kernel))
        pairs.append((pred, gt))
    return pairs


def scipy_loop(pairs):
    import numpy as np
    from scipy import ndimage
    cross = ndimage.generate_binary_structure(2, 1)
    out = []
    for pred, gt in pairs:
        p, g = pred.astype(bool), gt.astype(bool)
        sp = p & ~ndimage.binary_erosion(p, cross, border_value=0)
        sg = g & ~ndimage.binary_erosion(g, cross, border_value=0)
        d_pg = ndimage.distance_transform_edt(~sg)[sp]
        d_gp = ndimage.distance_transform_edt(~sp)[sg]
        out.append(max(np.percentile(d_pg, 95), np.percentile(d_gp, 95)))
    return np.asarray(out)


def metric_run(pairs):
    import torch
    from sgdc_mmseg.evaluation import MedicalMetric
    metric = MedicalMetric()
    metric.dataset_meta = dict(classes=('background', 'lesion'))
    samples = [
        dict(img_path=f'{i:05d}.png',
             pred_sem_seg=dict(data=torch.from_numpy(p.astype('int64'))[None]),
             gt_sem_seg=dict(data=torch.from_numpy(g.astype('int64'))[None]))
        for i, (p, g) in enumerate(pairs)
    ]
    start = time.perf_counter()
    for i in range(0, len(samples), 8):
        metric.process({}, samples[i:i + 8])
    res = metric.evaluate(len(samples))
    elapsed = time.perf_counter() - start
    hd = [r['HD95.lesion'] for r in metric.per_image_results]
    return elapsed, res, hd


def main(argv=None):
    args = parse_args(argv)
    import cv2
    import numpy as np
    import torch
    cv2.setNumThreads(args.threads)
    torch.set_num_threads(args.threads)
    import sgdc_mmseg  # noqa: F401
    from mmengine.logging import MMLogger
    MMLogger.get_instance('medical_metric_benchmark', log_level='WARNING')

    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    pairs = make_pairs(args.num, args.size, args.seed)
    t_metric, res, hd_metric = metric_run(pairs)
    start = time.perf_counter()
    hd_scipy = scipy_loop(pairs)
    t_scipy = time.perf_counter() - start
    diff = float(np.max(np.abs(np.asarray(hd_metric) - hd_scipy)))
    ratio = t_metric / t_scipy
    cmd = 'python tools/benchmark/medical_metric.py ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    text = '\n'.join([
        '## MedicalMetric (IoU, Dice, HD95, ASSD) vs a plain scipy HD95 loop',
        '',
        f'- Command: `{cmd.strip()}`',
        f'- Machine: {cpu_name()}, {os.cpu_count()} cores, '
        f'{args.threads} threads; Python {platform.python_version()}, '
        f'OpenCV {cv2.__version__}, numpy {np.__version__}; 1-min load '
        f'average at start {load:.2f}'
        + (' (above the core count: timings taken under load)'
           if load > (os.cpu_count() or 1) else ''),
        f'- Date: {datetime.date.today().isoformat()}',
        f'- Data: {args.num} seeded synthetic {args.size}x{args.size} mask '
        'pairs (ellipse unions; prediction = shifted, dilated/eroded gt)',
        '',
        '| What | Time (s) | Per pair (ms) |',
        '|---|---:|---:|',
        f'| `MedicalMetric` process + evaluate (IoU, Dice, HD95, ASSD) | '
        f'{t_metric:.2f} | {t_metric / args.num * 1e3:.2f} |',
        f'| scipy loop, full-image EDT (HD95 only) | {t_scipy:.2f} | '
        f'{t_scipy / args.num * 1e3:.2f} |',
        '',
        f'Ratio MedicalMetric / scipy loop: **{ratio:.3f}** (target <= 0.3); '
        f'MedicalMetric total {t_metric:.2f} s (target <= 10 s for 1000 '
        f'pairs of 512x512). Max |HD95 difference| between the two: '
        f'{diff:.2e} px. mHD95 {res["medical/mHD95"]:.3f} px, mDice '
        f'{res["medical/mDice"]:.2f}.',
    ])
    print(text)
    if args.out:
        write_section(args.out, text, '<!-- medical-metric:begin -->',
                      '<!-- medical-metric:end -->')
    return 0


if __name__ == '__main__':
    sys.exit(main())
