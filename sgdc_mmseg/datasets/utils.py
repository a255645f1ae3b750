"""Small helpers shared by the datasets, the split files and the
converters."""
import os
import os.path as osp
from typing import Iterable

#: Suffix of the temporary files of :func:`atomic_write`.
TMP_SUFFIX = '.partial'

# How many names an error message shows before summarising.
MAX_LISTED = 10


def format_names(names: Iterable[str],
                 limit: int = MAX_LISTED,
                 sort: bool = True,
                 sep: str = ', ') -> str:
    """``'a, b, c, ... (N more)'``: at most ``limit`` names (sorted unless
    ``sort=False``) for an error message."""
    names = sorted(names) if sort else list(names)
    shown = sep.join(names[:limit])
    if len(names) > limit:
        shown += f'{sep}... ({len(names) - limit} more)'
    return shown


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same
    folder (``<path>.<pid>.partial``) renamed into place with
    :func:`os.replace`, so that ``path`` is either absent, the old file or
    the complete new one, even if the process is killed. A symbolic link at
    ``path`` is replaced, never written through."""
    tmp = f'{path}.{os.getpid()}{TMP_SUFFIX}'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)
