"""Controlled comparisons: every variant x seed of a study trained and
tested alike (the package behind ``tools/study.py``).

Where each part lives (imports go down this list, never up):

* :mod:`.schema`: the study file (variants, seeds, comparisons, external
  test sets, metric set, folds), its checks, and the metric sets.
* :mod:`.folds`: the folds of a k-fold split as an axis of the grid (split
  files given or generated, their config overrides).
* :mod:`.run_config`: what one run trains: the config file that inherits
  the variant's config, the schedule overrides of ``--iters``, the run
  fingerprint.
* :mod:`.runs`: run directories, training and testing through
  ``tools/train.py`` and ``tools/test.py`` in subprocesses, skipping
  finished runs, resuming interrupted ones, the grid.
* :mod:`.external`: finished runs tested on other datasets.
* :mod:`.ensembles`: ensembles of seeds and folds, post-processing chosen
  on cross-validation (through ``tools/test.py --ensemble/--postprocess``).
* :mod:`.paired`: paired statistics (Wilcoxon over images, t-test over
  seeds, hierarchical bootstrap CI), pure functions.
* :mod:`.statistics`: mean +- sample std over seeds, comparisons, Welch's
  t-test, and the paired statistics of each comparison.
* :mod:`.report`: ``results.csv``, ``results.md``, ``results.png`` (and
  ``results_external.csv``).

Importing this package imports no mmengine or mmseg module beyond what
:mod:`sgdc_mmseg` itself imports; the functions import them when needed.
"""
