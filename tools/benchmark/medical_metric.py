#!/usr/bin/env python
"""Benchmark: scoring mask pairs through ``MedicalMetric`` against a plain
scipy loop computing HD95 on the full images.

Usage::

    python tools/benchmark/medical_metric.py [--num 1000] [--size 512]
        [--threads 2] [--seed 0] [--out docs/benchmarks.md]

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
``--out`` is given. The benchmark is ``sgdc_mmseg/benchmark/medical_metric.py``.
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.benchmark_medical_metric import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
