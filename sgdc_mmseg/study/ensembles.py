"""Ensembles and post-processing of a finished study (nnU-Net's
deliverables), tested through ``tools/test.py --ensemble`` and
``--postprocess``.

Switched on in the study file (both default ``False``)::

    ensemble = True      # the rows below, when the runs allow them
    postprocess = True   # a study with folds only

* **Ensemble of seeds** (``ensemble``; two or more finished seeds): per
  variant and fold (or once without folds), the seeds' last checkpoints
  averaged (``tools/test.py RUN_CONFIG CKPT --ensemble CKPT ...``, the first
  seed's run config, so the fold's held-out part) into
  ``WORK_DIR/ensembles/<variant>/seeds[_fold<f>]/``; with folds pooled over
  the folds like the single models.
* **Ensemble of folds** (``ensemble``; a study with folds): per variant and
  seed, the folds' checkpoints averaged and tested on the test set of the
  variant's own config (e.g. ISIC 2017's official val split, which no fold
  saw), into ``WORK_DIR/ensembles/<variant>/folds_seed<k>/``.
* **Post-processing chosen on cross-validation** (``postprocess``): per
  variant and seed,
  :func:`sgdc_mmseg.apis.postprocessing.choose_from_prediction_dirs` on the
  pooled held-out predictions of all folds (``run_dir/test/pred``) saved
  as ``WORK_DIR/postprocessing/<variant>_seed<k>.json``; every fold then
  re-tested with ``--postprocess`` into
  ``WORK_DIR/postprocessed/<variant>/fold<f>/seed<k>/`` and pooled. The
  choice and its score use the same held-out images (nnU-Net's practice:
  optimistic by the choice among few candidates).

An existing ``summary.json`` (and spec file) is reused, so the report
regenerates without testing again. Rows: dicts with ``kind``
(``'ensemble of seeds'``, ``'ensemble of folds'``, ``'post-processed'``),
``variant``, ``seed`` (None for the ensemble of seeds), ``members``,
``num_images``, the study's metric columns and ``note``.
"""
import os
import os.path as osp
import sys

from ..evaluation.test_outputs import (KEY_METRICS, KEY_NUM_IMAGES,
                                       SUMMARY_NAME, read_summary)
from . import runs as _runs
from .runs import load_result, log_tail, run_logged, study_folds, study_runs
from .schema import study_metrics


def ensemble_test_cmd(config, checkpoints, out_dir, cfg_options=(),
                      postprocess=None, test_tool=None):
    """``tools/test.py CONFIG CKPT [--ensemble CKPT ...] [--postprocess
    FILE] --work-dir OUT --out OUT [--cfg-options ...]`` (the test tool:
    :data:`.runs.TEST_TOOL` unless given)."""
    cmd = [sys.executable, test_tool or _runs.TEST_TOOL, config,
           checkpoints[0]]
    if len(checkpoints) > 1:
        cmd += ['--ensemble'] + list(checkpoints[1:])
    if postprocess:
        cmd += ['--postprocess', postprocess]
    cmd += ['--work-dir', out_dir, '--out', out_dir]
    if cfg_options:
        cmd += ['--cfg-options'] + list(cfg_options)
    return cmd


class NotTested(Exception):
    """A row whose test has not run (and ``run_missing`` is False)."""


def _tested(cmd, out_dir, what, log):
    """The summary of ``out_dir``, testing with ``cmd`` first when there is
    none (:class:`NotTested` when ``log`` is None: report only);
    RuntimeError with the log's tail when the test fails."""
    summary = osp.join(out_dir, SUMMARY_NAME)
    if not osp.isfile(summary) and log is None:
        raise NotTested(out_dir)
    if not osp.isfile(summary):
        log(f'  {what}')
        os.makedirs(out_dir, exist_ok=True)
        log_path = osp.join(out_dir, 'test.log')
        rc, _ = run_logged(cmd, log_path)
        if rc != 0:
            raise RuntimeError(f'{what} failed; see {log_path}:\n'
                               + log_tail(log_path))
    return read_summary(summary)


def _finished(study, work_dir):
    """{(variant, seed, fold): (run, result)} of the finished runs."""
    out = {}
    for run in study_runs(study, work_dir):
        if run.is_finished():
            out[(run.variant, run.seed, run.fold)] = (run, load_result(run))
    return out


def _row(kind, variant, seed, members, summaries, metrics, note=''):
    """One row pooled over ``summaries`` (image-weighted means)."""
    n = [s.get(KEY_NUM_IMAGES) or 0 for s in summaries]
    row = dict(kind=kind, variant=variant, seed=seed, members=members,
               num_images=sum(n), note=note)
    for m in metrics:
        vals = [s.get(KEY_METRICS, {}).get(m.key) for s in summaries]
        if len(vals) == 1:
            row[m.column] = vals[0]
        elif any(v is None for v in vals) or not sum(n):
            row[m.column] = None
        else:
            row[m.column] = sum(v * k for v, k in zip(vals, n)) / sum(n)
    return row


def seed_ensemble_rows(study, work_dir, log=print):
    """The ensemble-of-seeds row of every variant with two or more seeds
    finished in every fold."""
    done, metrics, rows = _finished(study, work_dir), study_metrics(study), []
    for variant in study['variants']:
        summaries, members = [], None
        for fold in study_folds(study):
            group = [done[(variant, s, fold)] for s in study['seeds']
                     if (variant, s, fold) in done]
            if len(group) < 2:
                summaries = None
                break
            members = len(group)
            name = 'seeds' if fold is None else f'seeds_fold{fold}'
            out = osp.join(work_dir, 'ensembles', variant, name)
            first, result = group[0]
            cmd = ensemble_test_cmd(
                first.run_config, [r['checkpoint'] for _, r in group], out,
                result.get('cfg_options', []))
            summaries.append(_tested(cmd, out, f'ensemble of {members} '
                                     f'seeds: {variant} {name}', log))
        if summaries:
            rows.append(_row('ensemble of seeds', variant, None, members,
                             summaries, metrics))
    return rows


def fold_ensemble_rows(study, work_dir, log=print):
    """The ensemble-of-folds row of every variant and seed whose folds all
    finished, on the test set of the variant's own config."""
    if not study.get('folds'):
        return []
    done, metrics, rows = _finished(study, work_dir), study_metrics(study), []
    folds = study_folds(study)
    for variant, config in study['variants'].items():
        for seed in study['seeds']:
            group = [done.get((variant, seed, f)) for f in folds]
            if None in group:
                continue
            out = osp.join(work_dir, 'ensembles', variant,
                           f'folds_seed{seed}')
            cmd = ensemble_test_cmd(
                config, [r['checkpoint'] for _, r in group], out,
                group[0][1].get('cfg_options', []))
            summary = _tested(cmd, out, f'ensemble of {len(folds)} folds: '
                              f'{variant} seed {seed}', log)
            rows.append(_row('ensemble of folds', variant, seed, len(folds),
                             [summary], metrics,
                             note=f'test set of `{osp.basename(config)}`'))
    return rows


def postprocessed_rows(study, work_dir, log=print):
    """The post-processed rows (module docstring) of every variant and
    seed whose folds all finished with predictions."""
    if not study.get('folds'):
        return []
    done, metrics, rows = _finished(study, work_dir), study_metrics(study), []
    folds = study_folds(study)
    for variant in study['variants']:
        for seed in study['seeds']:
            group = [done.get((variant, seed, f)) for f in folds]
            if None in group:
                continue
            spec_path = osp.join(work_dir, 'postprocessing',
                                 f'{variant}_seed{seed}.json')
            spec = _spec(group, spec_path, log)
            summaries = []
            for fold, (run, result) in zip(folds, group):
                out = osp.join(work_dir, 'postprocessed', variant,
                               f'fold{fold}', f'seed{seed}')
                cmd = ensemble_test_cmd(
                    run.run_config, [result['checkpoint']], out,
                    result.get('cfg_options', []), postprocess=spec_path)
                summaries.append(_tested(
                    cmd, out, f'post-processed: {run.label}', log))
            rows.append(_row('post-processed', variant, seed, 1, summaries,
                             metrics, note=_spec_note(spec)))
    return rows


def _spec(group, spec_path, log):
    """The post-processing spec of a (variant, seed): read from
    ``spec_path``, else chosen on the folds' predictions and saved."""
    from ..evaluation.postprocessing import (load_postprocessing,
                                             save_postprocessing)
    if osp.isfile(spec_path):
        return load_postprocessing(spec_path)
    if log is None:
        raise NotTested(spec_path)
    from ..apis.postprocessing import choose_from_prediction_dirs
    run, result = group[0]
    pred_dirs = [osp.join(r.run_dir, 'test', 'pred') for r, _ in group]
    log(f'  choosing post-processing for {run.variant} seed {run.seed} on '
        f'{len(pred_dirs)} folds')
    spec = choose_from_prediction_dirs(
        run.run_config, pred_dirs, cfg_options=_cfg_dict(result), log=log)
    os.makedirs(osp.dirname(spec_path), exist_ok=True)
    save_postprocessing(spec, spec_path)
    return spec


def _cfg_dict(result):
    from .run_config import parse_cfg_options
    return parse_cfg_options(result.get('cfg_options', [])) or None


def _spec_note(spec):
    """``lesion: keep largest`` per class, ``none`` when nothing is kept."""
    parts = []
    for cls, entry in sorted((spec.get('per_class') or {}).items()):
        op = entry.get('operation')
        if op:
            size = entry.get('min_size')
            parts.append(f'{entry.get("name") or cls}: {op}'
                         + (f' {size}' if size else ''))
    return 'post-processing: ' + ('; '.join(parts) if parts else 'none kept')


def extra_rows(study, work_dir, run_missing=True, log=print):
    """The rows the study file asks for (``ensemble``, ``postprocess``);
    with ``run_missing`` False only those already tested."""
    log = log if run_missing else None
    makers = []
    if study.get('ensemble'):
        makers += [seed_ensemble_rows, fold_ensemble_rows]
    if study.get('postprocess'):
        makers.append(postprocessed_rows)
    rows = []
    for make in makers:
        try:
            rows += make(study, work_dir, log)
        except NotTested:
            continue
    return rows


