"""MoNuSeg 2018 nuclei (background / nucleus), in the converted layout of
``tools/dataset_converters/monuseg.py`` (see ``docs/datasets.md``)::

    <data_root>/images/<TCGA id>.png      1000x1000 RGB H&E tile
    <data_root>/masks/<TCGA id>.png       0 background, 1 nucleus
    <data_root>/instances/<TCGA id>.png   uint16 instance ids (0 = background),
                                          only for tiles annotated in XML
    <data_root>/splits/{train,test}.txt   official splits (those converted)
    <data_root>/splits/fold{i}_{train,val}.txt   k-fold of the training tiles

mmseg registers no MoNuSeg dataset; this one is ``MoNuSegDataset``.
"""
import os.path as osp
from typing import List, Optional

from mmseg.registry import DATASETS

from .medical_folder import MedicalFolderDataset

#: The default folders, relative to ``data_root``.
DEFAULT_PREFIX = dict(img_path='images', seg_map_path='masks',
                      inst_path='instances')


@DATASETS.register_module()
class MoNuSegDataset(MedicalFolderDataset):
    """MoNuSeg nuclei as two-class semantic segmentation, with the
    ground-truth instances where the converter wrote them.

    A sample's data info holds ``inst_path`` when the instance map of the
    same name (``<name>.png``) exists in ``data_prefix['inst_path']``
    (default ``'instances'``); tiles converted from a binary mask have none
    (a missing ``instances`` folder means none for every tile). Load it with
    the ``LoadInstances`` transform and pack it with
    ``PackSegInputsWithInstances`` so that a metric finds it as the data
    sample's ``instances`` (see ``docs/datasets.md``). A ``data_prefix``
    without ``inst_path`` (or with an empty one) lists no instances.

    :attr:`num_with_instances` counts the samples that have one. All other
    arguments and checks are those of
    :class:`~sgdc_mmseg.datasets.MedicalFolderDataset`.
    """

    METAINFO = dict(
        classes=('background', 'nucleus'),
        palette=[[0, 0, 0], [0, 200, 0]])

    def __init__(self, data_prefix: Optional[dict] = None, **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(DEFAULT_PREFIX)
        # Decided before BaseDataset joins '' with data_root into a folder.
        self.with_instances = bool(data_prefix.get('inst_path'))
        self.num_with_instances = 0
        super().__init__(data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """The samples of :class:`MedicalFolderDataset`, each with the
        ``inst_path`` of the same name when that file exists."""
        data_list = super().load_data_list()
        self.num_with_instances = 0
        if not self.with_instances:
            return data_list
        img_dir = self.data_prefix['img_path']
        inst_dir = self.data_prefix['inst_path']
        if not osp.isdir(inst_dir):
            return data_list
        found = self._list_names(inst_dir, ('.png', ), 'instance map')
        for info in data_list:
            rel = osp.relpath(info['img_path'], img_dir)
            suffix = max((s for s in self.img_suffixes if rel.endswith(s)),
                         key=len)
            name = rel[:len(rel) - len(suffix)]
            if name in found:
                info['inst_path'] = osp.join(inst_dir, found[name])
                self.num_with_instances += 1
        return data_list
