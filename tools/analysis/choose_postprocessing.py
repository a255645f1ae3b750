#!/usr/bin/env python
"""Choose post-processing on cross-validation predictions (nnU-Net's rule).

Usage::

    python tools/test.py FOLD_CONFIG CKPT --out DIR_k     # every fold k
    python tools/analysis/choose_postprocessing.py CONFIG DIR_0/pred \\
        [DIR_1/pred ...] -o WORK_DIR/postprocessing.json [--overwrite]
        [--metric dice|iou] [--min-sizes N ...] [--connectivity 1|2]
        [--cfg-options k=v ...]

The predictions of all folders are pooled with their ground truth (found by
image stem in CONFIG's test, val and train datasets). For each foreground
class, "keep the largest component" and "remove components below N pixels"
are tried; the best is kept only when the mean per-image Dice of that class
over all images strictly improves. Apply the file with ``tools/test.py`` or
``tools/infer.py --postprocess FILE``. See docs/workflow.md.
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.choose_postprocessing import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
