"""Small helpers shared by the datasets, the split files and the
converters."""
from typing import Iterable

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
