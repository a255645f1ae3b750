"""Generic medical segmentation dataset read from an ``images/`` + ``masks/``
folder pair, with optional split files.

Layout (the folder names are chosen through ``data_prefix``; the defaults
are those of the converted datasets, see ``docs/datasets.md``)::

    <data_root>/
        images/<name>.png|.jpg     RGB image
        masks/<name>.png           single-channel class ids 0..C-1
        splits/<split>.txt         optional: one <name> per line

Compared with :class:`mmseg.datasets.BaseSegDataset`, which derives each
mask path from its image path and only fails when a sample is loaded, this
dataset checks its input up front and names the offending files:

* images and masks are paired **by name**, never by sorted order; a name
  with an image but no mask (or the reverse) raises a :class:`ValueError`
  listing the unpaired names;
* several image suffixes are accepted (``img_suffix`` may be a tuple); one
  name with two images (``a.png`` and ``a.jpg``) raises naming both files;
* with ``ann_file`` only the listed names are used, and a listed name
  without its image or mask raises naming the split file and the names;
* when the dataset is built (``full_init``), the header of every listed
  image and mask is read with Pillow (no pixel is decoded) and a
  :class:`ValueError` lists, by file, every image with an EXIF orientation
  other than 1 (OpenCV and so mmseg would rotate it on loading, but not its
  mask; the converters refuse such images too), every mask with more than
  8 bits per sample (mmseg's ``LoadAnnotations`` casts masks to ``uint8``:
  class 256 would silently become 0) and every mask less than 2 pixels high
  or wide (``LoadAnnotations`` squeezes a dimension of size 1 away); a file
  whose header cannot be read is left to the check below;
* when a sample is loaded, a file that cannot be read or decoded raises an
  :class:`OSError` naming it (mmcv returns ``None`` or raises an error
  without the file name for a corrupt file);
* right after ``LoadAnnotations`` each mask is checked: single channel,
  values in ``range(num_classes)`` (plus ``ignore_index`` when
  ``reduce_zero_label`` or a class subset is used), and the image's size;
  otherwise a :class:`ValueError` names the file(s).

An all-background (empty) mask is a valid sample.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmengine
import numpy as np
from mmcv.transforms import LoadAnnotations as _MMCVLoadAnnotations
from mmcv.transforms import LoadImageFromFile as _MMCVLoadImageFromFile
from mmengine import fileio
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .image_header import ImageHeader, read_image_header
from .utils import format_names

#: Masks need at least this many rows and columns: mmseg's
#: ``LoadAnnotations`` squeezes a dimension of size 1 away.
MIN_MASK_SIDE = 2


def _as_suffixes(suffix: Union[str, Sequence[str]], arg: str) -> Tuple[str]:
    suffixes = (suffix, ) if isinstance(suffix, str) else tuple(suffix)
    if not suffixes or not all(isinstance(s, str) and s for s in suffixes):
        raise ValueError(
            f'{arg} must be a non-empty string or a sequence of them, got '
            f'{suffix!r}.')
    return suffixes


def _loaded_fields(transform) -> set:
    """Which files a transform (or a transform nested in it, e.g. in
    ``TestTimeAug``) reads: a subset of ``{'image', 'mask'}``."""
    if isinstance(transform, _MMCVLoadImageFromFile):
        return {'image'}
    if isinstance(transform, _MMCVLoadAnnotations):
        return {'mask'} if getattr(transform, 'with_seg', True) else set()
    found = set()
    for attr in ('transforms', 'subroutines'):
        children = getattr(transform, attr, None)
        if isinstance(children, (list, tuple)):
            for child in children:
                found |= _loaded_fields(child)
    return found


@DATASETS.register_module()
class MedicalFolderDataset(BaseSegDataset):
    """Semantic segmentation dataset stored as image and mask folders paired
    by file name, optionally restricted to the names of a split file.

    Subclasses fix ``METAINFO`` (classes and palette). Used directly, the
    classes come from ``metainfo``, e.g.
    ``dict(type='MedicalFolderDataset', metainfo=dict(classes=('bg', 'a',
    'b'), palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0]]))``.

    Args:
        img_suffix (str | tuple[str]): Suffix(es) of the image files.
            Defaults to ``('.png', '.jpg')``.
        seg_map_suffix (str | tuple[str]): Suffix(es) of the mask files.
            Defaults to ``'.png'``.
        data_prefix (dict, optional): ``img_path`` and ``seg_map_path``
            folders, relative to ``data_root``. Defaults to
            ``dict(img_path='images', seg_map_path='masks')``. Without a
            ``seg_map_path`` (or with an empty one) only images are listed
            (inference).
        reduce_zero_label (bool): Kept ``False`` by default because label 0
            is a real class (background).
        check_mask_values (bool): Check each loaded mask (single channel,
            values, size). Defaults to True.
        **kwargs: Everything else accepted by
            :class:`mmseg.datasets.BaseSegDataset` (``data_root``,
            ``ann_file``, ``pipeline``, ``metainfo``, ...). ``ann_file``
            (relative to ``data_root``) lists one sample name per line, no
            suffix; blank lines are skipped.

    Raises:
        ValueError: If no class names are given, if the folders do not pair
            up, if one name has two images (or masks), if ``ann_file`` names
            a missing sample or a name twice, if no sample is found, or if
            a file header shows an image with an EXIF orientation other
            than 1, a mask of more than 8 bits per sample or a mask less
            than 2 pixels high or wide (every such file is listed).
        FileNotFoundError: If the image or mask folder, or ``ann_file``,
            does not exist.
    """

    METAINFO: dict = dict()

    def __init__(self,
                 img_suffix: Union[str, Sequence[str]] = ('.png', '.jpg'),
                 seg_map_suffix: Union[str, Sequence[str]] = '.png',
                 data_prefix: Optional[dict] = None,
                 reduce_zero_label: bool = False,
                 check_mask_values: bool = True,
                 **kwargs) -> None:
        self.img_suffixes = _as_suffixes(img_suffix, 'img_suffix')
        self.seg_map_suffixes = _as_suffixes(seg_map_suffix, 'seg_map_suffix')
        self.check_mask_values = check_mask_values
        metainfo = kwargs.get('metainfo') or {}
        if not (metainfo.get('classes') or self.METAINFO.get('classes')):
            raise ValueError(
                f'{type(self).__name__}: no class names: pass '
                "metainfo=dict(classes=(...), palette=[...]) or use a "
                'dataset class that defines them (e.g. ISIC2016Dataset).')
        if data_prefix is None:
            data_prefix = dict(img_path='images', seg_map_path='masks')
        # Decided before BaseDataset joins '' with data_root into a folder.
        self.images_only = not data_prefix.get('seg_map_path')
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    # ------------------------------------------------------------------ #
    # Loading a sample
    # ------------------------------------------------------------------ #
    def prepare_data(self, idx):
        """Run the pipeline; wrap file read/decode failures into errors
        naming the file and check the mask right after it is loaded."""
        data = self.get_data_info(idx)
        img_path = data.get('img_path')
        seg_path = data.get('seg_map_path')
        values_checked = size_checked = False
        for transform in self.pipeline.transforms:
            data = self._apply(transform, data, img_path, seg_path)
            if data is None:
                return None
            if not (self.check_mask_values and isinstance(data, dict)):
                continue
            if 'gt_seg_map' in data and not values_checked:
                self._check_mask(data['gt_seg_map'], seg_path)
                values_checked = True
                # Both loaded and not yet resized together: compare now
                # (a Resize before LoadAnnotations leaves ori_shape as is).
                if 'ori_shape' in data:
                    self._check_size(data['gt_seg_map'].shape,
                                     data['ori_shape'], img_path, seg_path)
                    size_checked = True
            elif values_checked and not size_checked and 'ori_shape' in data:
                # The image was loaded after the mask.
                self._check_size(data['gt_seg_map'].shape, data['ori_shape'],
                                 img_path, seg_path)
                size_checked = True
        if self.check_mask_values and not values_checked:
            # LoadAnnotations nested in another transform (TestTimeAug).
            self._check_packed(data, img_path, seg_path)
        return data

    def _apply(self, transform, data, img_path, seg_path):
        loads = _loaded_fields(transform)
        if not loads:
            return transform(data)
        try:
            return transform(data)
        except Exception as err:
            files = []
            if 'image' in loads:
                files.append(f'image {img_path!r}')
            if 'mask' in loads and seg_path is not None:
                files.append(f'mask {seg_path!r}')
            raise OSError(
                f'{type(self).__name__}: failed to read or decode '
                f'{" / ".join(files) or repr(img_path)} in '
                f'{type(transform).__name__} ({type(err).__name__}: {err}); '
                'is the file corrupt or not an image?') from err

    def _allowed_values(self) -> List[int]:
        allowed = list(range(len(self.metainfo['classes'])))
        if self.reduce_zero_label or (self.label_map and 255 in
                                      self.label_map.values()):
            allowed.append(self.ignore_index)
        return allowed

    def _check_mask(self, mask, path) -> None:
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise ValueError(
                f'{type(self).__name__}: mask {path!r} has shape '
                f'{mask.shape}; expected a single-channel (H, W) image of '
                'class ids.')
        allowed = self._allowed_values()
        bad = ~np.isin(mask, allowed)
        if bad.any():
            values = np.unique(mask[bad])
            shown = ', '.join(str(v) for v in values[:8])
            classes = self.metainfo['classes']
            legend = ', '.join(f'{i} = {c}' for i, c in enumerate(classes))
            hint = (' Convert 0/255 masks to 0/1 first.'
                    if len(classes) == 2 and 255 in values else '')
            raise ValueError(
                f'{type(self).__name__}: mask {path!r} holds value(s) '
                f'{shown}{" ..." if len(values) > 8 else ""}; expected only '
                f'{allowed} ({legend}).{hint}')

    def _check_size(self, mask_shape, img_shape, img_path, seg_path) -> None:
        if tuple(mask_shape[:2]) != tuple(img_shape[:2]):
            raise ValueError(
                f'{type(self).__name__}: mask {seg_path!r} is '
                f'{mask_shape[0]}x{mask_shape[1]} (H x W) but image '
                f'{img_path!r} is {img_shape[0]}x{img_shape[1]}; a mask must '
                'have the size of its image.')

    def _check_packed(self, data, img_path, seg_path) -> None:
        """Check the ``gt_sem_seg`` of packed data samples."""
        if not isinstance(data, dict):
            return
        samples = data.get('data_samples')
        if samples is None:
            return
        if not isinstance(samples, (list, tuple)):
            samples = [samples]
        for sample in samples[:1]:  # all views hold the same mask file
            gt = getattr(sample, 'gt_sem_seg', None)
            if gt is None:
                continue
            mask = gt.data.squeeze(0).cpu().numpy()
            self._check_mask(mask, seg_path)
            ori_shape = sample.metainfo.get('ori_shape')
            if ori_shape is not None:
                self._check_size(mask.shape, ori_shape, img_path, seg_path)

    # ------------------------------------------------------------------ #
    # Listing the samples
    # ------------------------------------------------------------------ #
    @staticmethod
    def _suffix_text(suffixes: Sequence[str]) -> str:
        return '|'.join(f'*{s}' for s in suffixes)

    def _list_names(self, folder: str, suffixes: Tuple[str],
                    what: str) -> Dict[str, str]:
        """Map ``name`` (relative path without suffix) -> relative file path
        for every file under ``folder`` ending with one of ``suffixes``."""
        found: Dict[str, str] = {}
        twice: Dict[str, List[str]] = {}
        for rel in fileio.list_dir_or_file(
                dir_path=folder,
                list_dir=False,
                suffix=suffixes,
                recursive=True,
                backend_args=self.backend_args):
            suffix = max((s for s in suffixes if rel.endswith(s)), key=len)
            name = rel[:len(rel) - len(suffix)]
            if name in found:
                twice.setdefault(name, [found[name]]).append(rel)
            else:
                found[name] = rel
        if twice:
            names = sorted(twice)
            shown = format_names(
                (' and '.join(osp.join(folder, f) for f in sorted(twice[n]))
                 for n in names), sort=False, sep='; ')
            raise ValueError(
                f'{type(self).__name__}: {len(names)} name(s) have more than '
                f'one {what} file: {shown}. Keep one file per name.')
        return found

    def _check_dir(self, folder: Optional[str], what: str) -> None:
        if not folder or not fileio.isdir(folder,
                                          backend_args=self.backend_args):
            raise FileNotFoundError(
                f'{type(self).__name__}: {what} folder {folder!r} does not '
                f'exist (data_root={self.data_root!r}, '
                f'data_prefix={self.data_prefix!r}).')

    def _read_split(self, images: Dict[str, str]) -> List[str]:
        if not fileio.exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'{type(self).__name__}: ann_file {self.ann_file!r} does not '
                'exist.')
        names = [
            line.strip() for line in mmengine.list_from_file(
                self.ann_file, backend_args=self.backend_args)
            if line.strip()
        ]
        # Allow names written with an image suffix.
        stripped = []
        for n in names:
            if n not in images:
                for s in self.img_suffixes:
                    if n.endswith(s):
                        n = n[:-len(s)]
                        break
            stripped.append(n)
        seen, repeated = set(), set()
        for n in stripped:
            (repeated if n in seen else seen).add(n)
        if repeated:
            raise ValueError(
                f'{type(self).__name__}: ann_file {self.ann_file!r} lists '
                f'{len(repeated)} name(s) more than once: '
                f'{format_names(repeated)}')
        return stripped

    def _sample(self, img_dir: str, ann_dir: Optional[str], img_rel: str,
                ann_rel: Optional[str]) -> dict:
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
            ``ann_file`` order when a split file is given).
        """
        img_dir = self.data_prefix.get('img_path', None)
        ann_dir = (None if self.images_only else
                   self.data_prefix.get('seg_map_path'))
        self._check_dir(img_dir, 'image')
        if ann_dir is not None:
            self._check_dir(ann_dir, 'mask')
        img_sfx = self._suffix_text(self.img_suffixes)
        seg_sfx = self._suffix_text(self.seg_map_suffixes)

        images = self._list_names(img_dir, self.img_suffixes, 'image')
        masks = (self._list_names(ann_dir, self.seg_map_suffixes, 'mask')
                 if ann_dir is not None else {})

        use_split = bool(self.ann_file) and not osp.isdir(self.ann_file)
        if use_split:
            names = self._read_split(images)
            no_img = [n for n in names if n not in images]
            no_mask = ([n for n in names if n not in masks]
                       if ann_dir is not None else [])
            if no_img or no_mask:
                parts = []
                if no_img:
                    parts.append(
                        f'{len(no_img)} name(s) without an image '
                        f'({img_sfx}) in {img_dir!r}: '
                        f'{format_names(no_img)}')
                if no_mask:
                    parts.append(
                        f'{len(no_mask)} name(s) without a mask '
                        f'({seg_sfx}) in {ann_dir!r}: '
                        f'{format_names(no_mask)}')
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
                            f'no mask ({seg_sfx}) in {ann_dir!r}: '
                            f'{format_names(no_mask)}')
                    if no_img:
                        parts.append(
                            f'{len(no_img)} mask(s) in {ann_dir!r} have no '
                            f'image ({img_sfx}) in {img_dir!r}: '
                            f'{format_names(no_img)}')
                    raise ValueError(
                        f'{type(self).__name__}: images and masks do not '
                        'pair up by name; ' + '; '.join(parts))
            names = sorted(images)

        if not names:
            raise ValueError(
                f'{type(self).__name__}: no samples found: '
                + (f'ann_file {self.ann_file!r} is empty.' if use_split else
                   f'no {img_sfx} file in {img_dir!r}.'))

        data_list = [
            self._sample(img_dir, ann_dir, images[n],
                         masks[n] if ann_dir is not None else None)
            for n in names
        ]
        self._check_headers(data_list)
        return data_list

    # ------------------------------------------------------------------ #
    # Checking the file headers (once, when the dataset is built)
    # ------------------------------------------------------------------ #
    def _header(self, path: str) -> Optional[ImageHeader]:
        """The header of ``path``, or None when it cannot be read (the
        sample then fails to load with an error naming the file)."""
        try:
            with fileio.get_local_path(
                    path, backend_args=self.backend_args) as local:
                return read_image_header(local, path)
        except OSError:
            return None

    def _check_headers(self, data_list: List[dict]) -> None:
        """Refuse rotated images, masks of more than 8 bits and masks
        under 2x2 pixels, listing every such file."""
        rotated, deep, small = [], [], []
        for info in data_list:
            img = self._header(info['img_path'])
            if img is not None and img.orientation != 1:
                rotated.append(
                    f"{info['img_path']!r} (orientation {img.orientation})")
            seg = info.get('seg_map_path')
            mask = self._header(seg) if seg is not None else None
            if mask is None:
                continue
            if mask.bits > 8:
                deep.append(f'{seg!r} ({mask.bits}-bit, Pillow mode '
                            f'{mask.mode})')
            if min(mask.width, mask.height) < MIN_MASK_SIDE:
                small.append(f'{seg!r} is {mask.shape_text}')
        problems = []
        if rotated:
            problems.append(
                f'{len(rotated)} image(s) have an EXIF orientation other '
                f'than 1: {format_names(rotated, sort=False, sep="; ")}. '
                'OpenCV (and so mmseg) rotates such an image when loading '
                'it, but not its mask, so they would not line up (the '
                'dataset converters refuse these images too). Re-save the '
                'image without the orientation tag if its mask was drawn on '
                'the pixels as stored, or apply the orientation to the image '
                'and its mask alike (e.g. PIL.ImageOps.exif_transpose) and '
                'save both without the tag')
        if deep:
            problems.append(
                f'{len(deep)} mask(s) have more than 8 bits per sample: '
                f'{format_names(deep, sort=False, sep="; ")}. mmseg\'s '
                'LoadAnnotations casts masks to uint8, which would turn '
                'class ids of 256 and more into other ids (256 into 0) '
                'without an error; save the masks as 8-bit single-channel '
                'images of class ids')
        if small:
            problems.append(
                f'{len(small)} mask(s) are less than {MIN_MASK_SIDE} pixels '
                f'high or wide: {format_names(small, sort=False, sep="; ")}'
                ". mmseg's LoadAnnotations squeezes a dimension of size 1 "
                'away, so such a mask cannot be loaded as an H x W map; '
                f'masks (and their images) must be at least {MIN_MASK_SIDE}x'
                f'{MIN_MASK_SIDE}')
        if problems:
            raise ValueError(f'{type(self).__name__}: ' +
                             '; '.join(problems) + '.')
