"""Datasets registered in mmseg's DATASETS registry."""
from .conic import CoNICDataset
from .drive import DRIVEVesselDataset
from .isic2016 import ISIC2016Dataset
from .isic2018 import ISIC2018Dataset
from .lesion_folder import LesionFolderDataset
from .medical_folder import MedicalFolderDataset
from .monuseg import MoNuSegDataset
from .ph2 import PH2Dataset
from .splits import (fold_splits, grouped_kfold, kfold, read_split_file,
                     write_split_files)
from .synthetic_lesion import (SyntheticLesionDataset,
                               generate_synthetic_lesions,
                               render_synthetic_lesion)
from .transforms import LoadFOV, PackSegInputsWithFOV
from .transforms import LoadInstances, PackSegInputsWithInstances

__all__ = [
    'CoNICDataset', 'ISIC2016Dataset', 'ISIC2018Dataset',
    'LesionFolderDataset', 'MedicalFolderDataset', 'PH2Dataset',
    'SyntheticLesionDataset', 'generate_synthetic_lesions',
    'render_synthetic_lesion', 'fold_splits', 'grouped_kfold', 'kfold',
    'read_split_file', 'write_split_files', 'DRIVEVesselDataset',
    'LoadFOV', 'PackSegInputsWithFOV', 'MoNuSegDataset', 'LoadInstances',
    'PackSegInputsWithInstances'
]
