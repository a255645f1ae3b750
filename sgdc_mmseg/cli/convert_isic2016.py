"""Command line of ``tools/dataset_converters/isic2016.py``: convert
the official ISIC 2016 Task 1 archives with
:func:`sgdc_mmseg.datasets.converters.isic2016.convert` (see
``docs/converters.md``)."""
import argparse
from typing import Optional, Sequence

from ..datasets.converters.isic2016 import NAME, convert
from .dataset_converter import base_parser, run_converter

EPILOG = """\
expected in SOURCE (each as the extracted folder or the .zip of that name):
  ISBI2016_ISIC_Part1_Training_Data/ISIC_<id>.jpg                    (900)
  ISBI2016_ISIC_Part1_Training_GroundTruth/ISIC_<id>_Segmentation.png (0/255)
  ISBI2016_ISIC_Part1_Test_Data/ISIC_<id>.jpg                        (379)
  ISBI2016_ISIC_Part1_Test_GroundTruth/ISIC_<id>_Segmentation.png
A split whose two folders are both absent is skipped (and named in the
summary).

output in OUT:
  images/ISIC_<id>.jpg   the official JPEG, byte for byte (.png with --size)
  masks/ISIC_<id>.png    uint8, 0 = background, 1 = lesion
  splits/train.txt       official training set
  splits/test.txt        official test set
  conversion.json        written last: settings and counts

Split protocol: the official train/test split; no random split.
See docs/converters.md.
"""


def build_parser() -> argparse.ArgumentParser:
    """The arguments, the expected SOURCE layout and the split protocol."""
    return base_parser(
        NAME, 'Convert the official ISIC 2016 Task 1 archives into '
        'images/ + masks/ + split files.', EPILOG)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Convert; 0 when done, 1 (with ``error: ...`` on stderr) when the
    input or OUT is refused (bad arguments: argparse exits with 2)."""
    return run_converter(build_parser(), argv, convert)
