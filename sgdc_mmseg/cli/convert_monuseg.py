"""Command line of ``tools/dataset_converters/monuseg.py``: convert
MoNuSeg 2018 with :func:`sgdc_mmseg.datasets.converters.monuseg.convert`
(see ``docs/converters.md``)."""
import argparse
from typing import Optional, Sequence

from ..datasets.converters.monuseg import (DEFAULT_FOLDS, NAME, TEST_FOLDER,
                                           TRAIN_FOLDER, convert)
from .dataset_converter import add_fold_args, base_parser, run_converter

EPILOG = f"""\
expected in SOURCE (each split found is converted; the two official folders
also as the .zip of that name, and SOURCE may be one of them itself):
  {TRAIN_FOLDER}/Tissue Images/<id>.tif    training tiles (30)
  {TRAIN_FOLDER}/Annotations/<id>.xml      Aperio ImageScope XML
  {TEST_FOLDER}/<id>.tif + <id>.xml            test tiles (14)
or a tile folder (the training set):
  tissue_images/<id>.tif, masks/<id>.png (binary 0/255, grey, grey+alpha or
  3 equal channels), annotations/<id>.xml (optional, any subset)

A tile's mask and instances come from its XML when there is one: every
<Region> polygon filled, boundary pixels included (PIL.ImageDraw.polygon);
vertices outside the tile are clipped; a pixel of several regions goes to
the smallest. Otherwise the given mask is used and no instance map is
written. conversion.json says which per tile (mask_from).

output in OUT:
  images/<id>.png       RGB, lossless
  masks/<id>.png        uint8: 0 background, 1 nucleus
  instances/<id>.png    uint16 instance ids (0 = background); XML tiles only
  splits/train.txt, splits/test.txt   the official splits found
  splits/fold<i>_train.txt, fold<i>_val.txt   k-fold of the training tiles
  conversion.json       written last: settings, counts, per-tile reports

Split protocol: the official train/test split, plus a plain k-fold of the
training tiles (default k = {DEFAULT_FOLDS}, seed 0): the sorted names are
permuted with numpy.random.default_rng(seed) and cut into k chunks whose
sizes differ by at most one. See docs/converters.md.
"""


def build_parser() -> argparse.ArgumentParser:
    """The arguments, the expected SOURCE layout and the split protocol."""
    parser = base_parser(
        NAME, 'Convert MoNuSeg 2018 (official downloads or a tile folder) '
        'into images/ + masks/ + instances/ + split files.', EPILOG,
        source_help='folder holding the official folders or zip files, a '
        'tile folder, or one official folder or zip file itself',
        data_dirs=('images', 'masks', 'instances'))
    add_fold_args(parser, DEFAULT_FOLDS, 'the training tiles')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Convert; 0 when done, 1 (with ``error: ...`` on stderr) when the
    input or OUT is refused (bad arguments: argparse exits with 2)."""
    return run_converter(build_parser(), argv, convert)
