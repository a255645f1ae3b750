"""``LoadFOV``: load a field-of-view mask into the pipeline's results.

Retinal images (DRIVE) are scored inside the field of view (FOV) only, the
round region of the fundus camera. The converted datasets keep it as a 0/1
PNG beside the image (``fov/<name>.png``, see ``docs/datasets.md``) and the
dataset puts its path into each sample's ``fov_path``.

:class:`LoadFOV` reads ``results['fov_path']`` into
``results['gt_fov']`` (:data:`FOV_RESULTS_KEY`), a ``uint8`` ``H x W``
array of 0 (outside) and 1 (inside), and appends that key to
``results['seg_fields']``, so mmseg's geometric transforms (``Resize``,
``RandomResize``, ``RandomCrop``, ``RandomFlip``, ...) treat it like the
ground truth (nearest-neighbour resizing). Put it where the ground truth is
loaded: in mmseg's test pipelines ``LoadAnnotations`` comes *after*
``Resize``, so the ground truth and the FOV keep the original resolution.

Errors name the file: a missing ``fov_path`` (``KeyError``), a file that
cannot be read or decoded (``OSError``), a mask that is not single-channel
0/1, or whose size differs from the image's original size (``ValueError``).
"""
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS

#: Where :class:`LoadFOV` puts the mask in the pipeline's results.
FOV_RESULTS_KEY = 'gt_fov'


def decode_fov(data: bytes, path: str) -> np.ndarray:
    """Decode a 0/1 field-of-view PNG into a ``uint8`` ``H x W`` array.

    Raises:
        OSError: If the bytes are not an image OpenCV can decode.
        ValueError: If the image is not single-channel 0/1.
    """
    import cv2
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise OSError(f'LoadFOV: cannot decode the field-of-view mask '
                      f'{path!r} (corrupt, or not an image?).')
    if arr.ndim != 2:
        raise ValueError(
            f'LoadFOV: field-of-view mask {path!r} has shape {arr.shape}; '
            'expected a single-channel (H, W) image of 0 and 1.')
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        values = ', '.join(str(v) for v in np.unique(arr[bad])[:8])
        raise ValueError(
            f'LoadFOV: field-of-view mask {path!r} holds value(s) {values}; '
            'expected only 0 (outside) and 1 (inside the field of view).'
            + (' Convert 0/255 masks to 0/1 first.' if 255 in arr else ''))
    return arr.astype(np.uint8)


@TRANSFORMS.register_module()
class LoadFOV(BaseTransform):
    """Load the field-of-view mask of ``results['fov_path']``.

    Required keys: ``fov_path``. Added keys: ``gt_fov`` (``uint8``, 0/1);
    ``seg_fields`` gets ``'gt_fov'``.

    Args:
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self, backend_args=None) -> None:
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results.get('fov_path')
        if not path:
            raise KeyError(
                'LoadFOV: the sample has no fov_path (image '
                f'{results.get("img_path")!r}); use a dataset that provides '
                'it, e.g. DRIVEVesselDataset with '
                "data_prefix=dict(..., fov_path='fov').")
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except Exception as e:  # the backends raise various types
            raise OSError(f'LoadFOV: cannot read the field-of-view mask '
                          f'{path!r}: {e}') from e
        fov = decode_fov(data, path)
        ori_shape = results.get('ori_shape')
        if ori_shape is not None and tuple(fov.shape) != tuple(
                ori_shape[:2]):
            raise ValueError(
                f'LoadFOV: field-of-view mask {path!r} is {fov.shape[0]}x'
                f'{fov.shape[1]} (H x W) but image '
                f'{results.get("img_path")!r} is {ori_shape[0]}x'
                f'{ori_shape[1]}; it must have the size of its image.')
        results[FOV_RESULTS_KEY] = fov
        fields = results.setdefault('seg_fields', [])
        if FOV_RESULTS_KEY not in fields:
            fields.append(FOV_RESULTS_KEY)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(backend_args={self.backend_args})'
