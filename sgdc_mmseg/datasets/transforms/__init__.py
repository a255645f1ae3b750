"""Data transforms registered in mmseg's TRANSFORMS registry.

* :class:`LoadFOV` (:mod:`.load_fov`): loads a sample's field-of-view mask
  (``fov_path``, e.g. from :class:`~sgdc_mmseg.datasets.DRIVEVesselDataset`)
  into ``results['gt_fov']``;
* :class:`PackSegInputsWithFOV` (:mod:`.pack_seg_inputs_with_fov`): mmseg's
  ``PackSegInputs`` that also packs it as the data sample's ``fov``;
* :class:`LoadInstances` (:mod:`.load_instances`): loads a sample's
  instance-id map (``inst_path``, e.g. from
  :class:`~sgdc_mmseg.datasets.MoNuSegDataset`) into
  ``results['gt_instances_map']``;
* :class:`PackSegInputsWithInstances` (:mod:`.pack_seg_inputs_with_instances`):
  mmseg's ``PackSegInputs`` that also packs it as the data sample's
  ``instances``.

See ``docs/datasets.md``.
"""
from .load_fov import FOV_RESULTS_KEY, LoadFOV
from .pack_seg_inputs_with_fov import FOV_SAMPLE_KEY, PackSegInputsWithFOV
from .load_instances import INSTANCES_RESULTS_KEY, LoadInstances
from .pack_seg_inputs_with_instances import (INSTANCES_SAMPLE_KEY,
                                             PackSegInputsWithInstances)

__all__ = ['FOV_RESULTS_KEY', 'FOV_SAMPLE_KEY', 'LoadFOV',
           'PackSegInputsWithFOV', 'INSTANCES_RESULTS_KEY',
           'INSTANCES_SAMPLE_KEY', 'LoadInstances',
           'PackSegInputsWithInstances']
