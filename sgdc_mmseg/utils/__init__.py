"""Small helpers shared by every part of the package.

:mod:`.fileio`: atomic file writes, JSON records and a folder lock. This
package imports nothing from the rest of ``sgdc_mmseg`` nor from
mmengine/mmseg, so that any module (also :mod:`sgdc_mmseg.compat`, which
runs before mmseg is imported) may use it.
"""
from .fileio import (DirLock, atomic_write, atomic_write_json,
                     atomic_write_text, fsync_folder, hidden_temp_path,
                     json_text, pid_temp_path, read_json, remove_stale_temps)

__all__ = [
    'DirLock', 'atomic_write', 'atomic_write_json', 'atomic_write_text',
    'fsync_folder', 'hidden_temp_path', 'json_text', 'pid_temp_path',
    'read_json', 'remove_stale_temps'
]
