"""DRIVE retinal vessel segmentation, in the converted layout of
``tools/dataset_converters/drive.py`` (see ``docs/datasets.md``)::

    <data_root>/images/21_training.png   565x584 RGB fundus image
    <data_root>/masks/21_training.png    0 background, 1 vessel,
                                         255 outside the field of view
    <data_root>/fov/21_training.png      1 inside the field of view, 0 outside
    <data_root>/masks_2nd/01_test.png    second observer (test split only)
    <data_root>/splits/{train,test}.txt  official splits
    <data_root>/splits/fold{i}_{train,val}.txt   k-fold of the training images

Registered as ``DRIVEVesselDataset``: mmseg registers its own
``DRIVEDataset`` (mmseg's converted layout: ``images/<split>/*.png`` with
``annotations/<split>/*_manual1.png``, no field of view), which this does
not replace.
"""
import os.path as osp
from typing import List, Optional

from mmseg.registry import DATASETS

from .medical_folder import MedicalFolderDataset
from .utils import format_names

#: The default folders, relative to ``data_root``.
DEFAULT_PREFIX = dict(img_path='images', seg_map_path='masks', fov_path='fov')


@DATASETS.register_module()
class DRIVEVesselDataset(MedicalFolderDataset):
    """DRIVE vessels (background / vessel) with the field of view.

    Every sample's data info holds ``fov_path``, the field-of-view mask of
    the same name in ``data_prefix['fov_path']`` (default ``'fov'``); load
    it with the ``LoadFOV`` transform and pack it with
    ``PackSegInputsWithFOV`` so that a metric finds it as the data sample's
    ``fov`` (see ``docs/datasets.md``). A ``data_prefix`` without
    ``fov_path`` (or with an empty one) lists no field of view.

    Masks hold 0, 1 and ``ignore_index`` (255, outside the field of view),
    so the losses and mmseg's ``IoUMetric`` ignore the pixels outside it;
    ``reduce_zero_label`` stays False. All other arguments and checks are
    those of :class:`~sgdc_mmseg.datasets.MedicalFolderDataset`; in
    addition, a listed sample without its field-of-view mask raises a
    :class:`ValueError` naming the folder and the samples.
    """

    METAINFO = dict(
        classes=('background', 'vessel'),
        palette=[[0, 0, 0], [255, 0, 0]])

    def __init__(self, data_prefix: Optional[dict] = None, **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(DEFAULT_PREFIX)
        # Decided before BaseDataset joins '' with data_root into a folder.
        self.with_fov = bool(data_prefix.get('fov_path'))
        super().__init__(data_prefix=data_prefix, **kwargs)

    def _allowed_values(self) -> List[int]:
        """0, 1 and ``ignore_index`` (outside the field of view)."""
        allowed = super()._allowed_values()
        if self.ignore_index not in allowed:
            allowed.append(self.ignore_index)
        return allowed

    def load_data_list(self) -> List[dict]:
        """The samples of :class:`MedicalFolderDataset`, each with the
        ``fov_path`` of the same name (when ``fov_path`` is set)."""
        data_list = super().load_data_list()
        if not self.with_fov:
            return data_list
        img_dir = self.data_prefix['img_path']
        fov_dir = self.data_prefix['fov_path']
        self._check_dir(fov_dir, 'field-of-view')
        fovs = self._list_names(fov_dir, ('.png', ), 'field-of-view')
        missing = []
        for info in data_list:
            rel = osp.relpath(info['img_path'], img_dir)
            suffix = max((s for s in self.img_suffixes if rel.endswith(s)),
                         key=len)
            name = rel[:len(rel) - len(suffix)]
            if name in fovs:
                info['fov_path'] = osp.join(fov_dir, fovs[name])
            else:
                missing.append(name)
        if missing:
            raise ValueError(
                f'{type(self).__name__}: {len(missing)} sample(s) have no '
                f'field-of-view mask (*.png) in {fov_dir!r}: '
                f'{format_names(missing)}')
        return data_list
