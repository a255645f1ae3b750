"""Test (and optionally visualise) a segmentor checkpoint.

Usage mirrors mmsegmentation's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show] [--show-dir DIR] [--wait-time S] [--tta]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
        [--non-strict] [--ensemble CKPT [CKPT ...]] [--save-probs]
        [--postprocess FILE]

The checkpoint is loaded with torch's ``weights_only`` unpickler through the
sgdc_mmseg compat layer; distributed runs without CUDA use gloo. It must fit
the model (same keys and shapes, see :mod:`sgdc_mmseg.engine.weights`),
otherwise the tool stops with an error before testing; ``--non-strict``
loads what fits and warns. The config's own ``load_from`` and ``resume`` are
ignored (the CHECKPOINT argument is what is tested).

``--out DIR`` sets ``output_dir`` on every evaluator that takes one (mmseg's
``IoUMetric`` writes the predicted masks to ``DIR/pred/<image stem>.png``,
the folder mmseg's ``confusion_matrix.py`` reads; ``MedicalMetric``
``DIR/per_image_metrics.csv``), adds a ``MedicalMetric`` when the config has
none (so that per-image metrics exist) and writes ``DIR/summary.json``: the
returned metrics, per-class values, per-image metrics, config path and
sha256, the checkpoints with their sha256, fold, TTA, post-processing, date
and versions (format in docs/inference.md).

``--ensemble CKPT ...`` averages the class probabilities of CHECKPOINT and
these checkpoints of the same config (each loaded strictly) before the
argmax; ``--save-probs`` (with ``--out``) writes ``DIR/probs/<image
stem>.npz``; ``--postprocess FILE`` applies a post-processing spec to the
label map (see docs/workflow.md).

Outputs never replace what the tool did not write (see
:mod:`sgdc_mmseg.apis.outputs`): before the model is built, ``--out`` and
``--show-dir`` are refused when they are, contain or lie inside a folder of
the test dataset (images, masks, split file; symlinks resolved), and an
existing ``summary.json``, ``per_image_metrics.csv``, ``pred/<image
stem>.png`` (or ``probs/<image stem>.npz``) in ``--out`` that is not listed in ``DIR/.sgdc_outputs.json`` stops the run
unless ``--overwrite`` is given. The evaluators write into
``DIR/.sgdc_staging``; the files are moved into place (atomically) after the
test.
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.test import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
