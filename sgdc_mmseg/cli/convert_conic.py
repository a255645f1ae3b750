"""Command line of ``tools/dataset_converters/conic.py``: convert
the CoNIC 2022 challenge files with
:func:`sgdc_mmseg.datasets.converters.conic.convert` (see
``docs/converters.md``)."""
import argparse
from typing import Optional, Sequence

from ..datasets.converters.conic import (
    CLASSES, COUNT_COLUMNS, COUNT_CROP, DEFAULT_FOLDS, NAME, convert)
from .dataset_converter import add_fold_args, base_parser, run_converter

EPILOG = f"""\
expected in SOURCE (or in one sub-folder of it), as plain files:
  images.npy      N x 256 x 256 x 3 uint8 RGB (memory-mapped)
  labels.npy      N x 256 x 256 x 2: instance ids, class ids 0..6
  patch_info.csv  header patch_info; <source image>-<index> per row
  counts.csv      header {','.join(COUNT_COLUMNS)}
counts.csv is checked against the labels with the challenge's rule (distinct
instances per class in the central {COUNT_CROP}x{COUNT_CROP}).

output in OUT:
  images/<name>.png     RGB, lossless
  masks/<name>.png      uint8 class ids: {', '.join(
      f'{i} {c}' for i, c in enumerate(CLASSES))}
  instances/<name>.png  uint16 instance ids (0 = none)
  splits/all.txt        all patches
  splits/fold<i>_train.txt, fold<i>_val.txt   grouped k-fold
  conversion.json       written last: settings and counts

Split protocol: grouped k-fold (default k = {DEFAULT_FOLDS}, seed 0) so that no
source image (the name before its last '-') has patches in two folds: the
sorted source images are permuted with numpy.random.default_rng(seed), then,
largest first (stable), each goes to the fold with the fewest patches so far
(ties: lowest fold). Fewer source images than folds is an error.
See docs/converters.md.
"""


def build_parser() -> argparse.ArgumentParser:
    """The arguments, the expected SOURCE layout and the split protocol."""
    parser = base_parser(
        NAME, 'Convert the CoNIC 2022 challenge files into images/ + masks/ '
        '+ instances/ + split files.', EPILOG,
        source_help='folder holding images.npy, labels.npy, patch_info.csv '
        'and counts.csv (or one sub-folder holding them)',
        data_dirs=('images', 'masks', 'instances'))
    add_fold_args(parser, DEFAULT_FOLDS, 'source images (grouped)')
    parser.add_argument(
        '--skip-count-check', action='store_true',
        help='do not check counts.csv against the labels (its row count is '
        'still checked)')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Convert; 0 when done, 1 (with ``error: ...`` on stderr) when the
    input or OUT is refused (bad arguments: argparse exits with 2)."""
    return run_converter(
        build_parser(), argv, convert,
        check_counts=lambda args: not args.skip_count_check)
