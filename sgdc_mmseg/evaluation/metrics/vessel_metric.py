"""``VesselMetric``: retinal-vessel scores the way the DRIVE literature
reports them, inside the field of view (FOV), per image and pooled.

Scores (definitions and empty cases in
:mod:`sgdc_mmseg.evaluation.functional.vessel` and
:mod:`~sgdc_mmseg.evaluation.functional.topology`, ``docs/metrics.md``):
sensitivity ``Se``, specificity ``Sp``, accuracy ``Acc``, ``AUC`` (ROC),
``F1`` (= Dice) and ``clDice``, all over the pixels inside the FOV whose
label is not ``ignore_index``.

* **Pooled** (keys ``Se``, ``Sp``, ``Acc``, ``AUC``, ``F1``, ``clDice``):
  over all FOV pixels of all test images together (counts summed, one ROC
  curve over all pixels), the convention of the vessel papers.
* **Per image** (``mSe`` ... ``mclDice``): the mean over images of each
  image's score; an image where a score is undefined (e.g. ``Se`` without
  a vessel pixel) is left out of that mean and counted in the log.
* **Whole image, mmseg style** (``whole_Dice``, ``whole_mDice``): mmseg's
  ``IoUMetric`` on mmseg's own DRIVE conversion, as in its model zoo (vessel
  Dice 78.67 for UNet-S5-D16 FCN): every pixel counts, pixels outside the
  FOV are background (our converted masks hold ``ignore_index`` there, which
  this key counts as background), intersections and areas are summed over
  images; ``whole_Dice`` is the vessel Dice, ``whole_mDice`` its mean with
  the background Dice (the zoo's ``mDice``).

Inputs per data sample: ``pred_sem_seg`` (the thresholded prediction: the
argmax, i.e. probability > 0.5 for two classes), ``gt_sem_seg``,
``seg_logits`` for AUC, and ``fov`` for the field of view (any
``[1, H, W]``/``[H, W]`` map, nonzero = inside; packed by the DRIVE
pipeline). Without ``fov`` the whole image is the FOV (logged once per
evaluation, column ``fov`` = ``whole_image``).

Probabilities: mmseg's ``postprocess_result`` stores ``seg_logits`` at the
original image size; with ``C > 1`` output channels they are raw logits and
the vessel probability is ``softmax(seg_logits)[vessel_index]``; with one
output channel (``out_channels=1``, sigmoid heads) mmseg has *already*
applied the sigmoid, so the values are used as they are (and must lie in
``[0, 1]``). Without ``seg_logits`` the AUC of the image is NaN, the pooled
AUC is NaN, and a warning is logged. With mmseg's ``--tta`` the
``SegTTAModel`` merges the predictions but leaves ``seg_logits`` of the
last augmented view in the sample, so the AUC then scores that view.

Memory: for the pooled AUC every image keeps the vessel probability
(float32, the precision of the network's logits) and the label of each of
its scored pixels, 5 bytes per pixel: ~23 MB for DRIVE's 20 test images of
565x584 (about 229,000 FOV pixels each). Everything else is counts.
"""
import csv
import io
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

from ..functional.topology import cldice_counts, cldice_from_counts
from ..functional.vessel import (auc_from_table, confusion_counts,
                                 score_table, scores_from_confusion,
                                 valid_pixels)
from ._samples import (check_same_shape, image_name, image_path,
                       pixel_field, softmax)

#: Default key prefix (keys ``vessel/Se``, ...).
VESSEL_PREFIX = 'vessel'
#: Data-sample key of the field of view.
FOV_KEY = 'fov'
#: The CSV written into ``output_dir``.
VESSEL_CSV_NAME = 'per_image_vessel_metrics.csv'
#: Scores, in column / key order.
VESSEL_SCORES = ('Se', 'Sp', 'Acc', 'AUC', 'F1', 'clDice')
#: Values of the ``fov`` column.
FOV_FROM_SAMPLE = 'fov'
FOV_WHOLE_IMAGE = 'whole_image'
#: ``skipped`` value of an image without any pixel to score.
SKIPPED_NO_VALID_PIXEL = 'no_valid_pixel'
#: Columns of a per-image row.
VESSEL_COLUMNS = ('image', 'img_path', 'fov') + VESSEL_SCORES + (
    'whole_Dice', 'skipped')


def vessel_probability(seg_logits: np.ndarray, vessel_index: int = 1,
                       name: str = 'seg_logits') -> np.ndarray:
    """Vessel probability ``[H, W]`` from mmseg's ``seg_logits``
    ``[C, H, W]``: ``softmax(...)[vessel_index]`` for ``C > 1``; for
    ``C == 1`` the values themselves (mmseg stores them after its sigmoid),
    which must lie in ``[0, 1]``."""
    logits = np.asarray(seg_logits)
    if logits.ndim == 2:
        logits = logits[None]
    if logits.ndim != 3:
        raise ValueError(f'{name} must be [C, H, W], got {logits.shape}')
    channels = logits.shape[0]
    if channels == 1:
        prob = logits[0].astype(np.float64)
        if prob.size and (np.nanmin(prob) < 0 or np.nanmax(prob) > 1):
            raise ValueError(
                f'{name} has one channel with values outside [0, 1]; mmseg '
                'stores one-channel seg_logits after the sigmoid, so these '
                'are not probabilities')
        if vessel_index != 1:
            raise ValueError(f'{name} has one channel (the foreground '
                             f'probability) but vessel_index={vessel_index}')
        return prob
    if not 0 <= vessel_index < channels:
        raise ValueError(f'vessel_index={vessel_index} is not a channel of '
                         f'{name} ({channels} channels)')
    return softmax(logits, axis=0)[vessel_index]


@METRICS.register_module()
class VesselMetric(BaseMetric):
    """Se, Sp, Acc, AUC, F1 and clDice inside the field of view, pooled and
    per image, plus mmseg's whole-image Dice (see the module docstring).

    Keys (percent, under the prefix ``vessel/``): ``Se``, ``Sp``, ``Acc``,
    ``AUC``, ``F1``, ``clDice`` (pooled), ``mSe`` ... ``mclDice`` (means
    over images), ``whole_Dice``, ``whole_mDice``, and the counts
    ``num_images``, ``num_skipped`` (images with no pixel to score: left
    out of everything, kept as rows with ``skipped = 'no_valid_pixel'``)
    and ``num_whole_image_fov`` (images without ``fov``).

    Args:
        vessel_index (int): label of the vessel class. Default 1.
        ignore_index (int): ground-truth label removed from the scores.
            Default 255.
        output_dir (str, optional): where ``per_image_vessel_metrics.csv``
            is written.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): key prefix; default ``'vessel'``.

    After :meth:`evaluate`, ``image_rows`` holds the per-image rows
    (columns :data:`VESSEL_COLUMNS`).
    """

    default_prefix: Optional[str] = VESSEL_PREFIX

    def __init__(self,
                 vessel_index: int = 1,
                 ignore_index: int = 255,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if kwargs:
            raise TypeError('VesselMetric got unexpected argument(s): '
                            + ', '.join(sorted(kwargs)))
        if isinstance(vessel_index, bool) or \
                not isinstance(vessel_index, int) or vessel_index < 0:
            raise ValueError(f'VesselMetric: vessel_index must be an int >= '
                             f'0, got {vessel_index!r}')
        self.vessel_index = vessel_index
        self.ignore_index = ignore_index
        self.output_dir = output_dir
        if output_dir and is_main_process():
            mkdir_or_exist(output_dir)
        self.image_rows: List[dict] = []

    # ------------------------------------------------------------------ #
    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Score every image; keep counts and, for the AUC, the scored
        pixels' probabilities and labels."""
        for sample in data_samples:
            self.results.append(self._score(sample))

    def _score(self, sample: dict) -> dict:
        name = 'VesselMetric'
        path = image_path(sample)
        gt = pixel_field(sample, 'gt_sem_seg', name,
                         hint='the test pipeline must load annotations')
        pred = pixel_field(sample, 'pred_sem_seg', name)
        fov = pixel_field(sample, FOV_KEY, name, required=False)
        logits = pixel_field(sample, 'seg_logits', name, required=False,
                             channels=True)
        check_same_shape(name, sample, gt_sem_seg=gt, pred_sem_seg=pred,
                         fov=fov, seg_logits=logits)
        valid = valid_pixels(gt.shape, fov, gt, self.ignore_index)
        result = dict(img_path=path,
                      fov=FOV_WHOLE_IMAGE if fov is None else FOV_FROM_SAMPLE,
                      skipped=not valid.any(), has_prob=logits is not None)
        if result['skipped']:
            return result
        pred_v = pred == self.vessel_index
        gt_v = gt == self.vessel_index
        result['confusion'] = np.array(confusion_counts(pred_v, gt_v, valid),
                                       dtype=np.int64)
        result['cldice'] = np.array(cldice_counts(pred_v, gt_v, valid),
                                    dtype=np.int64)
        if logits is not None:
            try:
                prob = vessel_probability(logits, self.vessel_index)
            except ValueError as e:
                raise ValueError(f'{name}: {path!r}: {e}') from None
            result['prob'] = prob[valid].astype(np.float32)
            result['label'] = gt_v[valid]
        # whole image, mmseg style: outside the FOV everything counts, as
        # background in the ground truth
        inside = np.ones(gt.shape, bool) if fov is None else fov != 0
        whole = ~inside | (gt != self.ignore_index)
        gt_w = gt_v & whole
        pred_w = pred_v & whole
        bg_gt, bg_pred = whole & ~gt_w, whole & ~pred_w
        result['whole'] = np.array([
            np.count_nonzero(pred_w & gt_w), np.count_nonzero(pred_w),
            np.count_nonzero(gt_w), np.count_nonzero(bg_pred & bg_gt),
            np.count_nonzero(bg_pred), np.count_nonzero(bg_gt)],
            dtype=np.int64)
        return result

    # ------------------------------------------------------------------ #
    @staticmethod
    def _table(results):
        """The ROC score table of the scored pixels of ``results``."""
        probs = [r['prob'] for r in results]
        labels = [r['label'] for r in results]
        return score_table(np.concatenate(probs)[None],
                           np.concatenate(labels)[None])

    @staticmethod
    def _scores(confusion, cl, table) -> Dict[str, float]:
        scores = scores_from_confusion(*confusion)
        scores['AUC'] = auc_from_table(table) if table is not None \
            else float('nan')
        scores['clDice'] = cldice_from_counts(*cl)
        return scores

    @staticmethod
    def _dice(inter, n_pred, n_gt) -> float:
        total = n_pred + n_gt
        return 2.0 * inter / total if total > 0 else 1.0

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger: MMLogger = MMLogger.get_current_instance()
        if not results:
            raise ValueError('VesselMetric: no image was processed')
        scored = [r for r in results if not r['skipped']]
        rows = []
        for n, r in enumerate(results):
            row = OrderedDict(image=image_name(r['img_path'], n),
                              img_path=r['img_path'], fov=r['fov'])
            if r['skipped']:
                row.update({k: float('nan') for k in VESSEL_SCORES})
                row['whole_Dice'] = float('nan')
                row['skipped'] = SKIPPED_NO_VALID_PIXEL
            else:
                table = self._table([r]) if r['has_prob'] else None
                s = self._scores(r['confusion'], r['cldice'], table)
                row.update({k: s[k] * 100 for k in VESSEL_SCORES})
                row['whole_Dice'] = self._dice(*r['whole'][:3]) * 100
                row['skipped'] = ''
            rows.append(row)
        self.image_rows = rows

        metrics = OrderedDict()
        missing_prob = sum(not r['has_prob'] for r in scored)
        if scored:
            confusion = np.sum([r['confusion'] for r in scored], axis=0)
            cl = np.sum([r['cldice'] for r in scored], axis=0)
            table = self._table(scored) if missing_prob == 0 else None
            pooled = self._scores(confusion, cl, table)
            whole = np.sum([r['whole'] for r in scored], axis=0)
            whole_dice = self._dice(*whole[:3]) * 100
            whole_bg = self._dice(*whole[3:]) * 100
        else:
            pooled = {k: float('nan') for k in VESSEL_SCORES}
            whole_dice = whole_bg = float('nan')
        for k in VESSEL_SCORES:
            metrics[k] = float(pooled[k] * 100)
        undefined = OrderedDict()
        for k in VESSEL_SCORES:
            values = np.array([row[k] for row in rows if not row['skipped']],
                              dtype=np.float64)
            defined = ~np.isnan(values)
            undefined[k] = int((~defined).sum())
            metrics[f'm{k}'] = float(values[defined].mean()) \
                if defined.any() else float('nan')
        metrics['whole_Dice'] = float(whole_dice)
        metrics['whole_mDice'] = float((whole_dice + whole_bg) / 2)
        num_skipped = len(results) - len(scored)
        num_whole = sum(r['fov'] == FOV_WHOLE_IMAGE for r in results)
        metrics['num_images'] = len(results)
        metrics['num_skipped'] = num_skipped
        metrics['num_whole_image_fov'] = num_whole

        self._log(metrics, undefined, len(scored), num_skipped, num_whole,
                  missing_prob, logger)
        if self.output_dir and is_main_process():
            self._write_csv()
        return metrics

    def _log(self, metrics, undefined, num_scored, num_skipped, num_whole,
             missing_prob, logger) -> None:
        table = PrettyTable()
        table.field_names = ['', *VESSEL_SCORES]
        table.add_row(['pooled', *(f'{metrics[k]:.2f}'
                                   for k in VESSEL_SCORES)])
        table.add_row(['mean over images',
                       *(f'{metrics["m" + k]:.2f}' for k in VESSEL_SCORES)])
        table.add_row(['images undefined',
                       *(undefined[k] for k in VESSEL_SCORES)])
        print_log(
            f'VesselMetric over {num_scored} image(s), inside the field of '
            f'view (percent; {num_skipped} image(s) skipped: no pixel to '
            f'score); whole-image vessel Dice (mmseg style) '
            f'{metrics["whole_Dice"]:.2f}, mDice '
            f'{metrics["whole_mDice"]:.2f}:\n' + table.get_string(),
            logger=logger)
        if num_whole:
            print_log(
                f'VesselMetric: {num_whole} image(s) carry no {FOV_KEY!r} '
                'map; they are scored over the whole image (column fov = '
                f'{FOV_WHOLE_IMAGE!r})', logger=logger,
                level=logging.WARNING)
        if missing_prob:
            print_log(
                f'VesselMetric: {missing_prob} image(s) carry no '
                "'seg_logits'; their AUC and the pooled AUC are NaN",
                logger=logger, level=logging.WARNING)
        if num_scored == 0:
            print_log('VesselMetric: no image has a pixel to score; every '
                      'score is NaN', logger=logger, level=logging.WARNING)

    def _write_csv(self) -> None:
        from ...utils.fileio import atomic_write_text
        path = osp.join(self.output_dir, VESSEL_CSV_NAME)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(VESSEL_COLUMNS))
        writer.writeheader()
        writer.writerows(self.image_rows)
        atomic_write_text(path, buf.getvalue())
        print_log(f'VesselMetric: per-image metrics written to {path}',
                  logger='current')
