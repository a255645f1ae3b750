"""``PackSegInputsWithPixelField``: the shared mechanism of the packing
transforms that carry one more per-pixel map into the ``SegDataSample``.

mmseg's ``PackSegInputs`` packs only ``gt_seg_map``, ``gt_edge_map`` and
``gt_depth_map`` and drops every other key of the results. A subclass names
the results key it reads (:attr:`results_key`), the data sample field it
writes (:attr:`sample_key`) and how the map becomes a ``(H, W)`` array
(:meth:`as_array`); the field is a ``PixelData`` whose ``data`` is that
array as a ``(1, H, W)`` tensor. A sample without the results key gets no
field. Not registered: it is a base class only.
"""
import numpy as np
from mmcv.transforms import to_tensor
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs


class PackSegInputsWithPixelField(PackSegInputs):
    """``PackSegInputs`` plus ``results[results_key]`` as the data sample's
    ``sample_key`` field (see the module docstring)."""

    results_key = None
    sample_key = None

    def as_array(self, value):
        """The map as a ``(H, W)`` numpy array of the packed dtype."""
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        value = results.get(self.results_key)
        if value is not None:
            data = to_tensor(np.ascontiguousarray(self.as_array(value)[None]))
            packed['data_samples'].set_data(
                {self.sample_key: PixelData(data=data)})
        return packed
