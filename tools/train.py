"""Train a segmentor with mmengine's Runner (the sgdc_mmseg compat layer on).

Usage mirrors mmsegmentation's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]]
        [--amp] [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]

``--resume`` alone resumes from the latest checkpoint in the work dir (as in
mmseg); ``--resume PATH`` (or ``--resume=PATH``) resumes from ``PATH``. Put
``--resume`` after CONFIG when giving no value.

Differences from mmseg: ``RNGStateHook`` is added to ``custom_hooks`` (exact
continuation on resume), distributed runs without CUDA use gloo
(:mod:`sgdc_mmseg.compat.dist`), and loading ``load_from`` (or a resumed
checkpoint) logs one line ``N tensors loaded, M missing, K unexpected, S
shape-mismatched, from FILE``, plus a warning naming the keys that did not
fit (loading stays non-strict, as fine-tuning needs; see
:mod:`sgdc_mmseg.engine.launch`).
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.train import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
