"""Atomic checkpoint saving (sgdc_mmseg.compat.checkpoint.save_checkpoint).

The kill test trains a tiny mmengine Runner in a subprocess whose
``builtins.open`` is wrapped so that writing ``iter_4.pth`` (under its final
name, as mmengine's ``LocalBackend.put`` does, or under a temporary name, as
the compat layer does) writes half the bytes, flushes them, creates a marker
file and then blocks: the test waits for the marker and SIGKILLs the process
in the middle of the save, deterministically.
"""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from torch import nn

import sgdc_mmseg  # noqa: F401  (applies the compat layer)
from helpers import tool_env
from sgdc_mmseg.compat import checkpoint as safe_ckpt
from sgdc_mmseg.compat.checkpoint import CheckpointError

from mmengine.hooks import Hook  # noqa: E402
from mmengine.model import BaseModel  # noqa: E402
from mmengine.runner import (CheckpointLoader, Runner,  # noqa: E402
                             save_checkpoint)

HERE = osp.dirname(osp.abspath(__file__))


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            error = out.squeeze(1) - torch.stack(labels)
            return dict(loss=(error**2).mean())
        return out


def build_toy_runner(work_dir, max_iters, resume=False, name='toy',
                     max_keep_ckpts=-1):
    """A CPU Runner of :class:`ToyModel` saving every 2 iterations."""
    from torch.utils.data import DataLoader

    from mmengine.dataset import pseudo_collate
    gen = torch.Generator().manual_seed(0)
    data = [dict(inputs=torch.randn(2, generator=gen),
                 labels=torch.randn((), generator=gen)) for _ in range(8)]
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=name,
        train_dataloader=DataLoader(data, batch_size=2, shuffle=False,
                                    collate_fn=pseudo_collate),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           by_epoch=False, interval=2,
                                           max_keep_ckpts=max_keep_ckpts)),
        default_scope='mmseg',  # as every config of this project
        randomness=dict(seed=0),
        log_level='WARNING',
        resume=resume)


_KILLED_SAVE = r'''
import builtins, os, sys, time
sys.path.insert(0, {here!r})
sys.path.insert(0, {tests!r})
import sgdc_mmseg  # the compat layer, as in tools/train.py
from test_checkpoint_save import build_toy_runner

work_dir, marker, keep = sys.argv[1:4]
real_open = builtins.open


class BlockingFile:
    """Writes half the first chunk, flushes, signals, then blocks."""

    def __init__(self, f):
        self._f = f

    def write(self, data):
        self._f.write(data[:len(data) // 2])
        self._f.flush()
        os.fsync(self._f.fileno())
        real_open(marker, 'w').close()
        while True:
            time.sleep(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._f, name)


def blocking_open(file, mode='r', *args, **kwargs):
    f = real_open(file, mode, *args, **kwargs)
    if isinstance(file, (str, os.PathLike)) and 'iter_4.pth' in \
            os.fspath(file) and any(c in mode for c in 'wxa'):
        return BlockingFile(f)
    return f


builtins.open = blocking_open
build_toy_runner(work_dir, max_iters=6, name='killed',
                 max_keep_ckpts=int(keep)).train()
'''


def _final_checkpoints(work_dir):
    return sorted(n for n in os.listdir(work_dir)
                  if n.endswith('.pth') and not n.startswith('.'))


class _StartIter(Hook):

    def __init__(self):
        self.start = None

    def before_train(self, runner):
        self.start = runner.iter


@pytest.mark.parametrize('keep', [-1, 1])
def test_sigkill_during_save_then_resume(tmp_path, keep):
    """keep=1: CheckpointHook(max_keep_ckpts=1) must not have deleted
    iter_2.pth before iter_4.pth was complete (sgdc_mmseg.compat.
    checkpoint_hook)."""
    work_dir = tmp_path / 'work'
    marker = tmp_path / 'SAVING'
    script = tmp_path / 'killed_save.py'
    script.write_text(_KILLED_SAVE.format(here=HERE,
                                          tests=osp.dirname(HERE)))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(work_dir), str(marker),
         str(keep)],
        env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        deadline = time.monotonic() + 120  # a generous safety net only
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail('the training subprocess ended before saving '
                            f'iter_4.pth:\n{proc.stdout.read()}')
            if time.monotonic() > deadline:
                pytest.fail('the training subprocess never reached the save')
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    # only complete checkpoints under final names; last_checkpoint names one
    assert _final_checkpoints(work_dir) == ['iter_2.pth']
    for name in _final_checkpoints(work_dir):
        ckpt = CheckpointLoader.load_checkpoint(str(work_dir / name))
        assert ckpt['meta']['iter'] == 2
    last = (work_dir / 'last_checkpoint').read_text().strip()
    assert last == str(work_dir / 'iter_2.pth')

    # auto resume (tools/train.py --resume) continues from iter 2
    runner = build_toy_runner(work_dir, max_iters=6, resume=True,
                              name='resumed', max_keep_ckpts=keep)
    start = _StartIter()
    runner.register_hook(start)
    runner.train()
    assert start.start == 2 and runner.iter == 6
    kept = ['iter_2.pth', 'iter_4.pth', 'iter_6.pth'] if keep == -1 else \
        ['iter_6.pth']
    assert _final_checkpoints(work_dir) == kept
    for step in [int(n[5:-4]) for n in kept if n != 'iter_2.pth']:
        ckpt = CheckpointLoader.load_checkpoint(
            str(work_dir / f'iter_{step}.pth'))
        assert ckpt['meta']['iter'] == step
    # the killed save's temporary file was removed by the next iter_4 save
    assert [n for n in os.listdir(work_dir) if n.endswith('.partial')] == []
    assert (work_dir / 'last_checkpoint').read_text().strip() == \
        str(work_dir / 'iter_6.pth')


def _checkpoint():
    torch.manual_seed(0)
    model = ToyModel()
    return dict(meta=dict(iter=3), state_dict=model.state_dict(),
                optimizer=torch.optim.SGD(model.parameters(),
                                          lr=0.1).state_dict())


def test_same_bytes_as_mmengine(tmp_path):
    ckpt = _checkpoint()
    ours, theirs = tmp_path / 'ours.pth', tmp_path / 'theirs.pth'
    save_checkpoint(ckpt, str(ours))
    safe_ckpt._MMENGINE_SAVE_CHECKPOINT(ckpt, str(theirs))
    assert ours.read_bytes() == theirs.read_bytes()
    assert os.stat(ours).st_mode == os.stat(theirs).st_mode
    # mmengine's name for it, Runner's and the package's are all replaced
    import mmengine.runner as mm_runner
    import mmengine.runner.checkpoint as mm_ckpt
    import mmengine.runner.runner as mm_runner_mod
    for module in (mm_runner, mm_ckpt, mm_runner_mod):
        assert module.save_checkpoint is safe_ckpt.save_checkpoint


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / 'sub' / 'iter_2.pth'
    save_checkpoint(_checkpoint(), str(path))  # creates the folder
    before = path.read_bytes()

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError('cannot pickle this')

    with pytest.raises(RuntimeError, match='cannot pickle'):
        save_checkpoint(dict(meta=Unpicklable()), str(path))
    assert path.read_bytes() == before

    with pytest.raises(TypeError):  # fails while writing, not serialising
        safe_ckpt.atomic_write_bytes(object(), str(path))
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ['iter_2.pth']  # no .partial left


def test_stale_partial_of_same_name_is_removed(tmp_path):
    stale = tmp_path / '.iter_2.pth.deadbeef.partial'
    other = tmp_path / '.iter_20.pth.deadbeef.partial'
    stale.write_bytes(b'PK\x03\x04half')
    other.write_bytes(b'PK\x03\x04half')
    save_checkpoint(_checkpoint(), str(tmp_path / 'iter_2.pth'))
    assert not stale.exists() and other.exists()
    assert CheckpointLoader.load_checkpoint(
        str(tmp_path / 'iter_2.pth'))['meta']['iter'] == 3


@pytest.mark.parametrize('record', ['missing', 'empty'])
def test_auto_resume_with_broken_last_checkpoint_is_clear(tmp_path, record):
    """max_keep_ckpts deletes the old checkpoint before the new one is saved:
    a kill in between leaves last_checkpoint naming a deleted file."""
    work_dir = tmp_path / 'work'
    build_toy_runner(work_dir, max_iters=2, name=f'first_{record}').train()
    deleted = work_dir / 'iter_0.pth'
    (work_dir / 'last_checkpoint').write_text(
        str(deleted) if record == 'missing' else '')
    runner = build_toy_runner(work_dir, max_iters=4, resume=True,
                              name=f'resumed_{record}')
    with pytest.raises(CheckpointError) as info:
        runner.train()
    message = str(info.value)
    assert str(work_dir / 'last_checkpoint') in message
    assert "['iter_2.pth']" in message  # the complete one that is there
    if record == 'missing':
        assert f'names "{deleted}", which does not exist' in message
    else:
        assert 'is empty' in message
