"""ISIC 2018 Task 1 (lesion boundary segmentation) from the official
archives.

SOURCE holds the official zip files or their extracted folders (both work;
zips are read in place)::

    ISIC2018_Task1-2_Training_Input[.zip]/ISIC_0000000.jpg      (2594)
    ISIC2018_Task1_Training_GroundTruth[.zip]/ISIC_0000000_segmentation.png
    ISIC2018_Task1-2_Validation_Input[.zip]/...                 (100)
    ISIC2018_Task1_Validation_GroundTruth[.zip]/...
    ISIC2018_Task1-2_Test_Input[.zip]/...                       (1000)
    ISIC2018_Task1_Test_GroundTruth[.zip]/...

``ATTRIBUTION.txt`` and ``LICENSE.txt``, shipped in these folders, are
ignored; any other unexpected file is an error listing it. Splits whose
folders are absent are skipped and named in the summary.

Output: ``images/<id>.jpg`` (byte for byte), ``masks/<id>.png`` (0/1),
``splits/{train,val,test}.txt`` (official) and the k-fold files
``splits/fold{i}_train.txt`` / ``fold{i}_val.txt`` over the official
training set (:func:`sgdc_mmseg.datasets.splits.kfold`).
"""
from typing import Optional, Sequence

from ..splits import fold_splits, kfold
from .common import (ConversionError, add_fold_args, base_parser, check_folds,
                     check_size, convert_pairs, fresh_source, run_main)
from .isic2016 import IsicLayout, IsicSplit, collect

NAME = 'isic2018'
DEFAULT_FOLDS = 5

LAYOUT = IsicLayout(
    converter=NAME,
    splits=(
        IsicSplit('train', 'ISIC2018_Task1-2_Training_Input',
                  'ISIC2018_Task1_Training_GroundTruth'),
        IsicSplit('val', 'ISIC2018_Task1-2_Validation_Input',
                  'ISIC2018_Task1_Validation_GroundTruth'),
        IsicSplit('test', 'ISIC2018_Task1-2_Test_Input',
                  'ISIC2018_Task1_Test_GroundTruth'),
    ),
    mask_suffix='_segmentation.png',
    ignored=frozenset({'ATTRIBUTION.txt', 'LICENSE.txt'}))


@fresh_source
def convert(source: str, out: str, *, size=None, folds: int = DEFAULT_FOLDS,
            seed: int = 0, nproc: int = 1, overwrite: bool = False) -> dict:
    """Convert ISIC 2018 Task 1 from ``source`` into ``out``.

    Args:
        source (str): Folder with the official zips or extracted folders.
        out (str): Output folder.
        size (int | tuple[int, int] | None): Resize to (W, H); images are
            then written as .png.
        folds (int): k of the k-fold split of the training set (0: none).
        seed (int): Seed of the k-fold permutation.
        nproc (int): Worker processes.
        overwrite (bool): Replace a conversion made with other settings.

    Returns:
        dict: The record written to ``conversion.json``.
    """
    size = check_size(size)
    check_folds(folds, seed)
    samples, inputs, missing = collect(LAYOUT, source)
    split_files = {k: sorted(n for n, *_ in v) for k, v in samples.items()}
    if folds and 'train' in split_files:
        try:
            split_files.update(
                fold_splits(kfold(split_files['train'], folds, seed)))
        except ValueError as e:
            raise ConversionError(f'{NAME}: --folds {folds}: {e}') from None
    elif folds:
        missing['folds'] = ('no k-fold files: they split the official '
                            'training set, which is missing')
    return convert_pairs(
        converter=NAME, source=source, out=out, samples=samples,
        split_files=split_files,
        options=dict(size=size and list(size), folds=folds, seed=seed),
        inputs=inputs, missing_splits=missing, is_jpeg=True, size=size,
        nproc=nproc, overwrite=overwrite)


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


def parse_args_parser():
    parser = base_parser(
        NAME, 'Convert the official ISIC 2018 Task 1 archives into '
        'images/ + masks/ + split files.', EPILOG)
    add_fold_args(parser, DEFAULT_FOLDS, 'the official training set')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point (``tools/dataset_converters/isic2018.py``)."""
    return run_main(
        parse_args_parser(), argv, lambda a, size: convert(
            a.source, a.out, size=size, folds=a.folds, seed=a.seed,
            nproc=a.nproc, overwrite=a.overwrite))
