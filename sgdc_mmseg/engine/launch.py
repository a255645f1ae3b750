"""What ``tools/train.py`` and ``tools/test.py`` share: reading a config as
mmseg's tools do and building the Runner (with the CPU-distributed path of
:mod:`sgdc_mmseg.compat.dist`)."""
import os.path as osp

from mmengine.config import Config


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


def build_runner(cfg):
    """Build the Runner of ``cfg`` (``runner_type`` honoured); without CUDA a
    distributed launcher first gets a gloo process group."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from ..compat.dist import setup_cpu_distributed
    setup_cpu_distributed(cfg, cfg.launcher)
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)
