"""Train a segmentor with mmengine's Runner (the sgdc_mmseg compat layer on).

Usage mirrors mmsegmentation's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]]
        [--amp] [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]

``--resume`` alone resumes from the latest checkpoint in the work dir (as in
mmseg); ``--resume PATH`` (or ``--resume=PATH``) resumes from ``PATH``. Put
``--resume`` after CONFIG when giving no value.

Differences from mmseg: ``RNGStateHook`` is added to ``custom_hooks`` (exact
continuation on resume), distributed runs without CUDA use gloo
(:mod:`sgdc_mmseg.compat.dist`), and loading ``load_from`` (or a resumed
checkpoint) logs one line ``N tensors loaded, M missing, K unexpected, S
shape-mismatched, from FILE``, plus a warning naming the keys that did not
fit (loading stays non-strict, as fine-tuning needs; see
:mod:`sgdc_mmseg.engine.launch`).
"""
import argparse
import logging
import os
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import sgdc_mmseg  # noqa: E402,F401  (compat layer first)
from mmengine.config import DictAction  # noqa: E402
from sgdc_mmseg.engine.launch import build_runner, load_config  # noqa: E402

AUTO_RESUME = 'auto'
AMP_NEEDS_GPU = (
    '--amp needs a GPU: mmengine\'s AmpOptimWrapper only runs on CUDA (or '
    'NPU/MLU/MUSA) devices and none is available here. Train without --amp '
    'on CPU.')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', const=AUTO_RESUME, default=None,
        metavar='CHECKPOINT',
        help='resume from the latest checkpoint in the work dir, or from '
        'CHECKPOINT when given')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='enable automatic-mixed-precision training (needs a GPU)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
        help='override settings in the config, e.g. '
        'train_cfg.max_iters=100 "model.backbone.depth=50"')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (older: --local_rank)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _has_hook(hooks, name):
    for hook in hooks or []:
        hook_type = hook.get('type') if isinstance(hook, dict) else hook
        if isinstance(hook_type, str):
            if hook_type.split('.')[-1] == name:
                return True
        elif getattr(hook_type, '__name__', None) == name or \
                type(hook_type).__name__ == name:
            return True
    return False


def add_rng_state_hook(cfg):
    """Append ``RNGStateHook`` to ``cfg.custom_hooks`` unless present."""
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not _has_hook(hooks, 'RNGStateHook'):
        scope = cfg.get('default_scope', None)
        hook_type = 'RNGStateHook' if scope == 'mmseg' else \
            'mmseg.RNGStateHook'
        hooks.append(dict(type=hook_type))
    cfg.custom_hooks = hooks
    return cfg


def enable_amp(cfg):
    import torch
    from mmengine.device import (is_mlu_available, is_musa_available,
                                 is_npu_available)
    if not (torch.cuda.is_available() or is_npu_available()
            or is_mlu_available() or is_musa_available()):
        raise SystemExit(f'error: {AMP_NEEDS_GPU}')
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


def build_cfg(args):
    cfg = load_config(args.config, args.launcher, args.cfg_options,
                      args.work_dir)
    if args.amp:
        enable_amp(cfg)
    if args.resume is not None:
        cfg.resume = True
        if args.resume != AUTO_RESUME:
            cfg.load_from = args.resume
    add_rng_state_hook(cfg)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)

    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    main()
