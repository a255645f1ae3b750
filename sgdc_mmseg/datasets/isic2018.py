"""ISIC 2018 Challenge, Task 1 (lesion boundary segmentation), in the
converted layout of ``tools/dataset_converters/isic2018.py`` (see
``docs/datasets.md``)::

    <data_root>/images/ISIC_0000000.jpg   (or .png when converted with --size)
    <data_root>/masks/ISIC_0000000.png    0 = background, 1 = lesion
    <data_root>/splits/train.txt          official training set (2594)
    <data_root>/splits/val.txt            official validation set (100)
    <data_root>/splits/test.txt           official test set (1000)
    <data_root>/splits/fold{i}_{train,val}.txt   k-fold over train.txt
"""
from mmseg.registry import DATASETS

from .medical_folder import MedicalFolderDataset


@DATASETS.register_module()
class ISIC2018Dataset(MedicalFolderDataset):
    """ISIC 2018 skin lesion segmentation (background / lesion).

    Reads ``images/`` + ``masks/`` under ``data_root`` (``.png`` or ``.jpg``
    images); select a split with ``ann_file``, e.g.
    ``'splits/val.txt'`` or ``'splits/fold0_train.txt'``. All arguments and
    checks are those of :class:`~sgdc_mmseg.datasets.MedicalFolderDataset`.
    """

    METAINFO = dict(
        classes=('background', 'lesion'),
        palette=[[0, 0, 0], [255, 0, 0]])
