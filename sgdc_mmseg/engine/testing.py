"""What ``tools/test.py`` does: the test config, the test run and its
outputs.

* :func:`build_test_cfg`: the config (``--cfg-options``, work dir) with the
  CHECKPOINT as ``load_from`` (the config's own ``load_from`` and
  ``resume`` ignored), ``--show``/``--show-dir``
  (:func:`enable_visualization`), ``--tta`` (:func:`enable_tta`) and
  ``--out`` (:func:`configure_out`: every evaluator writes into the staging
  folder of :mod:`sgdc_mmseg.apis.outputs`, a ``MedicalMetric`` is added
  when none is there).
* :func:`run_test`: before the model is built, the output folders are
  checked (:func:`sgdc_mmseg.apis.outputs.guard_test_outputs`); the Runner
  loads the checkpoint strictly unless ``non_strict``; after the test, on
  rank 0, the evaluators' files are moved into place and ``summary.json``
  (:mod:`sgdc_mmseg.evaluation.test_outputs`) is written.

Every refusal is a :class:`TestRunError` whose message is what the tool
prints after ``error:``.
"""
import inspect
import os.path as osp
from dataclasses import dataclass
from typing import Optional

from ..apis.outputs import (OutputNotWritableError, UnsafeOutputError,
                            finish_test_outputs, guard_test_outputs,
                            staging_dir)
from ..evaluation.test_outputs import (MEDICAL_METRIC, PER_IMAGE_CSV_NAME,
                                       SUMMARY_NAME, build_summary,
                                       write_summary)
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


def configure_out(cfg, out_dir, log=print):
    """Route every evaluator of ``cfg.test_evaluator`` to ``out_dir``.

    ``test_evaluator`` may be a metric dict, a list of them or an Evaluator
    dict with ``metrics``. Each metric whose constructor takes
    ``output_dir`` (``keep_results``) gets it; a ``MedicalMetric`` is added
    when none is there and it is registered.

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
            metric['output_dir'] = out_dir
        if 'keep_results' in params:
            metric['keep_results'] = True
    if wrapper is not None:
        wrapper['metrics'] = metrics
        cfg.test_evaluator = wrapper
    else:
        cfg.test_evaluator = metrics
    return added


def build_test_cfg(options, log=print):
    """The config of a test run.

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
    if options.tta:
        enable_tta(cfg)
    medical_added = False
    if options.out is not None:  # the evaluators write to a staging folder
        medical_added = configure_out(cfg, staging_dir(options.out), log)
    return cfg, medical_added


def summary_of_test(options, runner, metrics, medical_added=False):
    """``summary.json``'s content for a finished test: evaluators and
    per-image rows from the runner's evaluator, classes and size from its
    test dataset."""
    per_image, evaluators = None, []
    for metric in runner.test_evaluator.metrics:
        evaluators.append(type(metric).__name__)
        if type(metric).__name__ == MEDICAL_METRIC or \
                hasattr(metric, 'per_image_results'):
            per_image = list(getattr(metric, 'per_image_results', None) or [])
    dataset = runner.test_dataloader.dataset
    classes = list(getattr(dataset, 'metainfo', {}).get('classes', ()) or ())
    return build_summary(
        options.config, options.checkpoint, metrics,
        cfg_options=options.cfg_options, tta=options.tta,
        evaluators=evaluators, medical_metric_added=medical_added,
        classes=classes, num_images=len(dataset), per_image=per_image)


def _finish_outputs(options, record, runner, metrics, medical_added, log):
    """Move the evaluators' files into place, write ``summary.json``."""
    moved, kept = finish_test_outputs(record)
    if moved:
        log(f'{len(moved)} file(s) written by the evaluators moved to '
            f'{options.out}')
    path = write_summary(
        summary_of_test(options, runner, metrics, medical_added),
        options.out, record)
    log(f'summary written to {path}')
    if kept:
        raise TestRunError(
            f'{len(kept)} file(s) written by the evaluators were not moved '
            'into place because a file this tool did not write has their '
            f'name in {options.out}: they are left in '
            f'{staging_dir(options.out)} ({", ".join(kept[:5])}'
            f'{" ..." if len(kept) > 5 else ""}); use --overwrite to replace '
            'such files')


def run_test(options, log=print):
    """Test ``options.checkpoint`` (see the module docstring).

    Returns:
        dict: the metrics of ``runner.test()``.

    Raises:
        TestRunError: missing checkpoint, unsafe or foreign outputs, a
            checkpoint that does not fit (without ``non_strict``), or
            evaluator files left in the staging folder.
    """
    checkpoint = options.checkpoint
    if not osp.isfile(osp.expanduser(checkpoint)) and '://' not in checkpoint:
        raise TestRunError(f'checkpoint "{checkpoint}" not found')
    cfg, medical_added = build_test_cfg(options, log)
    try:  # before the model is built: output folders and foreign files
        record = guard_test_outputs(
            cfg, options.out, options.show_dir, overwrite=options.overwrite,
            names=(SUMMARY_NAME, PER_IMAGE_CSV_NAME), log=log)
    except (UnsafeOutputError, OutputNotWritableError) as e:
        raise TestRunError(str(e)) from None

    from .weights import CheckpointMismatchError
    runner = build_runner(cfg, strict_load=not options.non_strict)
    try:
        metrics = runner.test()
    except CheckpointMismatchError as e:
        raise TestRunError(f'{e} (--non-strict loads it anyway)') from None
    if options.out is not None:
        from mmengine.dist import is_main_process
        if is_main_process():
            _finish_outputs(options, record, runner, metrics, medical_added,
                            log)
    return metrics
