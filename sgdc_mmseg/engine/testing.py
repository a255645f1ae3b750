"""What ``tools/test.py`` does: the test config, the test run and its
outputs.

* :func:`build_test_cfg`: the config (``--cfg-options``, work dir) with the
  CHECKPOINT as ``load_from`` (the config's own ``load_from`` and
  ``resume`` ignored), ``--show``/``--show-dir``
  (:func:`enable_visualization`), ``--tta`` (:func:`enable_tta`),
  ``--ensemble``/``--postprocess`` (:func:`enable_ensemble`: the model
  becomes an :class:`~sgdc_mmseg.apis.ensemble.EnsembleSegmentor`) and
  ``--out`` (:func:`configure_out`: every evaluator writes into the staging
  folder of :mod:`sgdc_mmseg.apis.outputs`, ``IoUMetric``'s prediction
  PNGs into its ``pred/`` sub-folder, a ``MedicalMetric`` is added when
  none is there).
* :func:`run_test`: before the model is built, the output folders are
  checked (:func:`sgdc_mmseg.apis.outputs.guard_test_outputs`); the Runner
  loads the checkpoint strictly unless ``non_strict`` (the ensemble's
  further checkpoints likewise, before the test); ``--save-probs`` adds a
  :class:`~sgdc_mmseg.apis.probabilities.SaveProbabilitiesHook`; after the
  test, on rank 0, the evaluators' files are moved into place and
  ``summary.json`` (:mod:`sgdc_mmseg.evaluation.test_outputs`) is written.
* :func:`run_score_probs` (``tools/analysis/score_probs.py``): the same
  evaluators and outputs from saved probability files, without a model.

Every refusal is a :class:`TestRunError` whose message is what the tool
prints after ``error:``.
"""
import copy
import inspect
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional

from ..apis.outputs import (OutputNotWritableError, UnsafeOutputError,
                            finish_test_outputs, guard_test_outputs,
                            staging_dir)
from ..evaluation.test_outputs import (MEDICAL_METRIC, PER_IMAGE_CSV_NAME,
                                       PRED_DIR_NAME, PROBS_DIR_NAME,
                                       SUMMARY_NAME, build_summary,
                                       config_fold, write_summary)
from .launch import build_runner, config_type_name, load_config


class TestRunError(RuntimeError):
    """A test run that is refused or whose outputs are incomplete."""


@dataclass
class TestOptions:
    """The settings of one run of ``tools/test.py`` (its arguments)."""
    config: str
    checkpoint: str
    work_dir: Optional[str] = None
    out: Optional[str] = None
    overwrite: bool = False
    show: bool = False
    show_dir: Optional[str] = None
    wait_time: float = 2
    cfg_options: Optional[dict] = None
    launcher: str = 'none'
    tta: bool = False
    non_strict: bool = False
    ensemble: Optional[List[str]] = None
    save_probs: bool = False
    postprocess: Optional[str] = None


def enable_visualization(cfg, show=False, show_dir=None, wait_time=2):
    """Switch on the visualization hook for ``--show``/``--show-dir``."""
    hooks = cfg.get('default_hooks', None) or {}
    if 'visualization' not in hooks:
        raise RuntimeError(
            '--show/--show-dir need a visualization hook in default_hooks, '
            "e.g. visualization=dict(type='SegVisualizationHook')")
    hook = hooks['visualization']
    hook['draw'] = True
    if show:
        hook['show'] = True
        hook['wait_time'] = wait_time
    if show_dir:
        cfg.visualizer['save_dir'] = show_dir
    return cfg


def enable_tta(cfg):
    """Test the config's ``tta_model`` around its model with
    ``tta_pipeline`` (mmseg's ``--tta``)."""
    for key in ('tta_model', 'tta_pipeline'):
        if cfg.get(key, None) is None:
            raise RuntimeError(f'--tta needs `{key}` in the config')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
    return cfg


def _metric_class(metric):
    from mmseg.registry import METRICS
    kind = metric.get('type', None) if isinstance(metric, dict) else None
    if isinstance(kind, type):
        return kind
    if isinstance(kind, str):
        return METRICS.get(kind)
    return None


def _init_params(cls):
    try:
        return inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return {}


def _writes_predictions(cls):
    """Whether a metric class writes prediction PNGs into its
    ``output_dir`` (mmseg's ``IoUMetric`` and its subclasses)."""
    from mmseg.evaluation.metrics import IoUMetric
    return isinstance(cls, type) and issubclass(cls, IoUMetric)


def configure_out(cfg, out_dir, log=print):
    """Route every evaluator of ``cfg.test_evaluator`` to ``out_dir``.

    ``test_evaluator`` may be a metric dict, a list of them or an Evaluator
    dict with ``metrics``. Each metric whose constructor takes
    ``output_dir`` (``keep_results``) gets it: ``out_dir/pred`` for mmseg's
    ``IoUMetric`` (its ``<image stem>.png`` predictions, a folder that
    mmseg's ``confusion_matrix.py`` reads), ``out_dir`` for the others
    (their CSV files); a ``MedicalMetric`` is added when none is there and
    it is registered.

    Returns:
        bool: whether a MedicalMetric was added.
    """
    from mmseg.registry import METRICS
    evaluator = cfg.test_evaluator
    wrapper = None
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        wrapper, evaluator = evaluator, evaluator['metrics']
    metrics = list(evaluator) if isinstance(evaluator, (list, tuple)) else \
        [evaluator]
    added = False
    if not any(config_type_name(m) == MEDICAL_METRIC for m in metrics):
        if METRICS.get(MEDICAL_METRIC) is not None:
            metrics.append(dict(type=MEDICAL_METRIC))
            added = True
            log(f'--out: added {MEDICAL_METRIC} to the test evaluators for '
                'per-image metrics (IoU, Dice, HD95, ASSD)')
        else:
            log(f'--out: {MEDICAL_METRIC} is not available, {SUMMARY_NAME} '
                'will have no per-image metrics')
    for metric in metrics:
        if not isinstance(metric, dict):
            continue
        cls = _metric_class(metric)
        params = _init_params(cls) if cls is not None else {}
        if 'output_dir' in params:
            metric['output_dir'] = osp.join(out_dir, PRED_DIR_NAME) if \
                _writes_predictions(cls) else out_dir
        if 'keep_results' in params:
            metric['keep_results'] = True
    if wrapper is not None:
        wrapper['metrics'] = metrics
        cfg.test_evaluator = wrapper
    else:
        cfg.test_evaluator = metrics
    return added


def uses_ensemble_model(options):
    """Whether the run tests through an
    :class:`~sgdc_mmseg.apis.ensemble.EnsembleSegmentor`: with further
    checkpoints, a post-processing spec, or probabilities saved under
    ``--tta`` (mmseg's ``SegTTAModel`` keeps only the last view's
    logits)."""
    return bool(options.ensemble) or options.postprocess is not None or \
        bool(options.tta and options.save_probs)


def enable_ensemble(cfg, checkpoints=(), tta=False, postprocess=None):
    """Make ``cfg.model`` an ``EnsembleSegmentor`` of the config's model
    (``load_from`` goes into the first member) and ``checkpoints``; with
    ``tta`` the test data go through ``tta_pipeline`` and the ensemble
    averages the views (the config's ``tta_model`` is not used: the views
    are averaged in probability space as mmseg's ``SegTTAModel`` does)."""
    from ..apis import ensemble  # noqa: F401  (registers the model)
    if tta:
        if cfg.get('tta_pipeline', None) is None:
            raise RuntimeError('--tta needs `tta_pipeline` in the config')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.model = dict(type='EnsembleSegmentor', module=cfg.model,
                     checkpoints=list(checkpoints or ()), views=bool(tta),
                     postprocess=postprocess)
    return cfg


def build_test_cfg(options, log=print, postprocess=None):
    """The config of a test run (``postprocess``: the loaded spec of
    ``options.postprocess``).

    Returns:
        tuple: ``(cfg, medical_added)``; ``medical_added`` says whether
        :func:`configure_out` added a ``MedicalMetric``.
    """
    cfg = load_config(options.config, options.launcher, options.cfg_options,
                      options.work_dir)
    own = cfg.get('load_from', None)
    if own is not None and own != options.checkpoint:
        log(f'note: the config\'s load_from "{own}" is ignored; testing '
            f'"{options.checkpoint}"')
    cfg.load_from = options.checkpoint
    cfg.resume = False
    if options.show or options.show_dir:
        enable_visualization(cfg, options.show, options.show_dir,
                             options.wait_time)
    if uses_ensemble_model(options):
        enable_ensemble(cfg, options.ensemble, options.tta, postprocess)
    elif options.tta:
        enable_tta(cfg)
    medical_added = False
    if options.out is not None:  # the evaluators write to a staging folder
        medical_added = configure_out(cfg, staging_dir(options.out), log)
    return cfg, medical_added


def summary_of_test(options, runner, metrics, medical_added=False,
                    postprocess=None):
    """``summary.json``'s content for a finished test: evaluators and
    per-image rows from the runner's evaluator, classes and size from its
    test dataset, the checkpoints, fold, TTA, post-processing and whether
    probabilities were saved."""
    return _summary(options, runner.test_evaluator,
                    runner.test_dataloader.dataset, metrics, medical_added,
                    postprocess, checkpoint=options.checkpoint,
                    ensemble=options.ensemble or (), tta=options.tta,
                    probs_saved=options.save_probs)


def _summary(options, evaluator, dataset, metrics, medical_added,
             postprocess, checkpoint, ensemble, tta, probs_saved):
    per_image, evaluators = None, []
    for metric in evaluator.metrics:
        evaluators.append(type(metric).__name__)
        if type(metric).__name__ == MEDICAL_METRIC or \
                hasattr(metric, 'per_image_results'):
            per_image = list(getattr(metric, 'per_image_results', None) or [])
    classes = list(getattr(dataset, 'metainfo', {}).get('classes', ()) or ())
    return build_summary(
        options.config, checkpoint, metrics,
        cfg_options=options.cfg_options, tta=tta,
        evaluators=evaluators, medical_metric_added=medical_added,
        classes=classes, num_images=len(dataset), per_image=per_image,
        ensemble=ensemble, fold=config_fold(options.config, options.cfg_options),
        postprocessing=postprocess, probs_saved=probs_saved)


def _finish_outputs(options, record, summary, log):
    """Move the evaluators' files into place, write ``summary`` (a
    callable returning ``summary.json``'s content)."""
    moved, kept = finish_test_outputs(record)
    if moved:
        log(f'{len(moved)} file(s) written by the evaluators moved to '
            f'{options.out}')
    path = write_summary(summary(), options.out, record)
    log(f'summary written to {path}')
    if kept:
        raise TestRunError(
            f'{len(kept)} file(s) written by the evaluators were not moved '
            'into place because a file this tool did not write has their '
            f'name in {options.out}: they are left in '
            f'{staging_dir(options.out)} ({", ".join(kept[:5])}'
            f'{" ..." if len(kept) > 5 else ""}); use --overwrite to replace '
            'such files')


def _check_checkpoints(options):
    for name, path in [('checkpoint', options.checkpoint)] + [
            ('--ensemble checkpoint', c) for c in options.ensemble or ()]:
        if not osp.isfile(osp.expanduser(path)) and '://' not in path:
            raise TestRunError(f'{name} "{path}" not found')


def _config_classes(cfg):
    from .weights import dataset_meta_from_config
    meta, _ = dataset_meta_from_config(cfg)
    return list(meta['classes']) if meta else None


def load_postprocess_for(path, cfg):
    """The post-processing spec in ``path`` for the config ``cfg``
    (``None`` without a path).

    Raises:
        TestRunError: missing or invalid file, or a spec for another number
            of classes than the config's dataset (naming the file).
    """
    if path is None:
        return None
    from ..evaluation.postprocessing import load_postprocessing
    try:
        spec = load_postprocessing(path)
    except (FileNotFoundError, ValueError) as e:
        raise TestRunError(str(e)) from None
    classes = _config_classes(cfg)
    if classes is not None and spec['num_classes'] != len(classes):
        raise TestRunError(
            f'post-processing file "{path}" is for {spec["num_classes"]} '
            f'classes, the config has {len(classes)} '
            f'({", ".join(map(str, classes))})')
    return spec


def _output_patterns(save_probs):
    patterns = [f'{PRED_DIR_NAME}/{{stem}}.png']
    if save_probs:
        patterns.append(f'{PROBS_DIR_NAME}/{{stem}}.npz')
    return tuple(patterns)


def _guard(cfg, options, log, save_probs):
    try:  # before the model is built: output folders and foreign files
        return guard_test_outputs(
            cfg, options.out, getattr(options, 'show_dir', None),
            overwrite=options.overwrite,
            names=(SUMMARY_NAME, PER_IMAGE_CSV_NAME), log=log,
            per_image=_output_patterns(save_probs))
    except (UnsafeOutputError, OutputNotWritableError) as e:
        raise TestRunError(str(e)) from None


def run_test(options, log=print):
    """Test ``options.checkpoint`` (see the module docstring).

    Returns:
        dict: the metrics of ``runner.test()``.

    Raises:
        TestRunError: missing checkpoint, unsafe or foreign outputs, a
            checkpoint that does not fit (without ``non_strict``; an
            ensemble checkpoint likewise, named), ``--save-probs`` without
            ``--out``, an unusable ``--postprocess`` file, or evaluator
            files left in the staging folder.
    """
    _check_checkpoints(options)
    if options.save_probs and options.out is None:
        raise TestRunError('--save-probs needs --out DIR (the probabilities '
                           'go to DIR/probs)')
    postprocess = load_postprocess_for(
        options.postprocess,
        load_config(options.config, cfg_options=options.cfg_options)) \
        if options.postprocess is not None else None
    cfg, medical_added = build_test_cfg(options, log, postprocess)
    record = _guard(cfg, options, log, options.save_probs)

    from .weights import CheckpointMismatchError
    runner = build_runner(cfg, strict_load=not options.non_strict)
    if uses_ensemble_model(options):
        from mmengine.model import is_model_wrapper
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        try:
            model.load_checkpoints(strict=not options.non_strict,
                                   logger=runner.logger)
        except CheckpointMismatchError as e:
            raise TestRunError(f'{e} (--ensemble checkpoint; --non-strict '
                               'loads it anyway)') from None
    if options.save_probs:
        from ..apis.probabilities import SaveProbabilitiesHook
        runner.register_hook(SaveProbabilitiesHook(staging_dir(options.out)))
    try:
        metrics = runner.test()
    except CheckpointMismatchError as e:
        raise TestRunError(f'{e} (--non-strict loads it anyway)') from None
    if options.out is not None:
        from mmengine.dist import is_main_process
        if is_main_process():
            _finish_outputs(
                options, record, lambda: summary_of_test(
                    options, runner, metrics, medical_added, postprocess),
                log)
    return metrics


@dataclass
class ScoreProbsOptions:
    """The settings of one run of ``tools/analysis/score_probs.py``."""
    config: str
    probs_dir: str
    out: Optional[str] = None
    overwrite: bool = False
    postprocess: Optional[str] = None
    cfg_options: Optional[dict] = None


def _build_test_set(cfg):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return DATASETS.build(copy.deepcopy(cfg.test_dataloader.dataset))


def score_sample(sample, probs, threshold=None, postprocess=None):
    """Put the prediction of ``probs`` (``(C, H, W)`` probabilities) into a
    ``SegDataSample`` as a test would
    (:func:`~sgdc_mmseg.apis.probabilities.set_prediction`)."""
    from ..apis.probabilities import set_prediction
    return set_prediction(sample, probs, threshold, postprocess)


def run_score_probs(options, log=print):
    """Score saved probabilities (``PROBS_DIR/<image stem>.npz``, see
    :mod:`sgdc_mmseg.apis.probabilities`) against the ground truth of the
    config's test set with the config's test evaluators, as
    ``tools/test.py`` would have scored the model that wrote them (label
    map: argmax, or ``p > threshold`` of a single-logit decode head;
    ``postprocess`` applied to it). With ``out`` the outputs of
    ``tools/test.py --out`` are written (``summary.json`` with
    ``checkpoint`` null and an empty ``checkpoints`` list).

    Returns:
        dict: the metrics.

    Raises:
        TestRunError: a missing or malformed probability file for a test
            image (naming it), unsafe or foreign outputs, a bad
            post-processing file.
    """
    from mmengine.evaluator import Evaluator

    from ..apis.probabilities import decode_threshold, load_probs
    if not osp.isdir(options.probs_dir):
        raise TestRunError(f'probability folder "{options.probs_dir}" not '
                           'found')
    cfg = load_config(options.config, cfg_options=options.cfg_options)
    postprocess = load_postprocess_for(options.postprocess, cfg)
    medical_added = False
    if options.out is not None:
        medical_added = configure_out(cfg, staging_dir(options.out), log)
    record = _guard(cfg, options, log, False)
    dataset = _build_test_set(cfg)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataset.metainfo
    classes = list(dataset.metainfo.get('classes', ()))
    threshold = decode_threshold(cfg)
    used = set()
    for i in range(len(dataset)):
        item = dataset[i]
        sample = item['data_samples']
        stem = osp.splitext(osp.basename(sample.img_path))[0]
        path = osp.join(options.probs_dir, f'{stem}.npz')
        try:
            probs = load_probs(path, num_classes=len(classes) or None,
                               shape=tuple(sample.ori_shape[:2]))
        except (FileNotFoundError, ValueError) as e:
            raise TestRunError(f'{e} (test image {sample.img_path})') \
                from None
        used.add(f'{stem}.npz')
        score_sample(sample, probs, threshold, postprocess)
        evaluator.process(data_samples=[sample],
                          data_batch=dict(inputs=[item['inputs']],
                                          data_samples=[sample]))
    unused = sorted(n for n in os.listdir(options.probs_dir)
                    if n.endswith('.npz') and n not in used)
    if unused:
        log(f'{len(unused)} probability file(s) in {options.probs_dir} are '
            f'not of a test image and were not scored: '
            f'{", ".join(unused[:5])}{" ..." if len(unused) > 5 else ""}')
    metrics = evaluator.evaluate(len(dataset))
    log(f'scored {len(dataset)} image(s) from the probability files in '
        f'{options.probs_dir}')
    if options.out is not None:
        _finish_outputs(
            options, record, lambda: _summary(
                options, evaluator, dataset, metrics, medical_added,
                postprocess, checkpoint=None, ensemble=(), tta=False,
                probs_saved=False), log)
    return metrics
