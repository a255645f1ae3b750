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
Under ``--tta``, mmseg 1.2.2's ``SegTTAModel.merge_preds`` returns the last
view's data sample (with the merged prediction), so its ``fov`` is kept;
the DRIVE TTA pipeline loads the FOV after the flips, like the ground
truth, so it is not flipped.
"""
import numpy as np
from mmseg.registry import TRANSFORMS

from .load_fov import FOV_RESULTS_KEY
from .pack_pixel_field import PackSegInputsWithPixelField

#: The field of the packed ``SegDataSample`` holding the FOV.
FOV_SAMPLE_KEY = 'fov'
#: mmseg's default meta keys plus ``fov_path``.
META_KEYS = ('img_path', 'seg_map_path', 'fov_path', 'ori_shape',
             'img_shape', 'pad_shape', 'scale_factor', 'flip',
             'flip_direction', 'reduce_zero_label')


@TRANSFORMS.register_module()
class PackSegInputsWithFOV(PackSegInputsWithPixelField):
    """Pack like ``PackSegInputs``, plus ``results['gt_fov']`` as the data
    sample's ``fov`` (see the module docstring).

    Args:
        meta_keys (Sequence[str]): Defaults to mmseg's plus ``fov_path``.
    """

    results_key = FOV_RESULTS_KEY
    sample_key = FOV_SAMPLE_KEY

    def __init__(self, meta_keys=META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)

    def as_array(self, value):
        return np.asarray(value) != 0
