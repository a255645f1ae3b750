"""Command line of ``tools/dataset_converters/isic2018.py``: convert
the official ISIC 2018 Task 1 archives with
:func:`sgdc_mmseg.datasets.converters.isic2018.convert` (see
``docs/converters.md``)."""
import argparse
from typing import Optional, Sequence

from ..datasets.converters.isic2018 import DEFAULT_FOLDS, NAME, convert
from .dataset_converter import add_fold_args, base_parser, run_converter

EPILOG = f"""\
expected in SOURCE (each as the extracted folder or the .zip of that name):
  ISIC2018_Task1-2_Training_Input/ISIC_<id>.jpg                   (2594)
  ISIC2018_Task1_Training_GroundTruth/ISIC_<id>_segmentation.png  (0/255)
  ISIC2018_Task1-2_Validation_Input/, ISIC2018_Task1_Validation_GroundTruth/
                                                                  (100)
  ISIC2018_Task1-2_Test_Input/, ISIC2018_Task1_Test_GroundTruth/  (1000)
ATTRIBUTION.txt and LICENSE.txt in these folders are ignored. A split whose
two folders are both absent is skipped (and named in the summary).

output in OUT:
  images/ISIC_<id>.jpg   the official JPEG, byte for byte (.png with --size)
  masks/ISIC_<id>.png    uint8, 0 = background, 1 = lesion
  splits/train.txt, val.txt, test.txt   the official splits
  splits/fold<i>_train.txt, fold<i>_val.txt (i = 0..k-1)
  conversion.json        written last: settings and counts

Split protocol: the official train/val/test splits, plus k-fold over the
official training set (default k = {DEFAULT_FOLDS}, seed 0): the sorted ids are
permuted with numpy.random.default_rng(seed) and cut into k consecutive
chunks of nearly equal size; fold i validates on chunk i and trains on the
rest. See docs/converters.md.
"""


def build_parser() -> argparse.ArgumentParser:
    """The arguments, the expected SOURCE layout and the split protocol."""
    parser = base_parser(
        NAME, 'Convert the official ISIC 2018 Task 1 archives into '
        'images/ + masks/ + split files.', EPILOG)
    add_fold_args(parser, DEFAULT_FOLDS, 'the official training set')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Convert; 0 when done, 1 (with ``error: ...`` on stderr) when the
    input or OUT is refused (bad arguments: argparse exits with 2)."""
    return run_converter(build_parser(), argv, convert)
