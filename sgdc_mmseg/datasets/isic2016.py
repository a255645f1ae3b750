"""ISIC 2016 Challenge, Part 1 (lesion segmentation), in the converted
layout of ``tools/dataset_converters/isic2016.py`` (see
``docs/datasets.md``)::

    <data_root>/images/ISIC_0000000.jpg   (or .png when converted with --size)
    <data_root>/masks/ISIC_0000000.png    0 = background, 1 = lesion
    <data_root>/splits/train.txt          official training set (900)
    <data_root>/splits/test.txt           official test set (379)
"""
from mmseg.registry import DATASETS

from .medical_folder import MedicalFolderDataset


@DATASETS.register_module()
class ISIC2016Dataset(MedicalFolderDataset):
    """ISIC 2016 skin lesion segmentation (background / lesion).

    Reads ``images/`` + ``masks/`` under ``data_root`` (``.png`` or ``.jpg``
    images); pass ``ann_file='splits/train.txt'`` or
    ``'splits/test.txt'`` to select a split. All arguments and checks are
    those of :class:`~sgdc_mmseg.datasets.MedicalFolderDataset`.
    """

    METAINFO = dict(
        classes=('background', 'lesion'),
        palette=[[0, 0, 0], [255, 0, 0]])
