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
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.plot_curves import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
