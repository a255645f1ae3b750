"""Binary lesion segmentation dataset read from an ``images/`` + ``masks/``
folder pair: bring any two-class (background / lesion) dataset.

Expected layout (the folder names are free; they are chosen through
``data_prefix``, which defaults to ``images`` and ``masks`` under
``data_root``)::

    <data_root>/
        train/images/<name><img_suffix>
        train/masks/<name><seg_map_suffix>
        val/images/...
        val/masks/...

Masks are single-channel images where 0 is background and 1 is lesion. All
checks are those of :class:`~sgdc_mmseg.datasets.MedicalFolderDataset`:
images and masks are paired by name up front (unpaired names are listed in
the error), and every mask is checked when it is loaded (right after the
pipeline's ``LoadAnnotations``): any value other than 0 and 1, e.g. a 0/255
mask, or a size other than the image's raises a :class:`ValueError` naming
the file instead of being silently used.
"""
from typing import Sequence, Union

from mmseg.registry import DATASETS

from .medical_folder import MedicalFolderDataset


@DATASETS.register_module()
class LesionFolderDataset(MedicalFolderDataset):
    """Two-class (background / lesion) dataset stored as image and mask
    folders paired by file name.

    Args:
        img_suffix (str | tuple[str]): Suffix(es) of the image files.
            Defaults to ``'.jpg'``.
        seg_map_suffix (str | tuple[str]): Suffix(es) of the mask files.
            Defaults to ``'.png'``.
        **kwargs: Everything else accepted by
            :class:`~sgdc_mmseg.datasets.MedicalFolderDataset`
            (``data_root``, ``data_prefix``, ``ann_file``, ``pipeline``,
            ``check_mask_values``, ...).
    """

    METAINFO = dict(
        classes=('background', 'lesion'),
        palette=[[0, 0, 0], [255, 0, 0]])

    def __init__(self,
                 img_suffix: Union[str, Sequence[str]] = '.jpg',
                 seg_map_suffix: Union[str, Sequence[str]] = '.png',
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
