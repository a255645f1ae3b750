"""``LoadInstances``: load a nuclei instance map into the pipeline's results.

Instance scores (AJI, PQ) need the ground-truth nuclei as separate
instances; a binary mask merges touching nuclei. The MoNuSeg converter
writes them as ``instances/<name>.png`` (``uint16``, 0 = background, one id
per nucleus) for the tiles annotated in XML, and
:class:`~sgdc_mmseg.datasets.MoNuSegDataset` puts the path into the data
info's ``inst_path`` when that file exists.

:class:`LoadInstances` reads ``results['inst_path']`` into
``results['gt_instances_map']`` (:data:`INSTANCES_RESULTS_KEY`), an
``int32`` ``H x W`` array, and appends that key to ``results['seg_fields']``,
so mmseg's geometric transforms (``Resize``, ``RandomCrop``, ``RandomFlip``,
...) move it with the ground truth (nearest-neighbour resizing keeps the
ids). Put it next to ``LoadAnnotations``: in the test pipelines after
``Resize``, so both keep the original resolution. Pack it with
:class:`~.pack_seg_inputs_with_instances.PackSegInputsWithInstances`.

A sample without ``inst_path`` (a tile converted from a binary mask) gets
no ``gt_instances_map`` (the nuclei metric then takes the connected
components of the mask and says so), unless ``allow_missing=False``.

Checks, each error naming the file: a file that cannot be read or decoded
(``OSError``); not a single-channel 8- or 16-bit map, a size other than the
image's original size, or (when the ground truth was loaded before, at the
same size) an instance foreground that differs from the mask's foreground,
ignoring ``ignore_index`` pixels (``ValueError``).
"""
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS

#: Where :class:`LoadInstances` puts the map in the pipeline's results.
INSTANCES_RESULTS_KEY = 'gt_instances_map'


def decode_instances(data: bytes, path: str) -> np.ndarray:
    """Decode an instance-id PNG (8 or 16 bit, one channel) into an
    ``int32`` ``H x W`` array.

    Raises:
        OSError: If the bytes are not an image OpenCV can decode.
        ValueError: If the image is not a single-channel 8/16-bit map.
    """
    import cv2
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise OSError(f'LoadInstances: cannot decode the instance map '
                      f'{path!r} (corrupt, or not an image?).')
    if arr.ndim != 2 or arr.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f'LoadInstances: instance map {path!r} is {arr.dtype} of shape '
            f'{arr.shape}; expected a single-channel 8- or 16-bit (H, W) '
            'image of instance ids (0 = background).')
    return arr.astype(np.int32)


@TRANSFORMS.register_module()
class LoadInstances(BaseTransform):
    """Load the instance-id map of ``results['inst_path']``.

    Required keys: ``inst_path`` (optional with ``allow_missing``). Added
    keys: ``gt_instances_map`` (``int32``, 0 = background); ``seg_fields``
    gets ``'gt_instances_map'``.

    Args:
        allow_missing (bool): A sample without ``inst_path`` passes
            unchanged (True, the default) or raises a ``KeyError`` naming
            its image (False).
        ignore_index (int): Ground-truth value left out of the foreground
            check. Defaults to 255.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self, allow_missing: bool = True, ignore_index: int = 255,
                 backend_args=None) -> None:
        self.allow_missing = allow_missing
        self.ignore_index = ignore_index
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results.get('inst_path')
        if not path:
            if self.allow_missing:
                return results
            raise KeyError(
                'LoadInstances: the sample has no inst_path (image '
                f'{results.get("img_path")!r}); convert it from XML '
                'annotations, or pass allow_missing=True.')
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except Exception as e:  # the backends raise various types
            raise OSError(f'LoadInstances: cannot read the instance map '
                          f'{path!r}: {e}') from e
        inst = decode_instances(data, path)
        self._check(inst, path, results)
        results[INSTANCES_RESULTS_KEY] = inst
        fields = results.setdefault('seg_fields', [])
        if INSTANCES_RESULTS_KEY not in fields:
            fields.append(INSTANCES_RESULTS_KEY)
        return results

    def _check(self, inst: np.ndarray, path: str, results: dict) -> None:
        ori_shape = results.get('ori_shape')
        if ori_shape is not None and tuple(inst.shape) != tuple(
                ori_shape[:2]):
            raise ValueError(
                f'LoadInstances: instance map {path!r} is {inst.shape[0]}x'
                f'{inst.shape[1]} (H x W) but image '
                f'{results.get("img_path")!r} is {ori_shape[0]}x'
                f'{ori_shape[1]}; it must have the size of its image.')
        gt = results.get('gt_seg_map')
        if gt is None or tuple(gt.shape) != tuple(inst.shape):
            return
        valid = gt != self.ignore_index
        bad = ((inst > 0) != (gt != 0)) & valid
        if bad.any():
            raise ValueError(
                f'LoadInstances: instance map {path!r} and mask '
                f'{results.get("seg_map_path")!r} disagree on the '
                f'foreground in {int(bad.sum())} pixel(s) (an instance id '
                'where the mask is background, or background where it is '
                'not); they must come from the same annotation.')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(allow_missing={self.allow_missing}, '
                f'ignore_index={self.ignore_index}, '
                f'backend_args={self.backend_args})')
