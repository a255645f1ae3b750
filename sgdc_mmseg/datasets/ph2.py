"""PH2 dermoscopy database (200 cases), in the converted layout of
``tools/dataset_converters/ph2.py`` (see ``docs/datasets.md``)::

    <data_root>/images/IMD002.png         lossless copy of the BMP image
    <data_root>/masks/IMD002.png          0 = background, 1 = lesion
    <data_root>/splits/all.txt            every case: the external test set
    <data_root>/splits/fold{i}_{train,val}.txt   only with --folds K
"""
from mmseg.registry import DATASETS

from .medical_folder import MedicalFolderDataset


@DATASETS.register_module()
class PH2Dataset(MedicalFolderDataset):
    """PH2 skin lesion segmentation (background / lesion).

    Mostly used as an external test set for models trained on ISIC
    (``ann_file='splits/all.txt'``). All arguments and checks are those of
    :class:`~sgdc_mmseg.datasets.MedicalFolderDataset`.
    """

    METAINFO = dict(
        classes=('background', 'lesion'),
        palette=[[0, 0, 0], [255, 0, 0]])
