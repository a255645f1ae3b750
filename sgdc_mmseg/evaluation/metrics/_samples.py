"""Reading pixel fields of the data samples a metric receives.

mmengine's ``Evaluator.process`` hands metrics ``SegDataSample.to_dict()``:
a ``PixelData`` field (``pred_sem_seg``, ``gt_sem_seg``, ``seg_logits``, or
one a transform packed, e.g. ``fov``) becomes ``{'data': tensor [C, H, W]}``
(plus its metainfo). Metrics called directly may get the ``PixelData`` or a
bare tensor / array. :func:`pixel_field` accepts all of them.
"""
import os.path as osp
from typing import Optional

import numpy as np
from mmengine.structures import BaseDataElement


def to_numpy(value) -> np.ndarray:
    """A tensor, ``PixelData``, ``{'data': ...}`` dict or array as numpy."""
    if isinstance(value, dict):
        if 'data' not in value:
            raise KeyError(f'pixel field has no "data" (keys {sorted(value)})')
        value = value['data']
    elif isinstance(value, BaseDataElement):
        value = value.data  # PixelData
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def pixel_field(sample: dict, key: str, metric: str,
                required: bool = True, channels: bool = False,
                hint: str = '') -> Optional[np.ndarray]:
    """``sample[key]`` as numpy: ``[H, W]`` (a leading channel axis of 1 is
    dropped) or, with ``channels``, ``[C, H, W]``.

    Raises:
        KeyError: ``required`` and the key is absent (naming the metric, the
            image and ``hint``).
        ValueError: the field is not 2-D (3-D with ``channels``).
    """
    if key not in sample or sample[key] is None:
        if not required:
            return None
        raise KeyError(f'{metric}: sample {image_path(sample)!r} has no '
                       f'{key!r}' + (f'; {hint}' if hint else ''))
    array = to_numpy(sample[key])
    if channels:
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3:
            raise ValueError(f'{metric}: {key!r} of {image_path(sample)!r} '
                             f'must be [C, H, W], got shape {array.shape}')
        return array
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f'{metric}: {key!r} of {image_path(sample)!r} must '
                         f'be one 2-D map, got shape {array.shape}')
    return array


def image_path(sample: dict):
    """The sample's ``img_path`` (None when absent)."""
    return sample.get('img_path', None)


def image_name(path, index: int) -> str:
    """File stem of ``path``, or the index when there is no path."""
    return osp.splitext(osp.basename(path))[0] if path else str(index)


def check_same_shape(metric: str, sample: dict, **arrays) -> None:
    """``ValueError`` naming the image when the 2-D maps differ in size."""
    shapes = {k: tuple(v.shape[-2:]) for k, v in arrays.items()
              if v is not None}
    if len(set(shapes.values())) > 1:
        raise ValueError(f'{metric}: the maps of {image_path(sample)!r} '
                         'differ in size: ' + ', '.join(
                             f'{k} {s}' for k, s in shapes.items()))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function, float64."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def softmax(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Softmax along ``axis``, float64."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
