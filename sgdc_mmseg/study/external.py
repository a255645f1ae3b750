"""External test sets: finished runs tested unchanged on another dataset
(or with another test setting).

A study's ``external`` entry ``name=dict(dataset=..., variants=[...])``
tests every finished seed of the listed variants (default: all) with the
config's test set replaced by ``dataset`` (its test pipeline kept unless the
entry gives one), the last checkpoint and the run's ``--cfg-options``. An
entry may give ``overrides`` (config keys -> values set on top of the run's
config, e.g. another segmentor type or test evaluator) with or without a
``dataset``: ``dict(overrides=dict(...))`` re-tests the study's own test
set another way. An entry ``dict(metric_prefix='nuclei_sge')`` runs no
test at all: it reads the run's own test (``run_dir/test/summary.json``)
with the study metrics' key prefix (``nuclei/...``) replaced, for test
configs that already score a second way under another prefix (the MoNuSeg
SGDC configs' ``nuclei_sge/...``). In a study with folds only fold-less
runs are tested.
Each test goes to ``WORK_DIR/external/<name>/<variant>_seed<k>/`` (its
``config.py``, ``test.log`` and ``tools/test.py --out`` files); an existing
``summary.json`` there is reused.

:func:`external_results` returns one row per tested seed: ``external``,
``variant``, ``seed``, ``best_on_study_test`` (the seed with the highest
value of the study's first metric on its own test set), ``num_images``,
the metric columns of the study's metric set and ``out_dir``.
"""
import os
import os.path as osp

from ..evaluation.test_outputs import (KEY_METRICS, KEY_NUM_IMAGES,
                                       SUMMARY_NAME, read_summary)
from .run_config import inherited_config_text, to_plain
from .runs import Run, load_result, log_tail, run_logged
from .schema import METRICS, study_metrics


def external_test_config_text(run, dataset, overrides=None):
    """Text of a config that tests ``run`` on another dataset (the test
    set replaced, the config's test pipeline kept unless given) and/or with
    ``overrides``."""
    out = dict(to_plain(dict(overrides or {})))
    if dataset is not None:
        from mmengine.config import Config
        cfg = Config.fromfile(run.run_config)
        ds = to_plain(dict(dataset))
        ds.setdefault('pipeline',
                      to_plain(cfg.test_dataloader.dataset.pipeline))
        out['test_dataloader'] = dict(dataset=dict(_delete_=True, **ds))
    return inherited_config_text(run.run_config, out)


def run_external_test(study, work_dir, variant, seed, dataset, out_dir,
                      overrides=None):
    """Test the finished run (variant, seed) on ``dataset`` into
    ``out_dir``; raises RuntimeError with the log's tail if the test
    fails."""
    run = Run(work_dir, variant, study['variants'][variant], seed)
    result = load_result(run)
    run.cfg_options = list(result.get('cfg_options', []))
    os.makedirs(out_dir, exist_ok=True)
    config = osp.join(out_dir, 'config.py')
    with open(config, 'w', encoding='utf-8') as f:
        f.write(external_test_config_text(run, dataset, overrides))
    log_path = osp.join(out_dir, 'test.log')
    rc, _ = run_logged(run.test_cmd(result['checkpoint'], out_dir, config),
                       log_path)
    if rc != 0:
        raise RuntimeError(f'external test of {variant} seed {seed} failed; '
                           f'see {log_path}:\n' + log_tail(log_path))


def best_seed_row(rows, column='IoU'):
    """The row with the highest ``column`` (rows without it last)."""
    return max(rows, key=lambda r: (r.get(column) is not None,
                                    r.get(column) or 0))


def prefixed_key(key, prefix):
    """``key`` with its prefix (the part before the first ``/``) replaced by
    ``prefix`` (``nuclei/mAJI`` -> ``nuclei_sge/mAJI``); ``prefix=None``
    keeps it; a key without prefix gets one."""
    if prefix is None:
        return key
    return prefix + '/' + key.split('/', 1)[-1]


def external_row(ext_name, variant, row, best, summary, out_dir,
                 metrics=METRICS, metric_prefix=None):
    """The row of one external test (``row``: the run's study row); metric
    keys read with :func:`prefixed_key`."""
    ext_row = dict(external=ext_name, variant=variant, seed=row['seed'],
                   best_on_study_test=row is best,
                   num_images=summary.get(KEY_NUM_IMAGES), out_dir=out_dir)
    for metric in metrics:
        ext_row[metric.column] = summary.get(KEY_METRICS, {}).get(
            prefixed_key(metric.key, metric_prefix))
    return ext_row


def own_test_dir(study, work_dir, ext_name, variant, seed, prefix,
                 metrics):
    """The test dir of the finished run (variant, seed) for a
    ``metric_prefix`` entry; a ValueError naming its summary.json when that
    test did not score ``metrics`` under ``prefix``."""
    run = Run(work_dir, variant, study['variants'][variant], seed)
    test_dir = osp.join(run.run_dir, 'test')
    path = osp.join(test_dir, SUMMARY_NAME)
    scored = read_summary(path).get(KEY_METRICS, {})
    missing = [prefixed_key(m.key, prefix) for m in metrics
               if prefixed_key(m.key, prefix) not in scored]
    if missing:
        raise ValueError(f'external set {ext_name!r}: {path} has no '
                         f'{missing} (does the test config of {variant!r} '
                         f'score them?)')
    return test_dir


def external_results(study, work_dir, rows, run_missing=True, log=print):
    """Rows for the external test sets (see the module docstring): every
    finished seed of the listed variants, tested first when
    ``run_missing`` and not tested yet (left out otherwise)."""
    out_rows = []
    metrics = study_metrics(study)
    done = [r for r in rows if r['status'] == 'done' and
            r.get('fold') is None]
    for ext_name, ext in study['external'].items():
        for variant in ext.get('variants', list(study['variants'])):
            vrows = [r for r in done if r['variant'] == variant]
            if not vrows:
                continue
            best = best_seed_row(vrows, metrics[0].column)
            prefix = ext.get('metric_prefix')
            for row in vrows:
                if prefix is not None:
                    out_dir = own_test_dir(study, work_dir, ext_name,
                                           variant, row['seed'], prefix,
                                           metrics)
                else:
                    out_dir = osp.join(work_dir, 'external', ext_name,
                                       f'{variant}_seed{row["seed"]}')
                    if not osp.isfile(osp.join(out_dir, SUMMARY_NAME)):
                        if not run_missing:
                            continue
                        log(f'  external {ext_name}: {variant} seed '
                            f'{row["seed"]}')
                        run_external_test(study, work_dir, variant,
                                          row['seed'], ext.get('dataset'),
                                          out_dir, ext.get('overrides'))
                out_rows.append(external_row(
                    ext_name, variant, row, best,
                    read_summary(osp.join(out_dir, SUMMARY_NAME)), out_dir,
                    metrics, prefix))
    return out_rows
