"""Safe loading of mmengine checkpoints (sgdc_mmseg.compat.checkpoint)."""
import os
import os.path as osp
import pickle
import shutil

import numpy as np
import pytest
import torch

import sgdc_mmseg  # noqa: F401  (applies the compat layer)
from helpers import REPO_ROOT
from sgdc_mmseg.compat.checkpoint import (CheckpointError,
                                          CorruptCheckpointError,
                                          UntrustedCheckpointError,
                                          load_from_local, restricted_encode,
                                          restricted_getattr)

from mmengine.config import Config  # noqa: E402
from mmengine.logging.history_buffer import HistoryBuffer  # noqa: E402
from mmengine.runner import (CheckpointLoader, Runner,  # noqa: E402
                             load_checkpoint)


@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny_data_root):
    """Config + work dir of a tiny run trained 2 iterations (with val)."""
    from helpers import write_tiny_config
    root = tmp_path_factory.mktemp('ckpt_run')
    cfg_path = write_tiny_config(
        str(root / 'cfg.py'), tiny_data_root, max_iters=2,
        checkpoint_interval=2, val_interval=2,
        extra="default_hooks.update(checkpoint=dict(type='CheckpointHook', "
              "by_epoch=False, interval=2, save_best='mIoU'))")
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(root / 'work')
    cfg.experiment_name = 'test_checkpoint_trained'
    Runner.from_cfg(cfg).train()
    return cfg_path, cfg.work_dir


def _runner(cfg_path, work_dir, name, **updates):
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = name
    cfg.merge_from_dict(updates)
    return Runner.from_cfg(cfg)


def test_real_checkpoint_needs_only_allowlisted_globals(trained):
    _, work_dir = trained
    for name in ('iter_2.pth', 'best_mIoU_iter_2.pth'):
        path = osp.join(work_dir, name)
        assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
        ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        assert ckpt['meta']['iter'] == 2
        buffers = ckpt['message_hub']['log_scalars']
        assert any(isinstance(b, HistoryBuffer) for b in buffers.values())
        if name == 'iter_2.pth':  # best checkpoints drop the optimizer
            assert {'state_dict', 'optimizer', 'param_schedulers'} <= set(ckpt)


def test_loader_uses_weights_only(trained, monkeypatch):
    _, work_dir = trained
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get('weights_only'))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, 'load', spy)
    CheckpointLoader.load_checkpoint(osp.join(work_dir, 'iter_2.pth'))
    assert calls == [True]


def test_no_weights_only_false_in_code():
    import ast
    for top in ('sgdc_mmseg', 'tools'):
        for folder, _, files in os.walk(osp.join(REPO_ROOT, top)):
            for name in files:
                if not name.endswith('.py'):
                    continue
                with open(osp.join(folder, name)) as f:
                    tree = ast.parse(f.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.keyword) and \
                            node.arg == 'weights_only':
                        assert not (isinstance(node.value, ast.Constant)
                                    and node.value.value is False), name


def test_load_checkpoint_into_model(trained):
    cfg_path, work_dir = trained
    runner = _runner(cfg_path, work_dir, 'test_checkpoint_into_model')
    ckpt = load_checkpoint(runner.model, osp.join(work_dir, 'iter_2.pth'),
                           map_location='cpu')
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, ckpt['state_dict'][key]), key


def test_runner_resume_and_load_from(trained, tmp_path):
    cfg_path, work_dir = trained
    resume_dir = tmp_path / 'resume'
    resume_dir.mkdir()
    shutil.copy(osp.join(work_dir, 'iter_2.pth'), resume_dir)
    runner = _runner(
        cfg_path, resume_dir, 'test_checkpoint_resume', resume=True,
        load_from=str(resume_dir / 'iter_2.pth'),
        **{'train_cfg.max_iters': 3, 'train_cfg.val_interval': 1000})
    runner.train()
    assert runner.iter == 3
    # load_from without resume (weights only)
    runner = _runner(
        cfg_path, tmp_path / 'load_from', 'test_checkpoint_load_from',
        load_from=str(resume_dir / 'iter_2.pth'),
        **{'train_cfg.max_iters': 1, 'train_cfg.val_interval': 1000})
    runner.train()
    assert runner.iter == 1


class _SystemCall:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class _TofileGadget:
    """Pickles as getattr(ndarray, 'tofile')(marker)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (np.zeros(1).tofile, (self.marker, ))


@pytest.mark.parametrize('zipfile', [True, False])
def test_malicious_pickle_is_refused(tmp_path, zipfile):
    marker = tmp_path / 'MARKER'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _SystemCall(marker)}, str(path),
               _use_new_zipfile_serialization=zipfile)
    global_name = f'{os.system.__module__}.system'  # posix.system
    for load in (lambda: CheckpointLoader.load_checkpoint(str(path)),
                 lambda: load_checkpoint(torch.nn.Linear(1, 1), str(path))):
        with pytest.raises(UntrustedCheckpointError) as info:
            load()
        message = str(info.value)
        assert global_name in message
        assert str(path) in message
        assert 'not trusted' in message
        assert 'weights_only' not in message  # no advice to switch safety off
        assert 'nothing in it was executed' in message
        assert isinstance(info.value, pickle.UnpicklingError)
    assert not marker.exists()


def test_getattr_gadget_is_refused(tmp_path):
    marker = tmp_path / 'MARKER'
    path = tmp_path / 'gadget.pth'
    torch.save({'state_dict': {}, 'meta': _TofileGadget(str(marker))},
               str(path))
    with pytest.raises(UntrustedCheckpointError) as info:
        load_from_local(str(path))
    message = str(info.value)
    # refused by the restricted getattr itself (not later by torch)
    assert 'builtins.getattr(' in message and "'tofile'" in message
    assert str(path) in message and 'nothing in it was executed' in message
    assert not marker.exists()


def test_getattr_gadget_on_history_buffer_is_refused(tmp_path):
    # HistoryBuffer is allowed, but only its four statistics methods are.
    class Gadget:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, 'register_statistics'))

    path = tmp_path / 'gadget2.pth'
    torch.save({'x': Gadget()}, str(path))
    with pytest.raises(UntrustedCheckpointError,
                       match="getattr.*'register_statistics'"):
        load_from_local(str(path))


def test_restricted_getattr_and_encode():
    for name in ('min', 'max', 'current', 'mean'):
        assert restricted_getattr(HistoryBuffer, name) is getattr(
            HistoryBuffer, name)
    for obj, name in ((HistoryBuffer, '__init__'), (np.ndarray, 'tofile'),
                      (os, 'system'), (HistoryBuffer, 1)):
        with pytest.raises(pickle.UnpicklingError):
            restricted_getattr(obj, name)
    with pytest.raises(pickle.UnpicklingError):
        restricted_getattr(HistoryBuffer, 'min', None)
    assert restricted_encode('\x01\xff', 'latin1') == b'\x01\xff'
    for args in (('abc', 'rot13'), ('abc', 'utf-8'), (b'abc', 'latin1')):
        with pytest.raises(pickle.UnpicklingError):
            restricted_encode(*args)


def test_torch_default_encode_takes_precedence():
    """Documents why restricted_encode is registered but not consulted."""
    import _codecs
    from torch import _weights_only_unpickler as unpickler
    allowed = getattr(unpickler, '_get_allowed_globals', lambda: {})()
    if '_codecs.encode' not in allowed:
        pytest.skip('this torch no longer allow-lists _codecs.encode itself')
    assert allowed['_codecs.encode'] is _codecs.encode


def test_numpy_values_roundtrip(tmp_path):
    values = {
        'arrays': [np.arange(3).astype(d) for d in ('f4', 'f8', 'i4', 'i8',
                                                   'u1', '?')],
        'scalars': [np.float64(1.5), np.int64(3), np.float32(2.0)],
        'buffer': HistoryBuffer([1.0, 2.0], [1, 1]),
    }
    path = tmp_path / 'np.pth'
    torch.save(values, str(path))
    loaded = load_from_local(str(path))
    for a, b in zip(values['arrays'], loaded['arrays']):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert loaded['scalars'] == values['scalars']
    assert loaded['buffer'].mean() == 1.5


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / 'obj.pth'
    torch.save({'x': np.array([{'a': 1}], dtype=object)}, str(path))
    with pytest.raises(UntrustedCheckpointError):
        load_from_local(str(path))


def test_missing_file_names_it(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        CheckpointLoader.load_checkpoint(path)


def test_error_hierarchy():
    assert issubclass(CheckpointError, ValueError)
    assert issubclass(CorruptCheckpointError, CheckpointError)
    assert issubclass(UntrustedCheckpointError, CheckpointError)
    assert issubclass(UntrustedCheckpointError, pickle.UnpicklingError)
    assert not issubclass(CorruptCheckpointError, pickle.UnpicklingError)


def _write_broken(kind, path, real_ckpt):
    """Write a broken checkpoint of ``kind``; returns the expected reason."""
    if kind == 'empty':
        path.write_bytes(b'')
        return 'is empty (0 bytes)'
    if kind == 'truncated_zip':  # a real mmengine checkpoint, cut in half
        data = open(real_ckpt, 'rb').read()
        path.write_bytes(data[:len(data) // 2])
        return f'is truncated ({len(data) // 2} bytes)'
    if kind == 'truncated_legacy':
        torch.save({'w': torch.ones(50)}, str(path),
                   _use_new_zipfile_serialization=False)
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
        return 'is truncated'
    if kind == 'plain_pickle':
        with open(path, 'wb') as f:
            pickle.dump({'state_dict': {'w': [1.0, 2.0]}}, f)
        return 'plain Python pickle'
    if kind == 'random_bytes':
        path.write_bytes(np.random.RandomState(0).bytes(4096))
        return 'neither a torch.save zip archive nor a legacy torch.save file'
    raise ValueError(kind)


@pytest.mark.parametrize('kind', ['empty', 'truncated_zip',
                                  'truncated_legacy', 'plain_pickle',
                                  'random_bytes'])
def test_broken_checkpoint_errors_name_file_and_reason(trained, tmp_path,
                                                       kind):
    _, work_dir = trained
    path = tmp_path / f'{kind}.pth'
    reason = _write_broken(kind, path, osp.join(work_dir, 'iter_2.pth'))
    for load in (lambda: CheckpointLoader.load_checkpoint(str(path)),
                 lambda: load_checkpoint(torch.nn.Linear(1, 1), str(path)),
                 lambda: load_from_local(str(path))):
        with pytest.raises(CorruptCheckpointError) as info:
            load()
        message = str(info.value)
        assert f'"{path}"' in message and reason in message, message
        assert info.value.filename == str(path)
        # not mistaken for a refused global, no advice to drop safety
        assert not isinstance(info.value, UntrustedCheckpointError)
        assert 'not trusted' not in message and 'global' not in message
        assert 'weights_only' not in message


def test_runner_resume_from_truncated_checkpoint_names_it(trained,
                                                          tmp_path):
    cfg_path, work_dir = trained
    cut = tmp_path / 'iter_2.pth'
    _write_broken('truncated_zip', cut, osp.join(work_dir, 'iter_2.pth'))
    runner = _runner(cfg_path, tmp_path / 'work', 'test_checkpoint_cut',
                     resume=True, load_from=str(cut),
                     **{'train_cfg.max_iters': 3})
    with pytest.raises(CorruptCheckpointError, match='iter_2.pth.*truncated'):
        runner.train()


def test_zip_that_is_not_a_checkpoint(tmp_path):
    import zipfile
    path = tmp_path / 'notes.zip'
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('readme.txt', 'not a checkpoint')
    with pytest.raises(CorruptCheckpointError) as info:
        load_from_local(str(path))
    message = str(info.value)
    assert f'"{path}"' in message
    assert 'is a zip archive but not a readable torch.save checkpoint' \
        in message


def test_other_failures_keep_torch_error_with_file_note(trained):
    """A sound checkpoint that fails for another reason (here: a device that
    does not exist) is not called corrupt; torch's error names the file."""
    _, work_dir = trained
    path = osp.join(work_dir, 'iter_2.pth')
    with pytest.raises(RuntimeError) as info:
        load_from_local(path, map_location='no_such_device')
    assert not isinstance(info.value, CheckpointError)
    assert 'no_such_device' in str(info.value)
    assert any(path in note for note in info.value.__notes__)
