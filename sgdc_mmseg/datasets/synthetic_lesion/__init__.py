"""Deterministic synthetic dermoscopy-like images for demos and smoke tests.

* :mod:`.render` -- one sample from ``(seed, split, index)``
  (:func:`render_synthetic_lesion`), pure, nothing on disk;
* :mod:`.generate` -- a whole data set on disk in the layout read by
  :class:`~sgdc_mmseg.datasets.LesionFolderDataset`, written once even when
  several processes ask for it (:func:`generate_synthetic_lesions`);
* :mod:`.dataset` -- :class:`SyntheticLesionDataset` (registered in mmseg's
  ``DATASETS``), which generates its data on first use.
"""
from .dataset import SyntheticLesionDataset
from .generate import (GENERATOR_VERSION, LOCK_NAME, MARKER_NAME, OWNER_NAME,
                       SPLITS, generate_synthetic_lesions, sample_name)
from .render import render_synthetic_lesion, sample_rng

__all__ = [
    'GENERATOR_VERSION', 'LOCK_NAME', 'MARKER_NAME', 'OWNER_NAME', 'SPLITS',
    'SyntheticLesionDataset', 'generate_synthetic_lesions',
    'render_synthetic_lesion', 'sample_name', 'sample_rng'
]
