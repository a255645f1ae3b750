"""The registered :class:`SyntheticLesionDataset`: a
:class:`~sgdc_mmseg.datasets.LesionFolderDataset` over synthetic data that
it generates under ``data_root`` on first use
(:func:`~.generate.generate_synthetic_lesions`)."""
from typing import Dict, Tuple

from mmseg.registry import DATASETS

from ..lesion_folder import LesionFolderDataset
from .generate import generate_synthetic_lesions


@DATASETS.register_module()
class SyntheticLesionDataset(LesionFolderDataset):
    """:class:`LesionFolderDataset` over synthetic data generated under
    ``data_root`` on first use (see :func:`generate_synthetic_lesions`).

    Every dataset that shares a ``data_root`` (train and val) must use the
    same generation arguments, otherwise they regenerate each other's data.

    Args:
        data_root (str): Where the data is generated and read.
        num_train (int): Training samples. Defaults to 400.
        num_val (int): Validation samples. Defaults to 100.
        size (tuple[int, int]): ``(H, W)``. Defaults to ``(128, 128)``.
        seed (int): Generation seed. Defaults to 0.
        progress (bool): Show a progress bar while generating.
        **kwargs: Passed to :class:`LesionFolderDataset` (``data_prefix``,
            ``pipeline``, ``ann_file``, ...).
    """

    def __init__(self,
                 data_root: str = 'data/synthetic_lesion',
                 num_train: int = 400,
                 num_val: int = 100,
                 size: Tuple[int, int] = (128, 128),
                 seed: int = 0,
                 progress: bool = True,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        self.generation_args: Dict = dict(
            num_train=num_train, num_val=num_val, size=tuple(size),
            seed=seed)
        generate_synthetic_lesions(
            data_root, progress=progress, **self.generation_args)
        super().__init__(
            data_root=data_root,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)
