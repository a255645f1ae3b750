"""The image + binary mask conversion shared by ISIC 2016, ISIC 2018 and
PH2.

:func:`convert_pairs` converts checked ``(name, image, mask)`` pairs into
OUT: ``images/<name>.jpg`` (an RGB JPEG copied byte for byte, after a full
decode) or ``.png`` (decoded, with ``size`` resized), ``masks/<name>.png``
(0/255 -> 0/1), the split files and ``conversion.json``. One
:class:`PairTask` per sample goes through :func:`convert_pair`, which skips
a sample whose outputs are already there for these very source files.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .checks import ConversionError, Size, check_nproc, raise_problems
from .images import (binary_mask, check_decodes, decode_color, decode_mask,
                     encode_png, jpeg_header, resize_image, resize_nearest)
from .output import OutputFolder, write_output
from .records import is_current, make_settings
from .runner import TaskResult, finish_conversion, run_conversion
from .sources import FileRef, check_unique_across_splits


@dataclass(frozen=True)
class PairTask:
    """One image + 0/255 mask to convert (picklable for worker processes).

    ``copy_jpeg``: the image is an RGB JPEG copied byte for byte (its size is
    read from the header); otherwise it is decoded and written as PNG.
    """
    name: str
    image: FileRef
    mask: FileRef
    out_root: str
    image_suffix: str
    copy_jpeg: bool
    is_jpeg: bool
    size: Optional[Size]
    previous: Optional[dict] = None

    @property
    def outputs(self) -> Tuple[str, str]:
        """The output files, relative to ``out_root``."""
        return (f'images/{self.name}{self.image_suffix}',
                f'masks/{self.name}.png')


def convert_pair(task: PairTask) -> TaskResult:
    """Check and write one pair, unless :func:`is_current` says its outputs
    are already there for these very source files.

    Both files are decoded in full (:func:`check_decodes`), also a JPEG that
    is copied byte for byte.

    Returns:
        tuple: ``(name, record, written)``; ``record`` holds the source
        signatures and the digests of the outputs.
    """
    sources = dict(image=task.image.signature(), mask=task.mask.signature())
    img_rel, mask_rel = task.outputs
    if is_current(task.previous, sources, task.out_root, task.outputs):
        return task.name, task.previous, False
    mask_where, image_where = str(task.mask), str(task.image)
    mask = binary_mask(decode_mask(task.mask.read_bytes(), mask_where),
                       mask_where)
    data = task.image.read_bytes()
    img = None
    if task.is_jpeg:
        w, h = jpeg_header(data, image_where)
    if task.copy_jpeg:
        check_decodes(data, image_where, 'image')
    else:
        img = decode_color(data, image_where)
        h, w = img.shape[:2]
    if (h, w) != mask.shape:
        raise ConversionError(
            f'image {image_where} is {w}x{h} (WxH) but its mask '
            f'{mask_where} is {mask.shape[1]}x{mask.shape[0]}.')
    if task.size is not None:
        img = resize_image(img, task.size)
        mask = resize_nearest(mask, task.size)
    root = task.out_root
    outputs = {
        img_rel: write_output(root, img_rel, data if task.copy_jpeg else
                              encode_png(img, osp.join(root, img_rel))),
        mask_rel: write_output(root, mask_rel,
                               encode_png(mask, osp.join(root, mask_rel))),
    }
    return task.name, dict(sources=sources, outputs=outputs), True


def convert_pairs(*, converter: str, source: str, out: str,
                  samples: Mapping[str, Sequence[Tuple[str, FileRef,
                                                       FileRef]]],
                  split_files: Dict[str, List[str]], options: dict,
                  inputs: dict, missing_splits: Mapping[str, str],
                  is_jpeg: bool, size: Optional[Size], nproc: int,
                  overwrite: bool) -> dict:
    """Convert checked image/mask pairs into OUT (the part shared by ISIC
    2016, ISIC 2018 and PH2).

    Args:
        samples: ``{split: [(name, image, mask), ...]}``, already paired and
            checked for names.
        split_files: ``{split file name: [sample names]}`` to write.
        options: The options that change the outputs (recorded).
        inputs: Where every official folder was read from (recorded).
        missing_splits: ``{split: reason}`` for official splits not found.
        is_jpeg: Images are JPEGs (copied byte for byte unless ``size``);
            otherwise they are decoded and written as PNG.

    Returns:
        dict: The record written to ``conversion.json``.
    """
    check_nproc(nproc)
    raise_problems(converter, check_unique_across_splits(samples))
    settings = make_settings(converter, source, options,
                             {k: [n for n, *_ in v]
                              for k, v in samples.items()})
    output = OutputFolder(out, settings)
    output.prepare(source, overwrite,
                   inputs={ref.root for pairs in samples.values()
                           for _, img, mask in pairs for ref in (img, mask)})
    copy_jpeg = is_jpeg and size is None
    suffix = '.jpg' if copy_jpeg else '.png'
    tasks = [
        PairTask(name, img, mask, output.root, suffix, copy_jpeg, is_jpeg,
                 size)
        for pairs in samples.values() for name, img, mask in pairs
    ]
    results = run_conversion(convert_pair, tasks, output, nproc, converter)
    extra = dict(
        image_suffix=suffix,
        mask_suffix='.png',
        mask_values={'0': 'background', '1': 'lesion'},
        inputs=inputs)
    return finish_conversion(output, split_files, extra, results,
                             missing_splits)
