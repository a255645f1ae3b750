"""``tools/benchmark/medical_metric.py``: scoring mask pairs through
``MedicalMetric`` against a plain scipy loop computing HD95 on the full
images, in the same run.

Masks are seeded synthetic lesions (:func:`make_pairs`: a union of random
ellipses; the "prediction" is the ground truth shifted and dilated/eroded
by a few pixels). ``MedicalMetric``: ``process`` (one call per batch of 8,
data samples as mmseg builds them) + ``evaluate``; IoU, Dice, HD95 and
ASSD. The scipy loop (:func:`scipy_hd95_loop`): for each pair, the surfaces
by ``scipy.ndimage.binary_erosion`` and ``distance_transform_edt`` of the
full image, then HD95, i.e. what MONAI and medpy do on CPU. Both must give
the same HD95 (the maximum difference is reported).
"""
import datetime
import os
import platform
import time

from .report import cpu_name

BEGIN, END = '<!-- medical-metric:begin -->', '<!-- medical-metric:end -->'


def make_pairs(num, size, seed):
    """``num`` seeded ``(pred, gt)`` uint8 0/1 masks of ``size x size``."""
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


def scipy_hd95_loop(pairs):
    """HD95 of each pair from full-image surfaces and distance transforms
    (scipy), as an array."""
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


def time_medical_metric(pairs):
    """``(seconds, evaluate()'s metrics, per-image lesion HD95)`` of
    ``MedicalMetric`` over ``pairs`` (batches of 8)."""
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


def medical_metric_section(command, num, size, threads, load, t_metric,
                           t_scipy, diff, res):
    """The Markdown section of one run."""
    import cv2
    import numpy as np
    ratio = t_metric / t_scipy
    return '\n'.join([
        '## MedicalMetric (IoU, Dice, HD95, ASSD) vs a plain scipy HD95 loop',
        '',
        f'- Command: `{command}`',
        f'- Machine: {cpu_name()}, {os.cpu_count()} cores, '
        f'{threads} threads; Python {platform.python_version()}, '
        f'OpenCV {cv2.__version__}, numpy {np.__version__}; 1-min load '
        f'average at start {load:.2f}'
        + (' (above the core count: timings taken under load)'
           if load > (os.cpu_count() or 1) else ''),
        f'- Date: {datetime.date.today().isoformat()}',
        f'- Data: {num} seeded synthetic {size}x{size} mask '
        'pairs (ellipse unions; prediction = shifted, dilated/eroded gt)',
        '',
        '| What | Time (s) | Per pair (ms) |',
        '|---|---:|---:|',
        f'| `MedicalMetric` process + evaluate (IoU, Dice, HD95, ASSD) | '
        f'{t_metric:.2f} | {t_metric / num * 1e3:.2f} |',
        f'| scipy loop, full-image EDT (HD95 only) | {t_scipy:.2f} | '
        f'{t_scipy / num * 1e3:.2f} |',
        '',
        f'Ratio MedicalMetric / scipy loop: **{ratio:.3f}** (target <= 0.3); '
        f'MedicalMetric total {t_metric:.2f} s (target <= 10 s for 1000 '
        f'pairs of 512x512). Max |HD95 difference| between the two: '
        f'{diff:.2e} px. mHD95 {res["medical/mHD95"]:.3f} px, mDice '
        f'{res["medical/mDice"]:.2f}.',
    ])


def run_medical_metric_benchmark(num, size, threads, seed, command,
                                 out=None, log=print):
    """Time both on ``num`` pairs of ``size x size`` with ``threads``
    OpenCV / torch threads; log the section and write it to ``out``
    (between :data:`BEGIN` and :data:`END`) when given; return it."""
    import cv2
    import numpy as np
    import torch
    cv2.setNumThreads(threads)
    torch.set_num_threads(threads)
    import sgdc_mmseg  # noqa: F401
    from mmengine.logging import MMLogger
    MMLogger.get_instance('medical_metric_benchmark', log_level='WARNING')

    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    pairs = make_pairs(num, size, seed)
    t_metric, res, hd_metric = time_medical_metric(pairs)
    start = time.perf_counter()
    hd_scipy = scipy_hd95_loop(pairs)
    t_scipy = time.perf_counter() - start
    diff = float(np.max(np.abs(np.asarray(hd_metric) - hd_scipy)))
    text = medical_metric_section(command, num, size, threads, load,
                                  t_metric, t_scipy, diff, res)
    log(text)
    if out:
        from .report import write_section
        write_section(out, text, BEGIN, END)
    return text
