"""Writing files so that no reader ever sees half of one, reading small JSON
records, and a lock over a folder shared by several processes.

This module owns the one implementation of these for the whole package
(the dataset converters and split files, the synthetic data generator, the
checkpoint saver of :mod:`sgdc_mmseg.compat.checkpoint` and the tools'
outputs of :mod:`sgdc_mmseg.apis.outputs`); each caller only chooses how
its temporary files are named, which its own clean-up code relies on.

* :func:`atomic_write` (bytes), :func:`atomic_write_text` and
  :func:`atomic_write_json`: the data go to a temporary file **in the same
  folder**, which then replaces the final name with :func:`os.replace`
  (atomic on POSIX and Windows). ``path`` is therefore absent, the old file
  or the complete new one, even when the process is killed; a symbolic link
  at ``path`` is replaced, never written through. A write that fails
  removes its temporary file. With ``fsync=True`` the file is flushed to
  disk before the rename and the folder after it (:func:`fsync_folder`), so
  the new file also survives a power cut; without it the write is atomic
  against a killed process only. New files get the usual permissions
  (``0o666`` less the umask).
* Temporary names: :func:`hidden_temp_path` (the default,
  ``.<name>.<8 hex><suffix>``, created exclusively) or
  :func:`pid_temp_path` (``<path>.<pid><suffix>``); what a killed writer
  leaves is removed by :func:`remove_stale_temps` (hidden names) or by the
  caller.
* :func:`read_json` returns ``None`` for a missing or unreadable file
  rather than raising: callers use it for records that decide whether work
  must be redone, where "unreadable" means "redo".
* :class:`DirLock`: an inter-process lock made of one file created with
  ``O_CREAT | O_EXCL`` (works across processes on one machine and on shared
  file systems); a lock of a dead process (same host) or one not refreshed
  for ``stale_after`` seconds is broken.

Imports nothing from ``sgdc_mmseg`` (nor mmengine/mmseg), so every part of
the package, including :mod:`sgdc_mmseg.compat`, may use it.
"""
import json
import os
import os.path as osp
import secrets
import socket
import time
from typing import Any, Callable, Optional

#: Default ending of the temporary files.
TEMP_SUFFIX = '.partial'


def hidden_temp_path(path: str, suffix: str = TEMP_SUFFIX) -> str:
    """``<folder>/.<name>.<8 random hex digits><suffix>`` next to
    ``path``: hidden, and unique to one write."""
    folder, name = osp.split(osp.abspath(path))
    return osp.join(folder, f'.{name}.{secrets.token_hex(4)}{suffix}')


def pid_temp_path(path: str, suffix: str = TEMP_SUFFIX) -> str:
    """``<path>.<pid><suffix>``: one name per process, so that parallel
    worker processes never share one."""
    return f'{path}.{os.getpid()}{suffix}'


def fsync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable (best effort where the platform
    cannot open or sync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, data: bytes, *, fsync: bool = False,
                 temp_suffix: str = TEMP_SUFFIX,
                 temp_path: Optional[str] = None) -> None:
    """Write the bytes ``data`` to ``path`` atomically (see the module
    docstring).

    Args:
        path (str): The final file; its folder must exist.
        data (bytes): The content.
        fsync (bool): Also make the file and the rename durable.
        temp_suffix (str): Ending of the default temporary file.
        temp_path (str, optional): The temporary file, in the folder of
            ``path``; it is overwritten if it exists (the caller owns that
            name). Default: a fresh :func:`hidden_temp_path` ending in
            ``temp_suffix``, created exclusively.
    """
    if temp_path is None:
        tmp, mode = hidden_temp_path(path, temp_suffix), 'xb'
    else:
        tmp, mode = temp_path, 'wb'
    try:
        with open(tmp, mode) as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    if fsync:
        fsync_folder(osp.dirname(osp.abspath(path)))


def atomic_write_text(path: str, text: str, *, encoding: str = 'utf-8',
                      **kwargs) -> None:
    """:func:`atomic_write` of ``text`` encoded with ``encoding``
    (``kwargs``: those of :func:`atomic_write`)."""
    atomic_write(path, text.encode(encoding), **kwargs)


def json_text(obj: Any, *, indent: int = 2, sort_keys: bool = False) -> str:
    """``obj`` as JSON (:func:`json.dumps` with ``indent`` and
    ``sort_keys``) plus a final newline."""
    return json.dumps(obj, indent=indent, sort_keys=sort_keys) + '\n'


def atomic_write_json(path: str, obj: Any, *, indent: int = 2,
                      sort_keys: bool = False, **kwargs) -> None:
    """Write :func:`json_text` of ``obj`` (UTF-8) with :func:`atomic_write`
    (``kwargs``: those of :func:`atomic_write`)."""
    atomic_write_text(path, json_text(obj, indent=indent,
                                      sort_keys=sort_keys), **kwargs)


def read_json(path: str) -> Any:
    """The JSON value in ``path``, or ``None`` if the file is missing,
    unreadable or not valid UTF-8 JSON."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def remove_stale_temps(path: str, suffix: str = TEMP_SUFFIX) -> None:
    """Remove the :func:`hidden_temp_path` files of ``path`` (those named
    ``.<name>.*<suffix>`` in its folder) that a killed writer left;
    nothing else is touched. Files that cannot be removed are left."""
    folder, name = osp.split(osp.abspath(path))
    prefix = f'.{name}.'
    for entry in os.listdir(folder):
        if entry.startswith(prefix) and entry.endswith(suffix):
            try:
                os.remove(osp.join(folder, entry))
            except OSError:
                pass


class DirLock:
    """Inter-process lock made of the file ``path``, created with
    ``O_CREAT | O_EXCL`` and holding the owner's pid and host name.

    A lock left behind by a dead process (same host, pid gone) or not
    refreshed (:meth:`touch`) for ``stale_after`` seconds is broken by
    :meth:`break_if_stale`.

    Args:
        path (str): The lock file.
        stale_after (float): Seconds without :meth:`touch` after which the
            lock counts as abandoned.
        purpose (str): What the holder does, for the timeout message
            (``'... held by another process <purpose>'``).
    """

    def __init__(self, path: str, stale_after: float = 120.0,
                 purpose: str = 'holding it') -> None:
        self.path = path
        self.stale_after = stale_after
        self.purpose = purpose
        self.host = socket.gethostname()
        self.last_touch = 0.0

    def try_acquire(self) -> bool:
        """Create the lock file; False if it exists."""
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        with os.fdopen(fd, 'w') as f:
            json.dump(dict(pid=os.getpid(), host=self.host), f)
        self.last_touch = time.time()
        return True

    def acquire(self, timeout: float,
                done: Callable[[], bool] = lambda: False,
                poll: float = 0.1) -> bool:
        """Wait for the lock, breaking a stale one.

        Returns:
            bool: True once the lock is held; False (lock not taken) as
            soon as ``done()`` tells that the work the lock guards was
            finished by another process meanwhile.

        Raises:
            TimeoutError: After ``timeout`` seconds, naming the lock file.
        """
        deadline = time.time() + timeout
        while not self.try_acquire():
            if done():
                return False
            if time.time() > deadline:
                raise TimeoutError(
                    f'Timed out after {timeout:.0f}s waiting for the lock '
                    f'{self.path!r} held by another process {self.purpose}; '
                    'remove it if no process is running.')
            self.break_if_stale()
            time.sleep(poll)
        return True

    def touch(self, min_interval: float = 2.0) -> None:
        """Refresh the lock's modification time (at most every
        ``min_interval`` seconds), so that it does not look stale."""
        now = time.time()
        if now - self.last_touch >= min_interval:
            try:
                os.utime(self.path)
            except OSError:
                pass
            self.last_touch = now

    def release(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass

    def _owner_is_dead(self, owner: dict) -> bool:
        if owner.get('host') != self.host or 'pid' not in owner:
            return False
        try:
            os.kill(int(owner['pid']), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, OverflowError, ValueError):
            pass
        return False

    def break_if_stale(self) -> None:
        """Remove the lock if its owner (on this host) is dead or it was
        not refreshed for ``stale_after`` seconds."""
        try:
            age = time.time() - os.stat(self.path).st_mtime
        except FileNotFoundError:
            return
        owner = read_json(self.path)
        if not isinstance(owner, dict):
            owner = {}
        stale = age > self.stale_after or self._owner_is_dead(owner)
        # Do not break a lock that was only just created and is still
        # being written (no owner info yet).
        if stale and (owner or age > 5.0):
            # Rename first so that two waiters cannot both remove a fresh
            # lock created in between.
            grave = f'{self.path}.stale.{os.getpid()}'
            try:
                os.replace(self.path, grave)
                os.remove(grave)
            except OSError:
                pass
