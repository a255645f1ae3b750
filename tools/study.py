"""Run a controlled comparison: every variant x seed trained and tested alike.

A *study file* (``configs/studies/*.py``, an mmengine config) names the
variants (one config file each), the seeds, the work dir, the
(candidate, baseline) comparisons and optional external test sets; its
format is in ``sgdc_mmseg/study/schema.py``. Config files can also be given
directly instead of a study file; a variant is then named after the part of
the file name before the first ``_``.

For every run (variant, seed) ``tools/train.py`` trains the config with
``randomness.seed`` set, then ``tools/test.py --out`` scores the LAST
checkpoint (no checkpoint selection on the test data) with the config's test
evaluators plus ``MedicalMetric``. Each run lives in
``WORK_DIR/runs/<variant>/seed<k>/`` with its logs; ``result.json`` there
marks it finished, so re-running the command skips finished runs and resumes
an interrupted one from its last checkpoint. A run directory that holds a run
of a different configuration is an error (use another ``--work-dir``).
Runs go seed by seed (all variants of seed 0 first), so a grid stopped early
still has complete seeds. Afterwards (and with ``--report-only``) it writes

- ``results.csv``: one row per run (metrics, wall time, seconds/iteration),
- ``results.md``: mean +- sample std over seeds per variant, the requested
  comparisons (difference of means, seed std, Welch's t-test, and paired
  statistics: t-test over seeds, Wilcoxon over images, bootstrap CI), the
  folds, ensembles and post-processing of a cross-validation study,
  external sets,
- ``results.png``: the per-seed values of each variant.

The study file, runs, statistics and report live in
:mod:`sgdc_mmseg.study`; the command line in :mod:`sgdc_mmseg.cli.study`.

With ``folds`` in the study file every run is also one fold of a k-fold
split (``WORK_DIR/runs/<variant>/fold<f>/seed<k>/``), tested on the fold's
held-out part; the report pools the held-out images (docs/workflow.md,
"Cross-validation").

Example::

    python tools/study.py configs/studies/isic2017_cpu.py
    python tools/study.py configs/studies/isic2017_cpu.py \
        --variants sgdc pool --seeds 0 --iters 20 --work-dir /tmp/smoke
"""

import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from sgdc_mmseg.cli.study import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
