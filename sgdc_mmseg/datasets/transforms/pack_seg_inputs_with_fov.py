"""``PackSegInputsWithFOV``: mmseg's ``PackSegInputs`` that also packs the
field-of-view mask loaded by :class:`~.load_fov.LoadFOV`.

mmseg's ``PackSegInputs`` packs only ``gt_seg_map``, ``gt_edge_map`` and
``gt_depth_map`` into the ``SegDataSample`` and drops every other key of
the results. This subclass adds, when ``results['gt_fov']`` is present, the
data sample field :data:`FOV_SAMPLE_KEY` (``'fov'``): a ``PixelData`` whose
``data`` is a ``(1, H, W)`` bool tensor, True inside the field of view, at
the resolution the FOV was loaded at (the original image size in the test
pipelines). It also adds ``fov_path`` to the default ``meta_keys``.

A metric receives the data samples as dicts (mmengine's ``Evaluator`` calls
``to_dict()``), so it reads ``data_sample['fov']['data']`` (like
``data_sample['gt_sem_seg']['data']``) and ``data_sample['fov_path']``.
mmseg's ``SegTTAModel`` (``--tta``) builds new data samples holding only the
prediction, the ground truth and the metainfo: there, ``fov`` is gone but
``fov_path`` is kept, so a metric can load the mask from it.
"""
import numpy as np
from mmcv.transforms import to_tensor
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from .load_fov import FOV_RESULTS_KEY

#: The field of the packed ``SegDataSample`` holding the FOV.
FOV_SAMPLE_KEY = 'fov'
#: mmseg's default meta keys plus ``fov_path``.
META_KEYS = ('img_path', 'seg_map_path', 'fov_path', 'ori_shape',
             'img_shape', 'pad_shape', 'scale_factor', 'flip',
             'flip_direction', 'reduce_zero_label')


@TRANSFORMS.register_module()
class PackSegInputsWithFOV(PackSegInputs):
    """Pack like ``PackSegInputs``, plus ``results['gt_fov']`` as the data
    sample's ``fov`` (see the module docstring).

    Args:
        meta_keys (Sequence[str]): Defaults to mmseg's plus ``fov_path``.
    """

    def __init__(self, meta_keys=META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        fov = results.get(FOV_RESULTS_KEY)
        if fov is not None:
            data = to_tensor(np.ascontiguousarray(np.asarray(fov)[None] != 0))
            packed['data_samples'].set_data(
                {FOV_SAMPLE_KEY: PixelData(data=data)})
        return packed
