"""Distributed training/testing on CPU (gloo) with mmengine 0.10.x.

mmengine assumes a GPU per process when ``launcher != 'none'``:

* ``mmengine.dist.init_dist`` calls ``torch.cuda.set_device`` before creating
  the process group;
* ``Runner.wrap_model`` gives ``MMDistributedDataParallel``
  ``device_ids=[LOCAL_RANK]``, which DDP rejects for a CPU module;
* ``SyncBN`` (``torch.nn.SyncBatchNorm``) only runs on accelerators.

Without touching mmengine, the tools call :func:`setup_cpu_distributed` before
building the Runner when CUDA is unavailable:

1. :func:`init_cpu_process_group` creates the gloo process group from the
   launcher's environment (torchrun, slurm or OpenMPI variables);
   ``Runner.setup_env`` only calls ``init_dist`` when no process group
   exists, so it is skipped.
2. :func:`adapt_cfg_for_cpu_distributed` sets
   ``cfg.model_wrapper_cfg.device_ids = None``. ``Runner.wrap_model`` passes
   ``device_ids`` as a *default* argument and mmengine's ``build_from_cfg``
   merges defaults with ``dict.setdefault``, so the explicit ``None`` wins and
   DDP wraps the CPU module. It also replaces ``SyncBN``/``MMSyncBN`` norm
   layers in ``cfg.model`` with ``BN`` (logging a warning), drops
   ``cfg.sync_bn`` and makes ``env_cfg.dist_cfg.backend`` gloo.
"""
import copy
import datetime
import logging
import os
import subprocess

import torch
import torch.distributed as torch_dist

__all__ = [
    'SYNC_BN_TYPES', 'adapt_cfg_for_cpu_distributed', 'init_cpu_process_group',
    'needs_cpu_distributed', 'replace_sync_bn', 'setup_cpu_distributed'
]

SYNC_BN_TYPES = ('SyncBN', 'MMSyncBN', 'TorchSyncBN', 'SyncBatchNorm',
                 'nn.SyncBatchNorm')
DEFAULT_PORT = 29500


def _log(message, level=logging.INFO):
    from mmengine.logging import print_log
    print_log(message, logger='current', level=level)


def needs_cpu_distributed(launcher):
    """True when a distributed ``launcher`` is used without CUDA."""
    return launcher not in (None, 'none') and not torch.cuda.is_available()


def _env_from_slurm(port=None):
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    tasks_per_node = int(
        os.environ.get('SLURM_NTASKS_PER_NODE', '').split('(')[0] or
        max(1, ntasks // int(os.environ.get('SLURM_NNODES', 1))))
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        first = subprocess.run(
            ['scontrol', 'show', 'hostnames', node_list],
            stdout=subprocess.PIPE, text=True, check=True).stdout.split()[0]
        os.environ['MASTER_ADDR'] = first
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', str(DEFAULT_PORT))
    os.environ['WORLD_SIZE'] = str(ntasks)
    os.environ['RANK'] = str(proc_id)
    os.environ['LOCAL_RANK'] = str(
        int(os.environ.get('SLURM_LOCALID', proc_id % tasks_per_node)))


def _env_from_mpi(port=None):
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ['LOCAL_RANK'] = os.environ.get('OMPI_COMM_WORLD_LOCAL_RANK',
                                              '0')
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', str(DEFAULT_PORT))


def init_cpu_process_group(launcher, backend='gloo', timeout=None, port=None,
                           **kwargs):
    """Create the default process group without touching CUDA.

    Args:
        launcher (str): ``'pytorch'`` (torchrun sets ``RANK``,
            ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), ``'slurm'`` or
            ``'mpi'`` (OpenMPI).
        backend (str): Defaults to ``'gloo'`` (``'nccl'`` needs GPUs and is
            replaced by gloo).
        timeout (int | float | timedelta, optional): Seconds.
        port (int, optional): Master port for slurm/mpi.
        **kwargs: Ignored (other ``env_cfg.dist_cfg`` keys).

    Returns:
        bool: False when a process group already existed.
    """
    if torch_dist.is_initialized():
        return False
    if launcher == 'slurm':
        _env_from_slurm(port)
    elif launcher == 'mpi':
        _env_from_mpi(port)
    elif launcher != 'pytorch':
        raise ValueError(f'unknown launcher {launcher!r}')
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(
            f'launcher {launcher!r} without {", ".join(missing)} in the '
            'environment: start the tools with torchrun (tools/dist_train.sh)'
            ', srun (tools/slurm_train.sh) or mpirun.')
    os.environ.setdefault('LOCAL_RANK', '0')
    if backend != 'gloo':
        _log(f'dist backend {backend!r} needs GPUs; using gloo on CPU.',
             logging.WARNING)
        backend = 'gloo'
    init_kwargs = dict(backend=backend, init_method='env://')
    if timeout is not None:
        if not isinstance(timeout, datetime.timedelta):
            timeout = datetime.timedelta(seconds=timeout)
        init_kwargs['timeout'] = timeout
    torch_dist.init_process_group(**init_kwargs)
    return True


def replace_sync_bn(node, new_type='BN'):
    """Replace SyncBN norm configs in a nested config, in place.

    Every mapping whose ``type`` is one of :data:`SYNC_BN_TYPES` gets
    ``type=new_type``. Returns the number of replacements.
    """
    count = 0
    if isinstance(node, dict):
        if node.get('type') in SYNC_BN_TYPES:
            node['type'] = new_type
            count += 1
        for value in node.values():
            count += replace_sync_bn(value, new_type)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += replace_sync_bn(value, new_type)
    return count


def adapt_cfg_for_cpu_distributed(cfg):
    """Make a config runnable with DDP on CPU (see module docstring).

    Args:
        cfg (mmengine.Config): Changed in place and returned.
    """
    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None:
        wrapper = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    else:
        wrapper = copy.deepcopy(wrapper)
        wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper

    replaced = replace_sync_bn(cfg.model)
    if replaced:
        _log(f'CPU distributed run: replaced {replaced} SyncBN norm config(s) '
             'in cfg.model with BN (SyncBatchNorm needs GPUs); batch '
             'statistics are per process.', logging.WARNING)
    if cfg.get('sync_bn', None) is not None:
        _log(f'CPU distributed run: ignoring sync_bn={cfg.sync_bn!r} '
             '(SyncBatchNorm needs GPUs).', logging.WARNING)
        cfg.sync_bn = None
    env_cfg = cfg.get('env_cfg', None)
    if env_cfg is None:
        cfg.env_cfg = dict(dist_cfg=dict(backend='gloo'))
    else:
        env_cfg.setdefault('dist_cfg', dict())
        env_cfg['dist_cfg']['backend'] = 'gloo'
    return cfg


def setup_cpu_distributed(cfg, launcher):
    """Init gloo and adapt ``cfg`` when ``launcher`` is used without CUDA.

    Returns:
        bool: True when the CPU path was taken.
    """
    if not needs_cpu_distributed(launcher):
        return False
    adapt_cfg_for_cpu_distributed(cfg)
    dist_cfg = dict(cfg.env_cfg.get('dist_cfg', {}))
    init_cpu_process_group(launcher, **dist_cfg)
    return True
