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
from ..splits import fold_splits, kfold
from .checks import ConversionError, check_folds, check_size
from .isic2016 import IsicLayout, IsicSplit, collect
from .pairs import convert_pairs
from .sources import fresh_source

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
