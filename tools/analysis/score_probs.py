#!/usr/bin/env python
"""Score saved class probabilities without the model.

Usage::

    python tools/test.py CONFIG CKPT --out DIR --save-probs [--ensemble ...]
    python tools/analysis/score_probs.py CONFIG DIR/probs [--out DIR2]
        [--postprocess FILE] [--overwrite] [--cfg-options k=v ...]

Every test image of CONFIG needs ``PROBS_DIR/<image stem>.npz`` (float16
``probs``, num_classes x H x W at the image's size; a missing or malformed
file stops the run, naming it). The label map is the argmax (``p >
threshold`` for a single-logit model), post-processed with
``--postprocess``, and scored by the config's test evaluators as
``tools/test.py`` scores a model; ``--out`` writes the same files as
``tools/test.py --out``. See docs/workflow.md.
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.score_probs import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
