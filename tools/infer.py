"""Predict masks (and show what the SGE sees) for images, folders or globs.

Usage::

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] --out-dir DIR
        [--edges] [--device auto|cpu|cuda:0] [--batch-size N]
        [--resize auto|none|WxH] [--recursive] [--opacity A]
        [--tta] [--ensemble CKPT [CKPT ...]] [--save-probs]
        [--postprocess FILE]
        [--cfg-options k=v ...] [--no-progress] [--overwrite] [--non-strict]

INPUT is an image file, a folder (its image files; sub-folders with
``--recursive``) or a quoted glob such as ``'scans/**/*.jpg'``. Written under
DIR, each named after the image's stem:

* ``masks/<stem>.png``: class ids (0 = background, ...), original size;
* ``overlays/<stem>.png``: the image with the prediction filled and outlined;
* with ``--edges``: ``edges/<stem>.png`` (SGE boundary probability x 255)
  and ``guidance/<stem>.png`` (first 3 PCA components of the SGE guidance
  map as RGB; only for ``kernel_source='structure'`` models; from the
  first checkpoint's model and the original view only);
* with ``--save-probs``: ``probs/<stem>.npz`` (array ``probs``, float16,
  num_classes x H x W at the original size, summing to 1; the mean over
  ``--tta`` views and ``--ensemble`` models; not post-processed).

``--tta`` averages the class probabilities of the image and its horizontal
and vertical flips, ``--ensemble`` those of further checkpoints of the same
config (each must fit like CHECKPOINT); ``--postprocess FILE`` applies a
post-processing spec to the masks (see docs/workflow.md).

DIR must not be an input folder, contain one or lie inside one (symlinks
resolved); an existing file there that this tool did not write (it lists its
own in ``DIR/.sgdc_outputs.json``) stops the run unless ``--overwrite`` is
given. Both are checked, and DIR is created and probed for writing, before
the model is loaded. Files are written atomically, so a killed run can simply
be run again.

The checkpoint must fit the model exactly (no missing or unexpected keys,
no shape mismatches); otherwise the run stops before any image, naming the
checkpoint and the first offending keys. ``--non-strict`` loads what fits
and warns. A bare state dict (no ``meta``) loads; the class names then come
from the config's dataset.

An image that cannot be read does not stop the run: the others are written,
the failures are listed at the end and the exit status is 1. See
docs/inference.md.
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.infer import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
