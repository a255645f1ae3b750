"""RNGStateHook: a resumed run reproduces the uninterrupted one exactly."""
import random
import shutil

import numpy as np
import pytest
import torch

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.engine.hooks import RNGStateHook
from sgdc_mmseg.engine.hooks.rng_state_hook import (STATE_KEY, get_rng_states,
                                                    set_rng_states)

from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

HOOK = [dict(type='RNGStateHook')]


def _train(cfg_path, work_dir, name, resume_from=None):
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = name
    if resume_from is not None:
        cfg.load_from = str(resume_from)
        cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def _interrupted_vs_resumed(tmp_path, cfg_path, tag):
    """Train 6 iters (A); resume a copy of A's iter_3 checkpoint to 6 (B)."""
    run_a = tmp_path / f'{tag}_a'
    final_a = _train(cfg_path, run_a, f'rng_{tag}_a')
    run_b = tmp_path / f'{tag}_b'
    run_b.mkdir()
    shutil.copy(run_a / 'iter_3.pth', run_b / 'iter_3.pth')
    final_b = _train(cfg_path, run_b, f'rng_{tag}_b',
                     resume_from=run_b / 'iter_3.pth')
    return final_a, final_b, run_a / 'iter_3.pth'


def _max_diff(a, b):
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


# val_interval=3: validation runs right after the iter-3 checkpoint in run A
# but not in run B, which also exercises the random-neutral validation.
_CFG = dict(max_iters=6, checkpoint_interval=3, val_interval=3, dropout=0.3)


def test_resume_reproduces_uninterrupted_run(tmp_path, tiny_config):
    cfg_path = tiny_config(custom_hooks=HOOK, **_CFG)
    final_a, final_b, ckpt = _interrupted_vs_resumed(tmp_path, cfg_path,
                                                     'hook')
    assert final_a.keys() == final_b.keys()
    for key in final_a:
        assert torch.equal(final_a[key], final_b[key]), (
            key, _max_diff(final_a, final_b))
    # the states need no pickle global beyond the allow-listed ones
    assert torch.serialization.get_unsafe_globals_in_checkpoint(
        str(ckpt)) == []
    states = torch.load(str(ckpt), weights_only=True)[STATE_KEY]
    assert set(states) >= {'python', 'numpy', 'torch', 'world_size'}


def test_without_hook_resume_differs(tmp_path, tiny_config):
    """The test above can fail: without the hook the runs diverge."""
    cfg_path = tiny_config(**_CFG)
    final_a, final_b, _ = _interrupted_vs_resumed(tmp_path, cfg_path,
                                                  'nohook')
    assert _max_diff(final_a, final_b) > 1e-6


def test_states_roundtrip():
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    states = get_rng_states()
    expected = (random.random(), np.random.rand(), torch.rand(1).item(),
                np.random.randn())
    for _ in range(3):
        random.random(), np.random.randn(), torch.rand(5)
    set_rng_states(states)
    assert (random.random(), np.random.rand(), torch.rand(1).item(),
            np.random.randn()) == expected


class _FakeRunner:
    def __init__(self, epoch, it):
        self.epoch, self.iter = epoch, it


def test_load_from_does_not_restore():
    hook = RNGStateHook()
    hook.after_load_checkpoint(
        None, {STATE_KEY: get_rng_states(), 'meta': dict(epoch=0, iter=3)})
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    hook.before_train_epoch(_FakeRunner(0, 0))  # load_from: loop at iter 0
    assert torch.equal(torch.rand(1), expected)
    assert hook._pending is None


if __name__ == '__main__':
    pytest.main([__file__, '-q'])
