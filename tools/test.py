"""Test (and optionally visualise) a segmentor checkpoint.

Usage mirrors mmsegmentation's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show] [--show-dir DIR] [--wait-time S] [--tta]
        [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
        [--non-strict]

The checkpoint is loaded with torch's ``weights_only`` unpickler through the
sgdc_mmseg compat layer; distributed runs without CUDA use gloo. It must fit
the model (same keys and shapes, see :mod:`sgdc_mmseg.engine.weights`),
otherwise the tool stops with an error before testing; ``--non-strict``
loads what fits and warns. The config's own ``load_from`` and ``resume`` are
ignored (the CHECKPOINT argument is what is tested).

``--out DIR`` sets ``output_dir`` on every evaluator that takes one (mmseg's
``IoUMetric`` writes the predicted masks there, ``MedicalMetric``
``per_image_metrics.csv``), adds a ``MedicalMetric`` when the config has none
(so that per-image metrics exist) and writes ``DIR/summary.json``: the
returned metrics, per-class values, per-image metrics, config path and
sha256, checkpoint path and sha256, date and versions (format in
docs/inference.md).

Outputs never replace what the tool did not write (see
:mod:`sgdc_mmseg.apis.outputs`): before the model is built, ``--out`` and
``--show-dir`` are refused when they are, contain or lie inside a folder of
the test dataset (images, masks, split file; symlinks resolved), and an
existing ``summary.json``, ``per_image_metrics.csv`` or ``<image stem>.png``
in ``--out`` that is not listed in ``DIR/.sgdc_outputs.json`` stops the run
unless ``--overwrite`` is given. The evaluators write into
``DIR/.sgdc_staging``; the files are moved into place (atomically) after the
test.
"""
import argparse
import datetime
import hashlib
import inspect
import json
import math
import os
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import sgdc_mmseg  # noqa: E402,F401  (compat layer first)
from mmengine.config import DictAction  # noqa: E402
from sgdc_mmseg.engine.launch import build_runner, load_config  # noqa: E402
from sgdc_mmseg.apis.outputs import (  # noqa: E402
    OutputNotWritableError, OutputRecord, UnsafeOutputError,
    finish_test_outputs, guard_test_outputs, staging_dir)

MEDICAL_METRIC = 'MedicalMetric'
SUMMARY_NAME = 'summary.json'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a segmentor checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument(
        '--out', help='dir to save the predicted segmentation maps (PNG), '
        'the per-image metrics and summary.json (not a folder of the test '
        'data, nor one that contains or lies inside one)')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace existing files in --out that this tool did not write '
        '(without it they stop the run before the model is built)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir', help='dir where painted images are saved, under '
        'DIR/vis_data/vis_image (relative to the current folder; not a '
        'folder of the test data)')
    parser.add_argument(
        '--wait-time', type=float, default=2,
        help='seconds each shown image stays up')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
        help='override settings in the config')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument(
        '--tta', action='store_true',
        help='test-time augmentation (needs tta_model and tta_pipeline in '
        'the config)')
    parser.add_argument(
        '--non-strict', action='store_true',
        help='load a checkpoint that does not fit the model (missing, '
        'unexpected or differently shaped tensors): what fits is loaded, '
        'with a warning')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg, args):
    """Switch on the visualization hook for ``--show``/``--show-dir``."""
    hooks = cfg.get('default_hooks', None) or {}
    if 'visualization' not in hooks:
        raise RuntimeError(
            '--show/--show-dir need a visualization hook in default_hooks, '
            "e.g. visualization=dict(type='SegVisualizationHook')")
    hook = hooks['visualization']
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir
    return cfg


def enable_tta(cfg):
    for key in ('tta_model', 'tta_pipeline'):
        if cfg.get(key, None) is None:
            raise RuntimeError(f'--tta needs `{key}` in the config')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
    return cfg


def _type_name(metric):
    kind = metric.get('type', '') if isinstance(metric, dict) else metric
    if isinstance(kind, str):
        return kind.split('.')[-1]
    return getattr(kind, '__name__', type(kind).__name__)


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
    if not any(_type_name(m) == MEDICAL_METRIC for m in metrics):
        if METRICS.get(MEDICAL_METRIC) is not None:
            metrics.append(dict(type=MEDICAL_METRIC))
            added = True
            log(f'--out: added {MEDICAL_METRIC} to the test evaluators for '
                'per-image metrics (IoU, Dice, HD95, ASSD)')
        else:
            log(f'--out: {MEDICAL_METRIC} is not available, summary.json '
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


def build_cfg(args):
    cfg = load_config(args.config, args.launcher, args.cfg_options,
                      args.work_dir)
    own = cfg.get('load_from', None)
    if own is not None and own != args.checkpoint:
        print(f'note: the config\'s load_from "{own}" is ignored; testing '
              f'"{args.checkpoint}"')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        enable_tta(cfg)
    args.medical_added = False
    if args.out is not None:  # the evaluators write to a staging folder
        args.medical_added = configure_out(cfg, staging_dir(args.out))
    return cfg


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def config_sha256(config, cfg_options=None):
    """sha256 of the dumped config (file + ``--cfg-options``), before the
    run-specific settings of this tool (work dir, checkpoint, outputs)."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return hashlib.sha256(cfg.dump().encode('utf-8')).hexdigest()


def _json_value(value):
    """Plain JSON: numbers as float/int, non-finite as None."""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if hasattr(value, 'item') and callable(value.item) and \
            getattr(value, 'size', 1) == 1:
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def split_per_class(metrics, classes):
    """``{'medical/IoU.lesion': v, 'mIoU': m}`` ->
    (``{'mIoU': m}``, ``{'lesion': {'IoU': v}}``)."""
    means, per_class = {}, {}
    suffixes = sorted(((f'.{c}', c) for c in classes or ()),
                      key=lambda s: -len(s[0]))
    for key, value in metrics.items():
        for suffix, name in suffixes:
            if key.endswith(suffix):
                metric = key[:-len(suffix)].split('/')[-1]
                entry = per_class.setdefault(name, {})
                entry[metric if metric not in entry else
                      key[:-len(suffix)]] = value
                break
        else:
            means[key] = value
    return means, per_class


def _versions():
    import mmengine
    import mmseg
    import torch

    import sgdc_mmseg as pkg
    versions = dict(sgdc_mmseg=pkg.__version__, mmseg=mmseg.__version__,
                    mmengine=mmengine.__version__, torch=torch.__version__)
    try:
        import mmcv
        versions['mmcv'] = mmcv.__version__
    except ImportError:  # pragma: no cover
        pass
    return versions


def build_summary(args, runner, metrics, medical_added=False):
    """The content of ``summary.json`` (see docs/inference.md)."""
    per_image, evaluators = None, []
    for metric in runner.test_evaluator.metrics:
        evaluators.append(type(metric).__name__)
        if type(metric).__name__ == MEDICAL_METRIC or \
                hasattr(metric, 'per_image_results'):
            per_image = list(getattr(metric, 'per_image_results', None) or [])
    dataset = runner.test_dataloader.dataset
    classes = list(getattr(dataset, 'metainfo', {}).get('classes', ()) or ())
    means, per_class = split_per_class(dict(metrics or {}), classes)
    checkpoint = args.checkpoint
    ckpt_hash = sha256_file(osp.expanduser(checkpoint)) \
        if osp.isfile(osp.expanduser(checkpoint)) else None
    return _json_value(dict(
        config=dict(path=osp.abspath(args.config),
                    sha256=config_sha256(args.config, args.cfg_options),
                    cfg_options=dict(args.cfg_options or {})),
        checkpoint=dict(path=osp.abspath(osp.expanduser(checkpoint))
                        if ckpt_hash else checkpoint, sha256=ckpt_hash),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        versions=_versions(),
        tta=bool(args.tta),
        evaluators=evaluators,
        medical_metric_added=bool(medical_added),
        classes=classes,
        num_images=len(dataset),
        metrics=means,
        per_class=per_class,
        per_image=per_image))


def write_summary(summary, out_dir, record=None):
    """Write ``out_dir/summary.json`` atomically through ``record`` (an
    :class:`OutputRecord` of ``out_dir``; a foreign ``summary.json`` is not
    replaced unless the record allows it)."""
    if record is None:
        record = OutputRecord(out_dir)
    text = json.dumps(summary, indent=2, allow_nan=False) + '\n'
    return record.write_text(SUMMARY_NAME, text)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(osp.expanduser(args.checkpoint)) and \
            '://' not in args.checkpoint:
        raise SystemExit(f'error: checkpoint "{args.checkpoint}" not found')
    cfg = build_cfg(args)
    try:  # before the model is built: output folders and foreign files
        record = guard_test_outputs(cfg, args.out, args.show_dir,
                                    overwrite=args.overwrite)
    except (UnsafeOutputError, OutputNotWritableError) as e:
        raise SystemExit(f'error: {e}')

    from sgdc_mmseg.engine.weights import CheckpointMismatchError
    runner = build_runner(cfg, strict_load=not args.non_strict)
    try:
        metrics = runner.test()
    except CheckpointMismatchError as e:
        raise SystemExit(f'error: {e} (--non-strict loads it anyway)')
    if args.out is not None:
        from mmengine.dist import is_main_process
        if is_main_process():
            moved, kept = finish_test_outputs(record)
            if moved:
                print(f'{len(moved)} file(s) written by the evaluators moved '
                      f'to {args.out}')
            path = write_summary(
                build_summary(args, runner, metrics, args.medical_added),
                args.out, record)
            print(f'summary written to {path}')
            if kept:
                raise SystemExit(
                    f'error: {len(kept)} file(s) written by the evaluators '
                    'were not moved into place because a file this tool did '
                    f'not write has their name in {args.out}: they are left '
                    f'in {staging_dir(args.out)} ({", ".join(kept[:5])}'
                    f'{" ..." if len(kept) > 5 else ""}); use --overwrite to '
                    'replace such files')
    return metrics


if __name__ == '__main__':
    main()
