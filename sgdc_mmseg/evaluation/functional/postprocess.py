"""Connected-component post-processing of label maps (pure numpy/scipy).

The operations nnU-Net chooses on cross-validation, per foreground class:

* :func:`keep_largest_component`: keep only the largest connected component
  of a binary mask (one lesion per image);
* :func:`remove_small_components`: drop every component with fewer than
  ``min_size`` pixels.

Components are found with ``scipy.ndimage.label``; ``connectivity`` is 1
(4-neighbours) or 2 (8-neighbours, the default, as scikit-image's ``label``
and :func:`~sgdc_mmseg.evaluation.functional.label_components`). When two
components tie for the largest, the one found first in row-major order
(the lower label) is kept.

:func:`apply_postprocessing` applies a post-processing *spec* (what
:func:`sgdc_mmseg.evaluation.postprocessing.choose_postprocessing` returns)
to a label map: for every class listed with an operation, the pixels of that
class that the operation removes become background (class 0); other
classes are never touched. The input is not modified.
"""
from typing import Tuple

import numpy as np

#: Operation names of a spec's ``per_class`` entries.
OP_KEEP_LARGEST = 'keep_largest_component'
OP_REMOVE_SMALL = 'remove_small_components'
OPERATIONS = (OP_KEEP_LARGEST, OP_REMOVE_SMALL)
#: Label of the pixels an operation removes.
BACKGROUND = 0


def connected_components(mask: np.ndarray,
                         connectivity: int = 2) -> Tuple[np.ndarray,
                                                         np.ndarray]:
    """``(labels, sizes)``: component ids ``1..K`` (0 = outside) and the
    pixel count of each id (``sizes[0]`` is 0)."""
    from scipy import ndimage
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'post-processing needs a 2-D mask, got shape '
                         f'{mask.shape}')
    if connectivity not in (1, 2):
        raise ValueError(f'connectivity must be 1 or 2, got {connectivity!r}')
    structure = ndimage.generate_binary_structure(2, connectivity)
    labels, count = ndimage.label(mask != 0, structure=structure)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    return labels, sizes


def keep_largest_component(mask: np.ndarray,
                           connectivity: int = 2) -> np.ndarray:
    """The largest connected component of ``mask`` (nonzero = foreground)
    as a boolean mask; an empty mask stays empty."""
    labels, sizes = connected_components(mask, connectivity)
    if sizes.sum() == 0:
        return np.zeros(labels.shape, dtype=bool)
    return labels == int(np.argmax(sizes))


def remove_small_components(mask: np.ndarray, min_size: int,
                            connectivity: int = 2) -> np.ndarray:
    """``mask`` (nonzero = foreground) without the connected components of
    fewer than ``min_size`` pixels, as a boolean mask."""
    if isinstance(min_size, bool) or not isinstance(
            min_size, (int, np.integer)) or min_size < 1:
        raise ValueError(f'min_size must be an int >= 1, got {min_size!r}')
    labels, sizes = connected_components(mask, connectivity)
    return (sizes >= int(min_size))[labels] & (labels > 0)


def apply_operation(mask: np.ndarray, operation: dict,
                    connectivity: int = 2) -> np.ndarray:
    """The pixels of ``mask`` that ``operation`` keeps (boolean):
    ``{'operation': 'keep_largest_component'}`` or ``{'operation':
    'remove_small_components', 'min_size': N}``."""
    name = operation.get('operation', None)
    if name == OP_KEEP_LARGEST:
        return keep_largest_component(mask, connectivity)
    if name == OP_REMOVE_SMALL:
        return remove_small_components(mask, operation.get('min_size'),
                                       connectivity)
    raise ValueError(f'unknown post-processing operation {name!r}; expected '
                     f'one of {", ".join(OPERATIONS)}')


def apply_postprocessing(label_map: np.ndarray, spec) -> np.ndarray:
    """``label_map`` (``HxW`` class ids) post-processed by ``spec``.

    ``spec`` is a dict with ``per_class`` (``{class id (int or its text):
    {'operation': name or None, 'min_size': N or None, ...}}``) and
    optionally ``connectivity`` (default 2); ``None`` returns a copy. For
    every class with an operation, its pixels outside what the operation
    keeps become class 0. Returns a new array of the input's dtype.
    """
    out = np.array(label_map, copy=True)
    if spec is None:
        return out
    if out.ndim != 2:
        raise ValueError(f'apply_postprocessing needs an HxW label map, got '
                         f'shape {out.shape}')
    connectivity = int(spec.get('connectivity', 2))
    for key, entry in sorted((spec.get('per_class', None) or {}).items(),
                             key=lambda kv: int(kv[0])):
        if not entry or entry.get('operation', None) is None:
            continue
        class_id = int(key)
        if class_id == BACKGROUND:
            raise ValueError('post-processing of class 0 (background) is not '
                             'supported: removed pixels become class 0')
        mask = label_map == class_id
        if not mask.any():
            continue
        keep = apply_operation(mask, entry, connectivity)
        out[mask & ~keep] = BACKGROUND
    return out


__all__ = [
    'BACKGROUND', 'OPERATIONS', 'OP_KEEP_LARGEST', 'OP_REMOVE_SMALL',
    'apply_operation', 'apply_postprocessing', 'connected_components',
    'keep_largest_component',
    'remove_small_components'
]
