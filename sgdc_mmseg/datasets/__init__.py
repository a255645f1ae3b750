"""Datasets registered in mmseg's DATASETS registry."""
from .lesion_folder import LesionFolderDataset
from .synthetic_lesion import (SyntheticLesionDataset,
                               generate_synthetic_lesions,
                               render_synthetic_lesion)

__all__ = [
    'LesionFolderDataset', 'SyntheticLesionDataset',
    'generate_synthetic_lesions', 'render_synthetic_lesion'
]
