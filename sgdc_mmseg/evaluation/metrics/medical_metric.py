"""``MedicalMetric``: per-image IoU, Dice, HD95 and ASSD, the way medical
segmentation papers (ISIC challenges, SGDC: MIDL 2026, arXiv 2602.23496)
report them.

How it differs from mmseg's ``IoUMetric``: ``IoUMetric``'s ``mIoU`` is one
dataset-level IoU per class (intersections and unions summed over the whole
set), averaged over all classes *including background*. Here every score is
computed per image and per foreground class, then averaged over images and
foreground classes (the ISIC convention); the dataset-level numbers are kept
as ``aIoU`` / ``aDice`` (foreground classes only).

Definitions of HD95 / ASSD and their empty-mask rules are in
:mod:`sgdc_mmseg.evaluation.functional.surface_distance` and
``docs/metrics.md``.
"""
import csv
import logging
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dist import is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.utils import mkdir_or_exist
from mmseg.registry import METRICS
from prettytable import PrettyTable

from ..functional import (has_valid_pixels, image_diagonal,
                          normalize_spacing, scores_from_counts,
                          surface_metrics)
from ..test_outputs import (COL_IMAGE, COL_IMG_PATH, COL_SKIPPED,
                            MEDICAL_PREFIX, PER_IMAGE_CSV_NAME,
                            PER_IMAGE_METRICS, SKIPPED_ALL_IGNORED,
                            per_image_column, per_image_fields)

#: Per-image metrics, in column order (the names and the CSV's columns are
#: the test-output contract's, :mod:`sgdc_mmseg.evaluation.test_outputs`).
METRIC_NAMES = PER_IMAGE_METRICS
EMPTY_POLICIES = ('auto', 'perfect', 'exclude')


def _to_numpy(data) -> np.ndarray:
    if hasattr(data, 'detach'):
        data = data.detach().cpu().numpy()
    data = np.asarray(data)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    return data


@METRICS.register_module()
class MedicalMetric(BaseMetric):
    """Per-image IoU, Dice, HD95 and ASSD averaged over images and
    foreground classes.

    Results (under the prefix, ``medical/`` by default, so they never clash
    with ``IoUMetric``'s keys in a list of evaluators):

    * ``mIoU``, ``mDice`` (percent), ``mHD95``, ``mASSD`` (pixels, or the
      unit of ``spacing``): for each foreground class the mean over images,
      then the mean over classes (for one foreground class, simply the mean
      over images).
    * ``aIoU``, ``aDice`` (percent): dataset-level scores, intersections and
      areas summed over all images, averaged over foreground classes.
    * ``TJ`` (percent): ISIC 2018's thresholded Jaccard: a per-image IoU below
      ``tj_threshold`` counts as 0.
    * ``IoU.<class>``, ``Dice.<class>``, ``HD95.<class>``, ``ASSD.<class>``,
      ``TJ.<class>``: per foreground class.
    * ``num_skipped_ignored``: images skipped because their ground truth is
      entirely ``ignore_index`` (see below).

    HD95 follows MONAI's ``compute_hausdorff_distance(percentile=95)``:
    surfaces are the pixels removed by an erosion with the 4-connected cross,
    and HD95 = max(P95(d(pred -> gt)), P95(d(gt -> pred))) with numpy's
    linear percentile (medpy's ``hd95`` takes one percentile of both
    directions pooled). ASSD is the mean of both directions' distances
    concatenated (MONAI, symmetric); medpy's ``assd`` averages the two
    directed means.

    Empty masks (per image and class): exactly one of prediction and ground
    truth empty gives IoU = Dice = 0 and HD95 = ASSD = the image diagonal
    (a finite worst case, so means stay defined). Both empty follows
    ``empty_policy``: ``'perfect'`` scores IoU = Dice = 100, HD95 = ASSD = 0;
    ``'exclude'`` leaves the pair out of the means (a patch without any cell
    of a class says nothing about that class). ``'auto'`` (default) is
    ``'perfect'`` with one foreground class (binary lesion data: an image
    without lesion predicted empty is right) and ``'exclude'`` with several
    (e.g. CoNIC). A class that is excluded in every image reports NaN. The
    number of empty cases (per class: images with an empty ground truth,
    an empty prediction, both) is logged.

    Images whose ground truth is entirely ``ignore_index`` have nothing to
    score (removing the ignored pixels leaves both masks empty, which the
    empty rules would count as a perfect image whatever the prediction).
    They are skipped: left out of every mean (also ``aIoU``/``aDice`` and
    the empty counts), counted in the key ``num_skipped_ignored`` (always
    present, 0 when none) and in the log line of the evaluation, and kept
    in ``per_image_results`` / the CSV as rows with ``skipped =
    'gt_all_ignored'`` and NaN scores (scored rows have ``skipped = ''``),
    so the rows still match the test set one to one. When *every* image is
    skipped, all scores are NaN (a warning is logged); there is no division
    by zero and no error.

    Args:
        ignore_index (int): ground-truth pixels with this value are removed
            from both masks. Default 255.
        spacing (float | tuple[float, float], optional): pixel size
            ``(row, col)`` for HD95/ASSD in physical units. Default pixels.
        tj_threshold (float): IoU threshold of ``TJ``, in ``[0, 1]``.
            Default 0.65.
        empty_policy (str): ``'auto'``, ``'perfect'`` or ``'exclude'``.
        output_dir (str, optional): where ``per_image_metrics.csv`` is
            written (columns ``image``, ``img_path``, then for every
            foreground class ``IoU.<class>``, ``Dice.<class>``,
            ``HD95.<class>``, ``ASSD.<class>``, then ``skipped``).
        collect_device (str): ``'cpu'`` or ``'gpu'`` for collecting results
            across ranks.
        prefix (str, optional): key prefix; default ``'medical'``.

    After :meth:`evaluate`, ``per_image_results`` holds the rows of the CSV
    as dicts.
    """

    default_prefix: Optional[str] = MEDICAL_PREFIX

    def __init__(self,
                 ignore_index: int = 255,
                 spacing=None,
                 tj_threshold: float = 0.65,
                 empty_policy: str = 'auto',
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if kwargs:
            raise TypeError('MedicalMetric got unexpected argument(s): '
                            + ', '.join(sorted(kwargs)))
        if empty_policy not in EMPTY_POLICIES:
            raise ValueError(f'empty_policy must be one of {EMPTY_POLICIES}, '
                             f'got {empty_policy!r}')
        if not 0.0 <= float(tj_threshold) <= 1.0:
            raise ValueError('tj_threshold must lie in [0, 1], got '
                             f'{tj_threshold!r}')
        self.ignore_index = ignore_index
        self.spacing = normalize_spacing(spacing)
        self.tj_threshold = float(tj_threshold)
        self.empty_policy = empty_policy
        self.output_dir = output_dir
        if output_dir and is_main_process():
            mkdir_or_exist(output_dir)
        self.per_image_results: List[dict] = []

    # ------------------------------------------------------------------ #
    @property
    def class_names(self) -> Sequence[str]:
        meta = self.dataset_meta or {}
        classes = meta.get('classes')
        if not classes or len(classes) < 2:
            raise ValueError(
                'MedicalMetric needs dataset_meta["classes"] with background '
                f'first and at least one foreground class, got {classes!r}')
        return tuple(classes)

    def _policy(self, num_fg: int) -> str:
        if self.empty_policy == 'auto':
            return 'perfect' if num_fg == 1 else 'exclude'
        return self.empty_policy

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Score every image of the batch; only numbers are kept."""
        num_fg = len(self.class_names) - 1
        for sample in data_samples:
            img_path = sample.get('img_path', None)
            if 'gt_sem_seg' not in sample:
                raise KeyError(
                    f'MedicalMetric: sample {img_path!r} has no gt_sem_seg; '
                    'the test pipeline must load annotations')
            pred = _to_numpy(sample['pred_sem_seg']['data'])
            gt = _to_numpy(sample['gt_sem_seg']['data'])
            if pred.shape != gt.shape:
                raise ValueError(
                    f'MedicalMetric: prediction {pred.shape} and ground truth '
                    f'{gt.shape} of {img_path!r} differ in size')
            valid = gt != self.ignore_index
            if not has_valid_pixels(valid):
                # Nothing to score: zero counts, NaN scores, flagged.
                per_class = np.zeros((num_fg, 7), dtype=np.float64)
                per_class[:, 3:] = np.nan
                self.results.append(dict(img_path=img_path, scores=per_class,
                                         skipped=True))
                continue
            diag = image_diagonal(gt.shape, self.spacing)
            per_class = np.zeros((num_fg, 7), dtype=np.float64)
            for i in range(num_fg):
                p = (pred == i + 1) & valid
                g = (gt == i + 1) & valid
                inter = int(np.count_nonzero(p & g))
                n_p, n_g = int(np.count_nonzero(p)), int(np.count_nonzero(g))
                iou, dice = scores_from_counts(inter, n_p, n_g)
                hd95, assd = surface_metrics(p, g, self.spacing, diag)
                per_class[i] = (inter, n_p, n_g, iou, dice, hd95, assd)
            self.results.append(dict(img_path=img_path, scores=per_class,
                                     skipped=False))

    # ------------------------------------------------------------------ #
    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger: MMLogger = MMLogger.get_current_instance()
        names = self.class_names[1:]
        num_fg = len(names)
        if not results:
            raise ValueError('MedicalMetric: no image was processed')
        scores = np.stack([r['scores'] for r in results])  # [N, K, 7]
        skipped = np.array([bool(r.get('skipped', False)) for r in results])
        num_skipped = int(skipped.sum())
        inter, n_p, n_g = scores[..., 0], scores[..., 1], scores[..., 2]
        iou, dice = scores[..., 3] * 100, scores[..., 4] * 100
        hd95, assd = scores[..., 5], scores[..., 6]
        both_empty = (n_p == 0) & (n_g == 0)
        for arr in (iou, dice, hd95, assd):
            if self._policy(num_fg) == 'exclude':
                arr[both_empty] = np.nan
            arr[skipped] = np.nan
        tj = np.where(iou < self.tj_threshold * 100, 0.0, iou)
        tj[np.isnan(iou)] = np.nan

        def class_means(arr):
            with np.errstate(invalid='ignore'):
                counts = (~np.isnan(arr)).sum(0)
                sums = np.nansum(arr, 0)
                return np.where(counts > 0, sums / np.maximum(counts, 1),
                                np.nan)

        per_class = OrderedDict(
            IoU=class_means(iou), Dice=class_means(dice),
            HD95=class_means(hd95), ASSD=class_means(assd),
            TJ=class_means(tj))
        s_inter, s_p, s_g = inter.sum(0), n_p.sum(0), n_g.sum(0)
        with np.errstate(invalid='ignore', divide='ignore'):
            a_iou = s_inter / (s_p + s_g - s_inter) * 100
            a_dice = 2 * s_inter / (s_p + s_g) * 100

        def mean(arr):
            arr = np.asarray(arr, dtype=np.float64)
            return float(np.nanmean(arr)) if np.any(~np.isnan(arr)) \
                else float('nan')

        metrics = OrderedDict(
            mIoU=mean(per_class['IoU']), mDice=mean(per_class['Dice']),
            mHD95=mean(per_class['HD95']), mASSD=mean(per_class['ASSD']),
            aIoU=mean(a_iou), aDice=mean(a_dice), TJ=mean(per_class['TJ']))
        for metric, values in per_class.items():
            for name, value in zip(names, values):
                metrics[f'{metric}.{name}'] = float(value)
        metrics['num_skipped_ignored'] = num_skipped

        scored = ~skipped
        self._log_tables(names, per_class, a_iou, n_p[scored], n_g[scored],
                         int(scored.sum()), num_skipped, logger)
        if num_skipped == len(results):
            print_log(
                f'MedicalMetric: the ground truth of all {num_skipped} '
                f'image(s) is entirely ignore_index={self.ignore_index}; '
                'nothing was scored and every score is NaN',
                logger=logger, level=logging.WARNING)
        self.per_image_results = self._rows(results, names, iou, dice, hd95,
                                            assd)
        if self.output_dir and is_main_process():
            self._write_csv(names)
        return metrics

    # ------------------------------------------------------------------ #
    def _log_tables(self, names, per_class, a_iou, n_p, n_g, num_images,
                    num_skipped, logger) -> None:
        table = PrettyTable()
        table.field_names = ['Class', 'IoU', 'Dice', 'HD95', 'ASSD', 'TJ',
                             'aIoU', 'empty gt', 'empty pred', 'both empty']
        for i, name in enumerate(names):
            table.add_row([
                name, *(f'{per_class[m][i]:.2f}'
                        for m in ('IoU', 'Dice', 'HD95', 'ASSD', 'TJ')),
                f'{a_iou[i]:.2f}', int((n_g[:, i] == 0).sum()),
                int((n_p[:, i] == 0).sum()),
                int(((n_g[:, i] == 0) & (n_p[:, i] == 0)).sum())
            ])
        unit = 'pixels' if self.spacing is None else \
            f'spacing {self.spacing}'
        print_log(
            f'MedicalMetric over {num_images} image(s) (per-image means; '
            f'HD95/ASSD in {unit}; empty policy '
            f'{self._policy(len(names))!r}); {num_skipped} image(s) skipped '
            '(ground truth entirely ignore_index='
            f'{self.ignore_index}):\n' + table.get_string(),
            logger=logger)

    @staticmethod
    def _rows(results, names, iou, dice, hd95, assd) -> List[dict]:
        rows = []
        for n, r in enumerate(results):
            path = r['img_path']
            row = OrderedDict()
            row[COL_IMAGE] = osp.splitext(osp.basename(path))[0] if path \
                else str(n)
            row[COL_IMG_PATH] = path
            for i, name in enumerate(names):
                for metric, arr in zip(METRIC_NAMES, (iou, dice, hd95, assd)):
                    row[per_image_column(metric, name)] = float(arr[n, i])
            row[COL_SKIPPED] = SKIPPED_ALL_IGNORED if r.get('skipped') \
                else ''
            rows.append(row)
        return rows

    def _write_csv(self, names) -> None:
        path = osp.join(self.output_dir, PER_IMAGE_CSV_NAME)
        fields = per_image_fields(names)
        with open(path, 'w', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(self.per_image_results)
        print_log(f'MedicalMetric: per-image metrics written to {path}',
                  logger='current')
