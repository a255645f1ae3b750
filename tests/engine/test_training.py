"""sgdc_mmseg.engine.training: the config tools/train.py trains (resume,
RNGStateHook, --amp)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.engine import training
from sgdc_mmseg.engine.hooks import RNGStateHook


def test_resume_forms(tiny_config):
    cfg_path = tiny_config()
    cfg = training.build_train_cfg(cfg_path)
    assert not cfg.resume and cfg.launcher == 'none'
    cfg = training.build_train_cfg(cfg_path, resume=training.AUTO_RESUME)
    assert cfg.resume is True and cfg.load_from is None
    cfg = training.build_train_cfg(cfg_path, resume='ck.pth',
                                   launcher='pytorch')
    assert cfg.resume is True and cfg.load_from == 'ck.pth'
    assert cfg.launcher == 'pytorch'


def test_rng_hook_added_once(tiny_config):
    cfg_path = tiny_config(custom_hooks=[dict(type='RNGStateHook')])
    cfg = training.build_train_cfg(cfg_path, work_dir='x')
    assert [h['type'] for h in cfg.custom_hooks] == ['RNGStateHook']
    assert cfg.work_dir == 'x'
    cfg = training.build_train_cfg(tiny_config(),
                                   cfg_options={'default_scope': 'other'})
    assert [h['type'] for h in cfg.custom_hooks] == ['mmseg.RNGStateHook']
    assert cfg.work_dir.endswith(osp.join('work_dirs', 'tiny_cfg_2'))


def test_has_hook_by_name_class_or_object():
    assert training.has_hook([dict(type='mmseg.RNGStateHook')],
                             'RNGStateHook')
    assert training.has_hook([dict(type=RNGStateHook)], 'RNGStateHook')
    assert training.has_hook([RNGStateHook()], 'RNGStateHook')
    assert not training.has_hook([dict(type='Other'), dict()],
                                 'RNGStateHook')
    assert not training.has_hook(None, 'RNGStateHook')


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is available')
def test_amp_without_a_device_is_refused():
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper')))
    with pytest.raises(training.AmpUnavailableError,
                       match='--amp needs a GPU: .*AmpOptimWrapper'):
        training.enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'OptimWrapper'
