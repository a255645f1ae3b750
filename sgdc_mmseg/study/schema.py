"""The study file: what a study is made of, read and checked.

A *study file* (``configs/studies/*.py``, an mmengine config) names the
variants, each one a config file, and the seeds::

    variants = dict(sgdc='../sgdc/sgdc_....py',
                    pool='../sgdc/sgdc-pool_....py')
    seeds = [0, 1, 2]
    work_dir = 'work_dirs/studies/my_study'   # relative to the current dir
    compare = [('sgdc', 'pool')]               # (candidate, baseline) pairs
    external = dict(ph2=dict(                  # optional external test sets
        dataset=dict(type='PH2Dataset', data_root='data/ph2',
                     ann_file='splits/all.txt'),
        variants=['sgdc', 'pool']))
    description = '...'                        # optional, heads results.md
    metrics = 'medical'                        # optional metric set
    iters = 300                                # optional: as --iters
    folds = dict(num_folds=5, ...)             # optional k-fold axis
    ensemble = True                            # optional (:mod:`.ensembles`)
    postprocess = True                         # optional, with folds

``iters`` shortens (or lengthens) every run's schedule as ``--iters`` does
(the command line's ``--iters`` wins); it counts in the fingerprints.

``metrics`` names the metric set the study reports (:data:`METRIC_SETS`):
``'medical'`` (default: ``MedicalMetric``'s IoU, Dice, HD95, ASSD and
mmseg's mIoU), ``'vessel'`` (``VesselMetric``: F1, Se, Sp, AUC, clDice
inside the field of view, pooled over pixels) or ``'nuclei'``
(``NucleiMetric``: per-image means of Dice, IoU, AJI, PQ).

``folds`` makes the folds of a k-fold split an axis of the grid (every
variant x seed x fold is trained on the fold's training part and tested on
its held-out part; :mod:`.folds`)::

    folds = dict(
        num_folds=5,
        # split files (ann_file, relative to the dataset's data_root or
        # absolute), '{fold}' replaced by the fold index:
        train_split='splits/fold{fold}_train.txt',
        test_split='splits/fold{fold}_val.txt',
        # or: generate them (in WORK_DIR/splits/) from the image names of a
        # folder with sgdc_mmseg.datasets.splits.kfold (grouped_kfold when
        # group_regex is given: its first group of a name is the group):
        generate=dict(images='data/x/train/images', suffix='.jpg', seed=0,
                      group_regex=None),
        # optional data_prefix of the held-out part (e.g. the training
        # folder when the config tests on another folder):
        test_data_prefix=dict(img_path='train/images',
                              seg_map_path='train/masks'))

Config paths are relative to the study file (or absolute, or existing from
the current directory). Config files can also be given directly instead of
a study file; a variant is then named after the part of the file name
before the first ``_`` (:func:`variant_name`).

A study is a plain dict (:func:`load_study`): ``name``, ``variants`` (name
-> absolute config path, in order), ``seeds``, ``work_dir`` (None when not
given), ``compare`` (a list of (candidate, baseline) tuples), ``external``
(set name -> dict with ``dataset`` and/or ``overrides`` and optional
``variants``), ``description``, ``iters`` (None when not given),
``metrics`` (the metric set's name), ``ensemble`` and ``postprocess``
(booleans) and ``folds`` (None or the checked dict of
:func:`sgdc_mmseg.study.folds.check_folds`). Every problem raises
:class:`StudyError` naming the file, variant or argument.

:data:`METRICS` are the ``summary.json`` metrics a study reports by
default, with their column name, label, direction and per-image column;
:data:`METRIC_SETS` holds every set, :func:`study_metrics` a study's.
"""
import collections
import os.path as osp

from ..evaluation.test_outputs import (MEDICAL_MASSD, MEDICAL_MDICE,
                                       MEDICAL_MHD95, MEDICAL_MIOU,
                                       MMSEG_MIOU)
from .errors import StudyError  # defined there, raised and exported here


#: One reported metric: results column, ``summary.json`` metric key, label
#: in results.md/png, whether higher values are better, and its per-image
#: column in the metric set's per-image CSV (``X`` matches the column ``X``
#: or, averaged over the classes, the columns ``X.<class>``; None: no
#: per-image value, e.g. a dataset-level score).
StudyMetric = collections.namedtuple(
    'StudyMetric', ('column', 'key', 'label', 'higher_is_better',
                    'per_image'), defaults=(None, ))
#: A metric set: its metrics and the per-image CSV of ``tools/test.py
#: --out`` that holds their per-image values.
MetricSet = collections.namedtuple('MetricSet', ('metrics', 'per_image_csv'))

METRICS = (
    StudyMetric('IoU', MEDICAL_MIOU, 'IoU (%)', True, 'IoU'),
    StudyMetric('Dice', MEDICAL_MDICE, 'Dice (%)', True, 'Dice'),
    StudyMetric('HD95', MEDICAL_MHD95, 'HD95 (px)', False, 'HD95'),
    StudyMetric('ASSD', MEDICAL_MASSD, 'ASSD (px)', False, 'ASSD'),
    StudyMetric('mmseg_mIoU', MMSEG_MIOU, 'mmseg mIoU (%)', True),
)
#: VesselMetric's pooled scores inside the field of view (keys
#: ``vessel/<score>``; per-image values in its CSV's ``<score>`` columns).
VESSEL_METRICS = (
    StudyMetric('F1', 'vessel/F1', 'F1/Dice (%)', True, 'F1'),
    StudyMetric('Se', 'vessel/Se', 'Se (%)', True, 'Se'),
    StudyMetric('Sp', 'vessel/Sp', 'Sp (%)', True, 'Sp'),
    StudyMetric('AUC', 'vessel/AUC', 'AUC (%)', True, 'AUC'),
    StudyMetric('clDice', 'vessel/clDice', 'clDice (%)', True, 'clDice'),
)
#: NucleiMetric's per-image means (keys ``nuclei/m<score>``).
NUCLEI_METRICS = (
    StudyMetric('Dice', 'nuclei/mDice', 'Dice (%)', True, 'Dice'),
    StudyMetric('IoU', 'nuclei/mIoU', 'IoU (%)', True, 'IoU'),
    StudyMetric('AJI', 'nuclei/mAJI', 'AJI (%)', True, 'AJI'),
    StudyMetric('PQ', 'nuclei/mPQ', 'PQ (%)', True, 'PQ'),
)
#: Metric set name -> :class:`MetricSet` (CSV names as the metrics write
#: them: ``PER_IMAGE_CSV_NAME``, ``VESSEL_CSV_NAME``, ``NUCLEI_CSV_NAME``).
METRIC_SETS = {
    'medical': MetricSet(METRICS, 'per_image_metrics.csv'),
    'vessel': MetricSet(VESSEL_METRICS, 'per_image_vessel_metrics.csv'),
    'nuclei': MetricSet(NUCLEI_METRICS, 'per_image_nuclei_metrics.csv'),
}
DEFAULT_METRIC_SET = 'medical'


def study_metric_set(study):
    """The :class:`MetricSet` of ``study`` (its ``metrics``, default
    ``'medical'``); an unknown name is a :class:`StudyError`."""
    name = study.get('metrics') or DEFAULT_METRIC_SET
    if name not in METRIC_SETS:
        raise StudyError(f'study {study.get("name")!r}: metrics = {name!r} '
                         f'is not one of {sorted(METRIC_SETS)}')
    return METRIC_SETS[name]


def study_metrics(study):
    """The metrics (:class:`StudyMetric` tuple) ``study`` reports."""
    return study_metric_set(study).metrics


def resolve_path(path, base_dir):
    """``path`` as an absolute path: kept when absolute or existing from
    the current directory, else taken relative to ``base_dir``."""
    path = osp.expanduser(path)
    if osp.isabs(path) or osp.exists(path):
        return osp.abspath(path)
    return osp.abspath(osp.join(base_dir, path))


def variant_name(config):
    """``configs/sgdc/sgdc-pool_r50_....py`` -> ``sgdc-pool``."""
    return osp.basename(config).split('_')[0].rsplit('.py', 1)[0]


def load_study(paths):
    """Read a study file, or build a study from config files, and check it.

    Returns the study dict (see the module docstring).
    """
    from mmengine.config import Config
    if not paths:
        raise StudyError('give a study file or one or more config files')
    for path in paths:
        if not osp.isfile(path):
            raise StudyError(f'no such file: {path}')
    first = Config.fromfile(paths[0])
    if 'variants' in first and len(paths) == 1:
        study = _study_from_file(paths[0], first)
    else:
        study = _study_from_configs(paths)
    check_study(study)
    return study


def _study_from_file(path, cfg):
    """The study of the study file ``path`` (loaded as ``cfg``)."""
    base = osp.dirname(osp.abspath(path))
    variants = cfg['variants']
    if not isinstance(variants, dict) or not variants:
        raise StudyError(f'{path}: `variants` must be a non-empty '
                         'dict of name -> config file')
    return dict(
        name=osp.splitext(osp.basename(path))[0],
        variants={str(k): resolve_path(v, base)
                  for k, v in variants.items()},
        seeds=list(cfg.get('seeds', [0])),
        work_dir=cfg.get('work_dir'),
        compare=[tuple(p) for p in cfg.get('compare', [])],
        external=dict(cfg.get('external', {}) or {}),
        description=cfg.get('description', ''),
        iters=_iters_entry(path, cfg.get('iters')),
        metrics=cfg.get('metrics', DEFAULT_METRIC_SET),
        ensemble=bool(cfg.get('ensemble', False)),
        postprocess=bool(cfg.get('postprocess', False)),
        folds=_folds_entry(path, cfg.get('folds')))


def _iters_entry(path, iters):
    """The study file's ``iters`` (None, or an integer >= 1)."""
    if iters is not None and (isinstance(iters, bool) or
                              not isinstance(iters, int) or iters < 1):
        raise StudyError(f'{path}: iters must be an integer >= 1, got '
                         f'{iters!r}')
    return iters


def _folds_entry(path, folds):
    """The checked ``folds`` entry of the study file ``path`` (None when
    absent)."""
    if folds is None:
        return None
    from .folds import check_folds
    return check_folds(folds, path)


def _study_from_configs(paths):
    """A one-seed study of config files, each a variant named by
    :func:`variant_name`."""
    from mmengine.config import Config
    variants = {}
    for path in paths:
        if 'variants' in Config.fromfile(path):
            raise StudyError(f'{path} is a study file: give it alone')
        name = variant_name(path)
        if name in variants:
            raise StudyError(
                f'two configs give the variant name {name!r}: '
                f'{variants[name]} and {path}; use a study file to name '
                'them')
        variants[name] = osp.abspath(path)
    return dict(name='study', variants=variants, seeds=[0], work_dir=None,
                compare=[], external={}, description='', iters=None,
                metrics=DEFAULT_METRIC_SET, folds=None, ensemble=False,
                postprocess=False)


def check_study(study):
    """Raise :class:`StudyError` unless every variant's config exists and
    the comparisons and external sets name known variants and the metric
    set is known."""
    study_metric_set(study)
    for name, config in study['variants'].items():
        if not osp.isfile(config):
            raise StudyError(f'variant {name!r}: config {config} not found')
    for pair in study['compare']:
        if len(pair) != 2 or any(p not in study['variants'] for p in pair):
            raise StudyError(f'compare entry {pair!r} must name two of the '
                             f'variants {list(study["variants"])}')
    for ext_name, ext in study['external'].items():
        if 'metric_prefix' in ext:
            if 'dataset' in ext or 'overrides' in ext:
                raise StudyError(f'external set {ext_name!r}: '
                                 '`metric_prefix` reads the runs\' own test '
                                 'and takes no `dataset` or `overrides`')
        elif 'dataset' not in ext and 'overrides' not in ext:
            raise StudyError(f'external set {ext_name!r} needs a `dataset` '
                             'and/or `overrides`, or a `metric_prefix`')
        for v in ext.get('variants', list(study['variants'])):
            if v not in study['variants']:
                raise StudyError(f'external set {ext_name!r} names unknown '
                                 f'variant {v!r}')


def select_variants_and_seeds(study, variants=None, seeds=None):
    """A copy of ``study`` restricted to ``variants`` (in that order; the
    comparisons between them kept) and with ``seeds`` when given. Unknown
    variant names are a :class:`StudyError` naming ``--variants``."""
    study = dict(study)
    if variants:
        unknown = [v for v in variants if v not in study['variants']]
        if unknown:
            raise StudyError(f'--variants: unknown {unknown}; the study has '
                             f'{list(study["variants"])}')
        study['variants'] = {v: study['variants'][v] for v in variants}
        study['compare'] = [p for p in study['compare']
                            if all(v in variants for v in p)]
    if seeds:
        study['seeds'] = list(seeds)
    return study


def study_work_dir(study, work_dir=None):
    """The absolute work dir: ``work_dir`` if given, else the study's, else
    ``work_dirs/studies/<name>`` (relative ones from the current dir)."""
    return osp.abspath(work_dir or study['work_dir'] or
                       osp.join('work_dirs', 'studies', study['name']))
