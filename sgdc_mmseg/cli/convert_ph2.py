"""Command line of ``tools/dataset_converters/ph2.py``: convert
the official PH2 distribution with
:func:`sgdc_mmseg.datasets.converters.ph2.convert` (see
``docs/converters.md``)."""
import argparse
from typing import Optional, Sequence

from ..datasets.converters.ph2 import (
    IMAGES_FOLDER, NAME, ROOT_FOLDER, ZIP_NAME, convert)
from .dataset_converter import add_fold_args, base_parser, run_converter

EPILOG = f"""\
SOURCE: the folder holding {ROOT_FOLDER}/ (or {ZIP_NAME}), the {ROOT_FOLDER}
folder itself, or {ZIP_NAME} itself. A .rar must be extracted first.
  {ROOT_FOLDER}/{IMAGES_FOLDER}/IMDxxx/IMDxxx_Dermoscopic_Image/IMDxxx.bmp
  {ROOT_FOLDER}/{IMAGES_FOLDER}/IMDxxx/IMDxxx_lesion/IMDxxx_lesion.bmp (0/255)
  (IMDxxx_roi/ colour-class masks are ignored)

output in OUT:
  images/IMDxxx.png      the BMP image, lossless
  masks/IMDxxx.png       uint8, 0 = background, 1 = lesion
  splits/all.txt         all cases
  splits/fold<i>_train.txt, fold<i>_val.txt   only with --folds K
  conversion.json        written last: settings and counts

Split protocol: all cases form one external test set (train on ISIC 2016,
test on PH2). --folds K adds k-fold files: the sorted case ids permuted with
numpy.random.default_rng(seed), cut into K consecutive chunks of nearly
equal size; fold i validates on chunk i. See docs/converters.md.
"""


def build_parser() -> argparse.ArgumentParser:
    """The arguments, the expected SOURCE layout and the split protocol."""
    parser = base_parser(
        NAME, 'Convert the official PH2 distribution into images/ + masks/ '
        '+ split files.', EPILOG,
        source_help=f'folder holding {ROOT_FOLDER}/ or {ZIP_NAME}, the '
        f'{ROOT_FOLDER} folder itself, or {ZIP_NAME}')
    add_fold_args(parser, 0, 'all cases')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Convert; 0 when done, 1 (with ``error: ...`` on stderr) when the
    input or OUT is refused (bad arguments: argparse exits with 2)."""
    return run_converter(build_parser(), argv, convert)
