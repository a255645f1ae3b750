"""sgdc_mmseg/utils/fileio.py: atomic writes (bytes, text, JSON), JSON
records read leniently, stale temporary files, the folder lock."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from sgdc_mmseg.utils import fileio
from sgdc_mmseg.utils.fileio import (DirLock, atomic_write, atomic_write_json,
                                     atomic_write_text, pid_temp_path,
                                     read_json, remove_stale_temps)


def test_atomic_write_mode_and_no_temporary_left(tmp_path):
    path = tmp_path / 'a.bin'
    old_umask = os.umask(0o022)
    try:
        atomic_write(str(path), b'abc')
    finally:
        os.umask(old_umask)
    assert path.read_bytes() == b'abc'
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert os.listdir(tmp_path) == ['a.bin']


def test_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    path = tmp_path / 'a.bin'
    path.write_bytes(b'old')
    with pytest.raises(TypeError):
        atomic_write(str(path), 'not bytes')
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['a.bin']


def test_symlink_at_path_is_replaced_not_written_through(tmp_path):
    target = tmp_path / 'target.txt'
    target.write_text('keep me')
    link = tmp_path / 'link.txt'
    link.symlink_to(target)
    atomic_write_text(str(link), 'new')
    assert not link.is_symlink() and link.read_text() == 'new'
    assert target.read_text() == 'keep me'


def test_temporary_names(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real_replace(src, dst)

    monkeypatch.setattr(fileio.os, 'replace', spy)
    atomic_write(str(tmp_path / 'x.pth'), b'1', temp_suffix='.sgdc-tmp')
    assert seen[-1].startswith('.x.pth.') and seen[-1].endswith('.sgdc-tmp')
    assert len(seen[-1]) == len('.x.pth.') + 8 + len('.sgdc-tmp')
    # a caller-chosen name is overwritten if a killed run left it
    leftover = pid_temp_path(str(tmp_path / 'y.txt'))
    assert leftover == f'{tmp_path / "y.txt"}.{os.getpid()}.partial'
    with open(leftover, 'wb') as f:
        f.write(b'half')
    atomic_write(str(tmp_path / 'y.txt'), b'whole', temp_path=leftover)
    assert (tmp_path / 'y.txt').read_bytes() == b'whole'
    assert sorted(os.listdir(tmp_path)) == ['x.pth', 'y.txt']


def test_fsync_syncs_the_file_and_the_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.path.realpath(f'/proc/self/fd/{fd}'))
        return real_fsync(fd)

    monkeypatch.setattr(fileio.os, 'fsync', spy)
    atomic_write(str(tmp_path / 'a'), b'1')
    assert synced == []
    atomic_write(str(tmp_path / 'b'), b'2', fsync=True)
    assert len(synced) == 2
    assert synced[0].startswith(str(tmp_path / '.b.'))  # before the rename
    assert synced[1] == str(tmp_path)


def test_json_write_and_lenient_read(tmp_path):
    path = str(tmp_path / 'r.json')
    atomic_write_json(path, {'b': 1, 'a': [1, 'é']}, sort_keys=True)
    with open(path, encoding='utf-8') as f:
        text = f.read()
    assert text == json.dumps({'a': [1, 'é'], 'b': 1}, indent=2) + '\n'
    assert read_json(path) == {'a': [1, 'é'], 'b': 1}
    assert read_json(str(tmp_path / 'missing.json')) is None
    (tmp_path / 'bad.json').write_text('{"a": ')
    assert read_json(str(tmp_path / 'bad.json')) is None
    (tmp_path / 'latin1.json').write_bytes(b'"\xe9"')
    assert read_json(str(tmp_path / 'latin1.json')) is None


def test_remove_stale_temps_only_of_that_name(tmp_path):
    for name in ('.iter_2.pth.deadbeef.partial', '.iter_20.pth.0.partial',
                 '.iter_2.pth.notes', 'iter_2.pth'):
        (tmp_path / name).write_bytes(b'x')
    remove_stale_temps(str(tmp_path / 'iter_2.pth'))
    assert sorted(os.listdir(tmp_path)) == [
        '.iter_2.pth.notes', '.iter_20.pth.0.partial', 'iter_2.pth']


def test_dir_lock_is_exclusive_and_released(tmp_path):
    path = str(tmp_path / '.lock')
    a, b = DirLock(path), DirLock(path)
    assert a.try_acquire()
    assert not b.try_acquire()
    owner = read_json(path)
    assert owner == dict(pid=os.getpid(), host=socket.gethostname())
    a.break_if_stale()  # a live owner on this host: kept
    assert os.path.exists(path)
    a.release()
    assert b.try_acquire()
    b.release()
    assert not os.path.exists(path)


def test_acquire_gives_up_when_the_work_is_done_or_times_out(tmp_path):
    path = str(tmp_path / '.lock')
    holder = DirLock(path)
    assert holder.try_acquire()
    waiter = DirLock(path, purpose='converting the data')
    assert waiter.acquire(timeout=30, done=lambda: True) is False
    with pytest.raises(TimeoutError) as err:
        waiter.acquire(timeout=0, poll=0)
    msg = str(err.value)
    assert repr(path) in msg and 'held by another process converting the ' \
        'data' in msg
    holder.release()
    assert waiter.acquire(timeout=0) is True


def test_stale_locks_are_broken(tmp_path):
    path = str(tmp_path / '.lock')
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    with open(path, 'w') as f:
        json.dump(dict(pid=dead.pid, host=socket.gethostname()), f)
    DirLock(path).break_if_stale()
    assert not os.path.exists(path)
    # not refreshed for stale_after seconds (any owner), or unreadable
    # owner information on an old lock
    for content in (json.dumps(dict(pid=os.getpid(), host='elsewhere')),
                    '[1, 2]'):
        with open(path, 'w') as f:
            f.write(content)
        old = time.time() - 300
        os.utime(path, (old, old))
        DirLock(path, stale_after=120).break_if_stale()
        assert not os.path.exists(path)
    assert os.listdir(tmp_path) == []
