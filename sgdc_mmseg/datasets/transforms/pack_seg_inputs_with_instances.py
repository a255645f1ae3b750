"""``PackSegInputsWithInstances``: mmseg's ``PackSegInputs`` that also packs
the instance map loaded by :class:`~.load_instances.LoadInstances`.

mmseg's ``PackSegInputs`` packs only ``gt_seg_map``, ``gt_edge_map`` and
``gt_depth_map`` into the ``SegDataSample`` and drops every other key of
the results. This subclass adds, when ``results['gt_instances_map']`` is
present, the data sample field :data:`INSTANCES_SAMPLE_KEY`
(``'instances'``): a ``PixelData`` whose ``data`` is a ``(1, H, W)``
``int32`` tensor of instance ids (0 = background) at the resolution the map
was loaded at (the original image size in the test pipelines). It also adds
``inst_path`` to the default ``meta_keys``. A sample without it gets no
``instances`` field.

A metric receives the data samples as dicts (mmengine's ``Evaluator`` calls
``to_dict()``), so it reads ``data_sample['instances']['data']`` (like
``data_sample['gt_sem_seg']['data']``); ``NucleiMetric`` does. With
mmseg 1.2.2's ``SegTTAModel`` (``--tta``), the merged data sample is the
last view's, so the field is kept there too.
"""
import numpy as np
from mmseg.registry import TRANSFORMS

from .load_instances import INSTANCES_RESULTS_KEY
from .pack_pixel_field import PackSegInputsWithPixelField

#: The field of the packed ``SegDataSample`` holding the instance ids.
INSTANCES_SAMPLE_KEY = 'instances'
#: mmseg's default meta keys plus ``inst_path``.
META_KEYS = ('img_path', 'seg_map_path', 'inst_path', 'ori_shape',
             'img_shape', 'pad_shape', 'scale_factor', 'flip',
             'flip_direction', 'reduce_zero_label')


@TRANSFORMS.register_module()
class PackSegInputsWithInstances(PackSegInputsWithPixelField):
    """Pack like ``PackSegInputs``, plus ``results['gt_instances_map']`` as
    the data sample's ``instances`` (see the module docstring).

    Args:
        meta_keys (Sequence[str]): Defaults to mmseg's plus ``inst_path``.
    """

    results_key = INSTANCES_RESULTS_KEY
    sample_key = INSTANCES_SAMPLE_KEY

    def __init__(self, meta_keys=META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)

    def as_array(self, value):
        return np.asarray(value, dtype=np.int32)
