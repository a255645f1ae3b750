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

Config paths are relative to the study file (or absolute, or existing from
the current directory). Config files can also be given directly instead of
a study file; a variant is then named after the part of the file name
before the first ``_`` (:func:`variant_name`).

A study is a plain dict (:func:`load_study`): ``name``, ``variants`` (name
-> absolute config path, in order), ``seeds``, ``work_dir`` (None when not
given), ``compare`` (a list of (candidate, baseline) tuples), ``external``
(set name -> dict with ``dataset`` and optional ``variants``) and
``description``. Every problem raises :class:`StudyError` naming the file,
variant or argument.

:data:`METRICS` are the ``summary.json`` metrics a study reports, with
their column name, label and direction.
"""
import collections
import os.path as osp

from ..evaluation.test_outputs import (MEDICAL_MASSD, MEDICAL_MDICE,
                                       MEDICAL_MHD95, MEDICAL_MIOU,
                                       MMSEG_MIOU)


class StudyError(Exception):
    """A study file, argument or run directory that cannot be used."""


#: One reported metric: results column, ``summary.json`` metric key, label
#: in results.md/png, and whether higher values are better.
StudyMetric = collections.namedtuple(
    'StudyMetric', ('column', 'key', 'label', 'higher_is_better'))

METRICS = (
    StudyMetric('IoU', MEDICAL_MIOU, 'IoU (%)', True),
    StudyMetric('Dice', MEDICAL_MDICE, 'Dice (%)', True),
    StudyMetric('HD95', MEDICAL_MHD95, 'HD95 (px)', False),
    StudyMetric('ASSD', MEDICAL_MASSD, 'ASSD (px)', False),
    StudyMetric('mmseg_mIoU', MMSEG_MIOU, 'mmseg mIoU (%)', True),
)


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
        description=cfg.get('description', ''))


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
                compare=[], external={}, description='')


def check_study(study):
    """Raise :class:`StudyError` unless every variant's config exists and
    the comparisons and external sets name known variants."""
    for name, config in study['variants'].items():
        if not osp.isfile(config):
            raise StudyError(f'variant {name!r}: config {config} not found')
    for pair in study['compare']:
        if len(pair) != 2 or any(p not in study['variants'] for p in pair):
            raise StudyError(f'compare entry {pair!r} must name two of the '
                             f'variants {list(study["variants"])}')
    for ext_name, ext in study['external'].items():
        if 'dataset' not in ext:
            raise StudyError(f'external set {ext_name!r} needs a `dataset`')
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
