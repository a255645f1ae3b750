"""CPU (gloo) distributed training through tools/train.py and torchrun."""
import copy
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

import sgdc_mmseg  # noqa: F401
from helpers import REPO_ROOT, tool_env
from sgdc_mmseg.compat import dist as cpu_dist


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(),
                    reason='checks the CPU path (CUDA is available)')
def test_torchrun_two_process_cpu_training(tmp_path, tiny_config):
    cfg_path = tiny_config(max_iters=3, checkpoint_interval=3,
                           val_interval=1000)
    work_dir = tmp_path / 'work'
    env = tool_env()
    env['OMP_NUM_THREADS'] = '1'
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--standalone',
        '--nproc_per_node=2',
        osp.join(REPO_ROOT, 'tools', 'train.py'), cfg_path, '--launcher',
        'pytorch', '--work-dir', str(work_dir), '--cfg-options',
        'model.backbone.norm_cfg.type=SyncBN',
        'model.decode_head.norm_cfg.type=SyncBN'
    ]
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=240)
    out = proc.stdout
    assert proc.returncode == 0, out[-5000:]
    assert osp.isfile(work_dir / 'iter_3.pth'), os.listdir(work_dir)
    assert 'Distributed training: True' in out
    # 8 validation images shared by 2 processes: 4 iterations each
    assert 'Iter(val) [4/4]' in out
    assert 'replaced 2 SyncBN' in out
    ckpt = torch.load(str(work_dir / 'iter_3.pth'), weights_only=True)
    assert ckpt['meta']['iter'] == 3
    assert not any(k.startswith('module.') for k in ckpt['state_dict'])


def test_replace_sync_bn():
    cfg = dict(
        backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)),
        neck=[dict(norm_cfg=dict(type='MMSyncBN')), dict(type='X')],
        head=dict(norm_cfg=dict(type='BN')))
    assert cpu_dist.replace_sync_bn(cfg) == 2
    assert cfg['backbone']['norm_cfg'] == dict(type='BN', requires_grad=True)
    assert cfg['neck'][0]['norm_cfg']['type'] == 'BN'
    assert cfg['neck'][1]['type'] == 'X'


def _cfg(**kwargs):
    from mmengine.config import Config
    return Config(dict(model=dict(type='M', norm_cfg=dict(type='SyncBN')),
                       **kwargs))


def test_adapt_cfg_for_cpu_distributed():
    cfg = cpu_dist.adapt_cfg_for_cpu_distributed(
        _cfg(sync_bn='torch', env_cfg=dict(dist_cfg=dict(backend='nccl')),
             find_unused_parameters=True))
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=True, device_ids=None)
    assert cfg.model.norm_cfg.type == 'BN'
    assert cfg.sync_bn is None
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    # a wrapper given by the config is kept, only device_ids changes
    cfg = cpu_dist.adapt_cfg_for_cpu_distributed(_cfg(
        model_wrapper_cfg=dict(type='MMDistributedDataParallel',
                               find_unused_parameters=True)))
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', find_unused_parameters=True,
        device_ids=None)


def test_needs_cpu_distributed():
    assert not cpu_dist.needs_cpu_distributed('none')
    assert cpu_dist.needs_cpu_distributed('pytorch') == (
        not torch.cuda.is_available())


def test_explicit_device_ids_none_wins_over_runner_default(tmp_path):
    """What Runner.wrap_model does, with the adapted wrapper config."""
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    from mmengine.registry import MODEL_WRAPPERS
    assert not dist.is_initialized()
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    try:
        assert cpu_dist.init_cpu_process_group('pytorch') is False
        wrapper_cfg = cpu_dist.adapt_cfg_for_cpu_distributed(
            _cfg()).model_wrapper_cfg
        model = torch.nn.Linear(2, 2)
        wrapped = MODEL_WRAPPERS.build(
            copy.deepcopy(wrapper_cfg),
            default_args=dict(device_ids=[0], module=model))
        assert isinstance(wrapped, MMDistributedDataParallel)
        assert wrapped.device_ids is None
        # mmengine's own default (device_ids=[LOCAL_RANK]) fails on CPU
        with pytest.raises(ValueError):
            MODEL_WRAPPERS.build(
                dict(type='MMDistributedDataParallel'),
                default_args=dict(device_ids=[0], module=torch.nn.Linear(2,
                                                                         2)))
    finally:
        dist.destroy_process_group()


def test_env_from_mpi(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                'MASTER_PORT'):
        # set, then delete: monkeypatch then restores the variables that
        # _env_from_mpi writes (a leaked RANK=3 made later tools think they
        # were not rank 0)
        monkeypatch.setenv(key, '')
        monkeypatch.delenv(key)
    monkeypatch.setenv('OMPI_COMM_WORLD_RANK', '3')
    monkeypatch.setenv('OMPI_COMM_WORLD_SIZE', '4')
    monkeypatch.setenv('OMPI_COMM_WORLD_LOCAL_RANK', '1')
    cpu_dist._env_from_mpi(port=12345)
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'],
            os.environ['LOCAL_RANK'], os.environ['MASTER_PORT']) == (
                '3', '4', '1', '12345')


def test_missing_env_is_explained(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match='torchrun'):
        cpu_dist.init_cpu_process_group('pytorch')
