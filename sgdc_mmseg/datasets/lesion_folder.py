"""Binary lesion segmentation dataset read from an ``images/`` + ``masks/``
folder pair.

Expected layout (the split folder names are free; they are chosen through
``data_prefix``)::

    <data_root>/
        train/images/<name><img_suffix>
        train/masks/<name><seg_map_suffix>
        val/images/...
        val/masks/...

Masks are single-channel images where 0 is background and 1 is lesion. Every
mask is checked when it is loaded (right after the pipeline's
``LoadAnnotations``): any other value, e.g. a 0/255 mask, raises a
:class:`ValueError` naming the file instead of being silently ignored.

Unlike :class:`mmseg.datasets.BaseSegDataset`, which derives the mask path
from every image path and only fails when a sample is loaded, this dataset
pairs images and masks by name up front and raises a :class:`ValueError`
listing the unpaired names when the two folders do not match.
"""
import os.path as osp
from typing import Dict, Iterable, List, Optional

import mmengine
import numpy as np
from mmengine import fileio
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

# How many unpaired names an error message shows before summarising.
_MAX_LISTED = 10


def _format_names(names: Iterable[str], limit: int = _MAX_LISTED) -> str:
    names = sorted(names)
    shown = ', '.join(names[:limit])
    if len(names) > limit:
        shown += f', ... ({len(names) - limit} more)'
    return shown


@DATASETS.register_module()
class LesionFolderDataset(BaseSegDataset):
    """Two-class (background / lesion) dataset stored as image and mask
    folders paired by file name.

    Args:
        img_suffix (str): Suffix of the image files. Defaults to ``'.jpg'``.
        seg_map_suffix (str): Suffix of the mask files. Defaults to
            ``'.png'``.
        reduce_zero_label (bool): Kept ``False`` by default because label 0
            is a real class (background).
        check_mask_values (bool): Raise when a loaded mask holds a value
            other than 0 and 1 (and ``ignore_index`` when
            ``reduce_zero_label`` is set). Defaults to True.
        **kwargs: Everything else accepted by
            :class:`mmseg.datasets.BaseSegDataset` (``data_root``,
            ``data_prefix``, ``ann_file``, ``pipeline``, ...). When
            ``ann_file`` is given it lists one sample name per line (no
            suffix); only those samples are used, and each of them must have
            both an image and a mask.

    Raises:
        FileNotFoundError: If the image or mask folder does not exist.
        ValueError: If an image has no mask or a mask has no image, if a
            name in ``ann_file`` lacks its image or mask, or if no sample is
            found at all.
    """

    METAINFO = dict(
        classes=('background', 'lesion'),
        palette=[[0, 0, 0], [255, 0, 0]])

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 check_mask_values: bool = True,
                 **kwargs) -> None:
        self.check_mask_values = check_mask_values
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    # ------------------------------------------------------------------ #
    def prepare_data(self, idx):
        """Run the pipeline, checking the mask right after it is loaded."""
        if not self.check_mask_values:
            return super().prepare_data(idx)
        data = self.get_data_info(idx)
        checked = False
        for transform in self.pipeline.transforms:
            data = transform(data)
            if data is None:
                return None
            if not checked and isinstance(data, dict) and \
                    'gt_seg_map' in data:
                self._check_mask(data['gt_seg_map'], data.get('seg_map_path'))
                checked = True
        return data

    def _check_mask(self, mask, path) -> None:
        allowed = [0, 1]
        if self.reduce_zero_label:
            allowed.append(self.ignore_index)
        bad = ~np.isin(mask, allowed)
        if bad.any():
            values = np.unique(mask[bad])
            shown = ', '.join(str(v) for v in values[:8])
            raise ValueError(
                f'{type(self).__name__}: mask {path!r} holds value(s) '
                f'{shown}{" ..." if len(values) > 8 else ""}; expected only '
                f'{allowed} (0 = background, 1 = lesion). Convert 0/255 '
                'masks to 0/1 first.')

    def _list_names(self, folder: str, suffix: str) -> Dict[str, str]:
        """Map ``name`` (relative path without suffix) -> relative file path
        for every file under ``folder`` ending with ``suffix``."""
        found = {}
        for rel in fileio.list_dir_or_file(
                dir_path=folder,
                list_dir=False,
                suffix=suffix,
                recursive=True,
                backend_args=self.backend_args):
            found[rel[:len(rel) - len(suffix)]] = rel
        return found

    def _check_dir(self, folder: Optional[str], what: str) -> None:
        if not folder or not fileio.isdir(folder,
                                          backend_args=self.backend_args):
            raise FileNotFoundError(
                f'{type(self).__name__}: {what} folder {folder!r} does not '
                f'exist (data_root={self.data_root!r}, '
                f'data_prefix={self.data_prefix!r}).')

    def _sample(self, img_dir: str, ann_dir: Optional[str], name: str,
                img_rel: str, ann_rel: Optional[str]) -> dict:
        info = dict(img_path=osp.join(img_dir, img_rel))
        if ann_dir is not None:
            info['seg_map_path'] = osp.join(ann_dir, ann_rel)
        info['label_map'] = self.label_map
        info['reduce_zero_label'] = self.reduce_zero_label
        info['seg_fields'] = []
        return info

    def load_data_list(self) -> List[dict]:
        """Pair ``img_path`` and ``seg_map_path`` files by name.

        Returns:
            list[dict]: One dict per sample, sorted by name (or in
            ``ann_file`` order when an annotation file is given).
        """
        img_dir = self.data_prefix.get('img_path', None)
        ann_dir = self.data_prefix.get('seg_map_path', None)
        # An empty / missing seg_map_path means "images only" (inference).
        if not ann_dir:
            ann_dir = None
        self._check_dir(img_dir, 'image')
        if ann_dir is not None:
            self._check_dir(ann_dir, 'mask')

        images = self._list_names(img_dir, self.img_suffix)
        masks = (self._list_names(ann_dir, self.seg_map_suffix)
                 if ann_dir is not None else {})

        if self.ann_file and not osp.isdir(self.ann_file):
            if not fileio.exists(self.ann_file,
                                 backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'{type(self).__name__}: ann_file {self.ann_file!r} '
                    'does not exist.')
            names = [
                line.strip() for line in mmengine.list_from_file(
                    self.ann_file, backend_args=self.backend_args)
                if line.strip()
            ]
            # Allow names written with the image suffix.
            names = [
                n[:-len(self.img_suffix)]
                if n.endswith(self.img_suffix) and n not in images else n
                for n in names
            ]
            no_img = [n for n in names if n not in images]
            no_mask = ([n for n in names if n not in masks]
                       if ann_dir is not None else [])
            if no_img or no_mask:
                parts = []
                if no_img:
                    parts.append(
                        f'{len(no_img)} name(s) without an image '
                        f'(*{self.img_suffix}) in {img_dir!r}: '
                        f'{_format_names(no_img)}')
                if no_mask:
                    parts.append(
                        f'{len(no_mask)} name(s) without a mask '
                        f'(*{self.seg_map_suffix}) in {ann_dir!r}: '
                        f'{_format_names(no_mask)}')
                raise ValueError(
                    f'{type(self).__name__}: ann_file {self.ann_file!r} '
                    'lists samples that are missing; ' + '; '.join(parts))
        else:
            if ann_dir is not None:
                no_mask = sorted(set(images) - set(masks))
                no_img = sorted(set(masks) - set(images))
                if no_img or no_mask:
                    parts = []
                    if no_mask:
                        parts.append(
                            f'{len(no_mask)} image(s) in {img_dir!r} have '
                            f'no mask (*{self.seg_map_suffix}) in '
                            f'{ann_dir!r}: {_format_names(no_mask)}')
                    if no_img:
                        parts.append(
                            f'{len(no_img)} mask(s) in {ann_dir!r} have no '
                            f'image (*{self.img_suffix}) in {img_dir!r}: '
                            f'{_format_names(no_img)}')
                    raise ValueError(
                        f'{type(self).__name__}: images and masks do not '
                        'pair up by name; ' + '; '.join(parts))
            names = sorted(images)

        if not names:
            raise ValueError(
                f'{type(self).__name__}: no samples found: no '
                f'*{self.img_suffix} file in {img_dir!r}'
                + (f' (ann_file {self.ann_file!r} is empty)'
                   if self.ann_file and not osp.isdir(self.ann_file) else '')
                + '.')

        return [
            self._sample(img_dir, ann_dir, n, images[n],
                         masks.get(n) if ann_dir is not None else None)
            for n in names
        ]
