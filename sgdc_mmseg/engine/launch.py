"""What ``tools/train.py`` and ``tools/test.py`` share: reading a config as
mmseg's tools do (:func:`load_config`, :func:`config_type_name`), the
launcher's ``LOCAL_RANK`` (:func:`export_local_rank`) and building the
Runner (with the CPU-distributed path of :mod:`sgdc_mmseg.compat.dist`).

Checkpoint loading of the Runner: mmengine's ``Runner.load_checkpoint``
(what ``load_or_resume`` calls for ``load_from`` and ``resume``, after the
``before_run`` hooks and before the first iteration) loads with
``strict=False`` and only logs a warning. :func:`build_runner` replaces it on
the runner it builds with :func:`use_checkpoint_loading`: the same steps
(read through mmengine's ``CheckpointLoader``, ``after_load_checkpoint``
hooks, ``module.`` prefix stripped, wrappers and TTA models unwrapped), but
the weights go through :func:`sgdc_mmseg.engine.weights.load_weights`:

* ``strict_load=True`` (``tools/test.py``): a checkpoint that does not fit
  raises :class:`~sgdc_mmseg.engine.weights.CheckpointMismatchError` before
  any weight is copied and before the test loop runs;
* ``strict_load=False`` (``tools/train.py``, fine-tuning from
  ``load_from``): mmengine's behaviour (what fits is loaded), plus one log
  line ``N tensors loaded, M missing, K unexpected, S shape-mismatched, from
  FILE`` and a warning naming the keys that do not fit.
"""
import os
import os.path as osp

from mmengine.config import Config


def config_type_name(node):
    """The registry type name of a config entry: ``dict(type='mmseg.X')``
    -> ``'X'``; a class (or an object) given as ``type``, or in place of the
    dict, -> its class name. ``''`` for a dict without ``type``."""
    kind = node.get('type', '') if isinstance(node, dict) else node
    if isinstance(kind, str):
        return kind.split('.')[-1]
    return getattr(kind, '__name__', type(kind).__name__)


def export_local_rank(local_rank):
    """Set ``LOCAL_RANK`` from the ``--local-rank`` argument of older
    launchers (``torch.distributed.launch``) unless the environment has it
    (torchrun sets it)."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)


def load_config(config, launcher='none', cfg_options=None, work_dir=None):
    """``Config.fromfile`` + ``--cfg-options`` + work dir, like mmseg.

    Without ``work_dir`` (and none in the config) the work dir is
    ``./work_dirs/<config name>``.
    """
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def use_checkpoint_loading(runner, strict_load=False):
    """Make ``runner.load_checkpoint`` load through
    :func:`~sgdc_mmseg.engine.weights.load_weights` (see the module
    docstring); an explicit ``strict=True`` in a call is honoured too.

    Returns:
        the runner.
    """
    from .weights import load_weights, read_checkpoint

    def load_checkpoint(filename, map_location='cpu', strict=False,
                        revise_keys=[(r'^module.', '')]):
        checkpoint = read_checkpoint(filename, map_location=map_location)
        runner.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        load_weights(runner.model, checkpoint, strict=strict_load or strict,
                     filename=filename, revise_keys=revise_keys,
                     logger=runner.logger)
        runner._has_loaded = True
        runner.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    runner.load_checkpoint = load_checkpoint
    return runner


def build_runner(cfg, strict_load=False):
    """Build the Runner of ``cfg`` (``runner_type`` honoured); without CUDA a
    distributed launcher first gets a gloo process group. Its checkpoint
    loading goes through :func:`use_checkpoint_loading` (``strict_load``:
    a checkpoint that does not fit the model is an error)."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from ..compat.dist import setup_cpu_distributed
    setup_cpu_distributed(cfg, cfg.launcher)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    return use_checkpoint_loading(runner, strict_load)
