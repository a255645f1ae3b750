"""Small helpers shared by the datasets, the split files and the
converters."""
from typing import Iterable

from ..utils.fileio import atomic_write, pid_temp_path

#: Ending of the temporary files of :func:`write_atomically`.
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


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` with
    :func:`sgdc_mmseg.utils.fileio.atomic_write` through the temporary file
    ``<path>.<pid>.partial`` (one name per worker process; the converters
    remove such leftovers of a killed run), so that ``path`` is either
    absent, the old file or the complete new one. A symbolic link at
    ``path`` is replaced, never written through."""
    atomic_write(path, data, temp_path=pid_temp_path(path, TMP_SUFFIX))
