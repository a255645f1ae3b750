"""The training config of ``tools/train.py``: mmseg's ``tools/train.py``
settings (``--resume``, ``--amp``) plus ``RNGStateHook`` (exact continuation
on resume, :mod:`sgdc_mmseg.engine.hooks`).

The Runner itself is built by :func:`sgdc_mmseg.engine.launch.build_runner`
(non-strict loading of ``load_from``, with a summary line).
"""
import logging

from .launch import config_type_name, load_config

#: ``--resume`` without a value: the latest checkpoint of the work dir.
AUTO_RESUME = 'auto'
AMP_NEEDS_GPU = (
    '--amp needs a GPU: mmengine\'s AmpOptimWrapper only runs on CUDA (or '
    'NPU/MLU/MUSA) devices and none is available here. Train without --amp '
    'on CPU.')


class AmpUnavailableError(RuntimeError):
    """``--amp`` on a machine without an accelerator."""


def has_hook(hooks, name):
    """Whether ``hooks`` (config dicts or hook objects) has one of type
    ``name`` (scope prefixes such as ``mmseg.`` ignored)."""
    return any(config_type_name(hook) == name for hook in hooks or [])


def add_rng_state_hook(cfg):
    """Append ``RNGStateHook`` to ``cfg.custom_hooks`` unless present."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not has_hook(hooks, 'RNGStateHook'):
        scope = cfg.get('default_scope', None)
        hook_type = 'RNGStateHook' if scope == 'mmseg' else \
            'mmseg.RNGStateHook'
        hooks.append(dict(type=hook_type))
    cfg.custom_hooks = hooks
    return cfg


def enable_amp(cfg):
    """Switch ``cfg.optim_wrapper`` to mmengine's ``AmpOptimWrapper`` (as
    mmseg's ``--amp``); :class:`AmpUnavailableError` without a device it
    runs on."""
    import torch
    from mmengine.device import (is_mlu_available, is_musa_available,
                                 is_npu_available)
    if not (torch.cuda.is_available() or is_npu_available()
            or is_mlu_available() or is_musa_available()):
        raise AmpUnavailableError(AMP_NEEDS_GPU)
    from mmengine.logging import print_log
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_wrapper == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in your config.',
                  logger='current', level=logging.WARNING)
    else:
        assert optim_wrapper == 'OptimWrapper', (
            '`--amp` is only supported when the optimizer wrapper type is '
            f'`OptimWrapper` but got {optim_wrapper}.')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    return cfg


def build_train_cfg(config, *, launcher='none', cfg_options=None,
                    work_dir=None, amp=False, resume=None):
    """The config ``tools/train.py`` trains.

    Args:
        resume (str, optional): None (no resuming), :data:`AUTO_RESUME`
            (the latest checkpoint of the work dir) or a checkpoint path
            (becomes ``load_from``).
    """
    cfg = load_config(config, launcher, cfg_options, work_dir)
    if amp:
        enable_amp(cfg)
    if resume is not None:
        cfg.resume = True
        if resume != AUTO_RESUME:
            cfg.load_from = resume
    add_rng_state_hook(cfg)
    return cfg
