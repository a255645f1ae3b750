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

from .instances import label_components

#: Operation names of a spec's ``per_class`` entries.
OP_KEEP_LARGEST = 'keep_largest_component'
OP_REMOVE_SMALL = 'remove_small_components'
OPERATIONS = (OP_KEEP_LARGEST, OP_REMOVE_SMALL)
#: Label of the pixels an operation removes.
BACKGROUND = 0


def connected_components(mask: np.ndarray,
                         connectivity: int = 2) -> Tuple[np.ndarray,
                                                         np.ndarray]:
    """``(labels, sizes)``: component ids ``1..K`` (0 = outside; from
    :func:`~sgdc_mmseg.evaluation.functional.label_components`) and the
    pixel count of each id (``sizes[0]`` is 0)."""
    labels = label_components(mask, connectivity)
    sizes = np.bincount(labels.ravel(), minlength=int(labels.max()) + 1)
    sizes[0] = 0
    return labels, sizes


def check_min_size(min_size) -> int:
    """``min_size`` as an int, or ``ValueError`` unless it is an int >= 1."""
    if isinstance(min_size, bool) or not isinstance(
            min_size, (int, np.integer)) or min_size < 1:
        raise ValueError(f'min_size must be an int >= 1, got {min_size!r}')
    return int(min_size)


def kept_components(labels: np.ndarray, sizes: np.ndarray,
                    operation: dict) -> np.ndarray:
    """The pixels ``operation`` keeps (boolean), given the components of a
    mask (:func:`connected_components`), so several operations can share
    one labelling: ``{'operation': 'keep_largest_component'}`` or
    ``{'operation': 'remove_small_components', 'min_size': N}``."""
    name = operation.get('operation', None)
    if name == OP_KEEP_LARGEST:
        if sizes.sum() == 0:
            return np.zeros(labels.shape, dtype=bool)
        return labels == int(np.argmax(sizes))
    if name == OP_REMOVE_SMALL:
        min_size = check_min_size(operation.get('min_size'))
        return (sizes >= min_size)[labels] & (labels > 0)
    raise ValueError(f'unknown post-processing operation {name!r}; expected '
                     f'one of {", ".join(OPERATIONS)}')


def keep_largest_component(mask: np.ndarray,
                           connectivity: int = 2) -> np.ndarray:
    """The largest connected component of ``mask`` (nonzero = foreground)
    as a boolean mask; an empty mask stays empty."""
    return apply_operation(mask, dict(operation=OP_KEEP_LARGEST),
                           connectivity)


def remove_small_components(mask: np.ndarray, min_size: int,
                            connectivity: int = 2) -> np.ndarray:
    """``mask`` (nonzero = foreground) without the connected components of
    fewer than ``min_size`` pixels, as a boolean mask."""
    check_min_size(min_size)
    return apply_operation(
        mask, dict(operation=OP_REMOVE_SMALL, min_size=min_size),
        connectivity)


def apply_operation(mask: np.ndarray, operation: dict,
                    connectivity: int = 2) -> np.ndarray:
    """The pixels of ``mask`` that ``operation`` keeps (boolean):
    ``{'operation': 'keep_largest_component'}`` or ``{'operation':
    'remove_small_components', 'min_size': N}``."""
    if operation.get('operation', None) not in OPERATIONS:
        raise ValueError(f'unknown post-processing operation '
                         f'{operation.get("operation", None)!r}; expected '
                         f'one of {", ".join(OPERATIONS)}')
    return kept_components(*connected_components(mask, connectivity),
                           operation)


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
    'apply_operation', 'apply_postprocessing', 'check_min_size',
    'connected_components', 'keep_largest_component', 'kept_components',
    'remove_small_components'
]
