"""CoNIC 2022 (Lizard) nuclear segmentation and classification, as semantic
segmentation, in the converted layout of ``tools/dataset_converters/conic.py``
(see ``docs/datasets.md``)::

    <data_root>/images/consep_1-0000.png      256x256 RGB patch
    <data_root>/masks/consep_1-0000.png       class ids 0..6
    <data_root>/instances/consep_1-0000.png   uint16 instance ids (not read)
    <data_root>/splits/all.txt                every patch
    <data_root>/splits/fold{i}_{train,val}.txt   grouped k-fold: all patches
                                                 of a source image share a fold
"""
from mmseg.registry import DATASETS

from .medical_folder import MedicalFolderDataset


@DATASETS.register_module()
class CoNICDataset(MedicalFolderDataset):
    """CoNIC nucleus-type segmentation: background and six nucleus types.

    Only ``images/`` and ``masks/`` are read; the ``instances/`` folder is
    kept by the converter for instance-level evaluation. Select a fold with
    ``ann_file``, e.g. ``'splits/fold0_train.txt'``. All arguments and
    checks are those of :class:`~sgdc_mmseg.datasets.MedicalFolderDataset`.
    """

    METAINFO = dict(
        classes=('background', 'neutrophil', 'epithelial', 'lymphocyte',
                 'plasma', 'eosinophil', 'connective'),
        palette=[[0, 0, 0], [255, 165, 0], [0, 200, 0], [220, 20, 60],
                 [0, 191, 255], [0, 0, 255], [255, 255, 0]])
