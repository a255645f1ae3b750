"""Command line of ``tools/dataset_converters/drive.py``: convert the
official DRIVE download with
:func:`sgdc_mmseg.datasets.converters.drive.convert` (see
``docs/converters.md``)."""
import argparse
from typing import Optional, Sequence

from ..datasets.converters.drive import DEFAULT_FOLDS, IGNORE, NAME, convert
from .dataset_converter import add_fold_args, base_parser, run_converter

EPILOG = f"""\
expected in SOURCE: DRIVE.zip (or SOURCE is DRIVE.zip itself), training.zip
and/or test.zip, or the extracted folders (SOURCE holding DRIVE/, SOURCE
being DRIVE/ or one split folder); zips are read in place:
  DRIVE/training/images/NN_training.tif      RGB fundus images
  DRIVE/training/1st_manual/NN_manual1.gif   vessels 255
  DRIVE/training/mask/NN_training_mask.gif   field of view 255
  DRIVE/test/images/NN_test.tif, 1st_manual/NN_manual1.gif,
             2nd_manual/NN_manual2.gif (optional), mask/NN_test_mask.gif
Each split found is converted; a split folder without 1st_manual/ is skipped
(named in the summary).

output in OUT (<stem> = the image's stem, e.g. 21_training):
  images/<stem>.png      the TIFF, lossless
  masks/<stem>.png       uint8: 0 background, 1 vessel (1st_manual),
                         {IGNORE} outside the field of view
  fov/<stem>.png         uint8: 1 inside the field of view, 0 outside
  masks_2nd/<stem>.png   2nd_manual (test split), coded as masks/
  splits/train.txt, test.txt   the official splits found
  splits/fold<i>_train.txt, fold<i>_val.txt   k-fold of the training images
  conversion.json        written last: settings, counts, vessel pixels
                         outside the field of view per image

Split protocol: the official train/test split, plus a k-fold split of the
training images (default k = {DEFAULT_FOLDS}, seed 0): the sorted names are
permuted with numpy.random.default_rng(seed) and cut into k chunks.
See docs/converters.md.
"""


def build_parser() -> argparse.ArgumentParser:
    """The arguments, the expected SOURCE layout and the split protocol."""
    parser = base_parser(
        NAME, 'Convert the official DRIVE download into images/ + masks/ '
        '+ fov/ + split files.', EPILOG,
        source_help='DRIVE.zip, or a folder holding DRIVE.zip, '
        'training.zip / test.zip or the extracted DRIVE/ folders',
        data_dirs=('images', 'masks', 'fov', 'masks_2nd'))
    add_fold_args(parser, DEFAULT_FOLDS, 'the training images')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Convert; 0 when done, 1 (with ``error: ...`` on stderr) when the
    input or OUT is refused (bad arguments: argparse exits with 2)."""
    return run_converter(build_parser(), argv, convert)
