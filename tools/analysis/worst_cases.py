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
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.worst_cases import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
