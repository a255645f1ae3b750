"""``NucleiMetric``: nuclei segmentation scored the way the MoNuSeg
literature reports it: pixel Dice and IoU of the nuclei mask, and the
instance scores AJI (Kumar et al. 2017), AJI+ (Graham et al. 2019) and PQ =
DQ x SQ (Kirillov et al. 2019), per image and aggregated.

Definitions and empty rules: :mod:`sgdc_mmseg.evaluation.functional.instances`
and ``docs/metrics.md``.

Instances:

* **Ground truth**: the data-sample key ``instances`` (an instance-id map,
  0 = background, packed by the MoNuSeg pipeline from the converter's
  ``instances/`` folder) when present, else the connected components of the
  ground-truth mask. Column ``gt_instances`` (``'instances'`` or
  ``'components'``), the counts ``num_gt_from_instances`` /
  ``num_gt_from_components`` and a log line say which.
* **Prediction**: ``pred_instances`` chooses.

  - ``'components'`` (default): connected components of the predicted
    mask.
  - ``'sge'``: touching nuclei split with the SGE's boundary map
    (:func:`~sgdc_mmseg.evaluation.functional.instance_split.split_instances`:
    seeds = foreground with boundary probability below ``sge_threshold``,
    then a watershed of the foreground from them). Every sample must carry
    ``edge_logits`` (``[1, H, W]`` logits at the original image size; the
    sigmoid is applied here); a sample without it is an error.
  - ``'auto'``: ``'sge'`` for the samples that carry ``edge_logits``,
    components for the others.

  Column ``pred_instances`` (``'components'`` or ``'sge_watershed'``) and
  the key ``num_pred_sge`` say which.

Foreground is every label other than 0 (class-agnostic, so multi-class
nuclei labels score as one "nucleus" class); ground-truth pixels equal to
``ignore_index`` are removed from both sides (set to background) before any
instance is built. An image with no other pixel is skipped (row kept with
``skipped = 'no_valid_pixel'``, left out of every score).

Keys (percent, prefix ``nuclei/``):

* ``mDice``, ``mIoU``, ``mAJI``, ``mAJIplus``, ``mDQ``, ``mSQ``, ``mPQ``:
  means over images of the per-image scores (how HoVer-Net and most U-Net
  baselines on MoNuSeg report them);
* ``aDice``, ``aIoU``, ``aAJI``, ``aAJIplus``, ``aDQ``, ``aSQ``, ``aPQ``:
  aggregated over the dataset: pixel counts, the AJI sums ``C``/``U`` and
  TP/FP/FN/summed IoU added over all images before dividing (the
  "aggregated" AJI; ``aPQ`` is CoNIC's PQ+ for one class);
* ``num_images``, ``num_skipped``, ``num_gt_from_instances``,
  ``num_gt_from_components``, ``num_pred_sge``.
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

from ..functional.instance_split import split_instances
from ..functional.instances import (INSTANCE_COUNTS, INSTANCE_SCORES,
                                    instance_counts,
                                    instance_scores_from_counts,
                                    label_components, remove_pixels)
from ..functional.overlap import scores_from_counts
from ..test_outputs import prefixed_csv_name
from ._samples import (check_same_shape, image_name, image_path,
                       pixel_field, sigmoid)

#: Default key prefix.
NUCLEI_PREFIX = 'nuclei'
#: Data-sample keys of the ground-truth instance map and the SGE edge map.
INSTANCES_KEY = 'instances'
EDGE_KEY = 'edge_logits'
#: The CSV written into ``output_dir`` (default prefix; see
#: :func:`nuclei_csv_name`).
NUCLEI_CSV_NAME = 'per_image_nuclei_metrics.csv'


def nuclei_csv_name(prefix: Optional[str]) -> str:
    """The per-image CSV of a NucleiMetric with key prefix ``prefix``:
    ``per_image_nuclei_metrics.csv`` for the default prefix,
    ``per_image_<prefix>_metrics.csv`` otherwise, so two NucleiMetrics in
    one evaluator list (e.g. connected components and the SGE split,
    ``prefix='nuclei_sge'``) write two files."""
    return prefixed_csv_name(prefix or NUCLEI_PREFIX)


#: Values of the ``gt_instances`` / ``pred_instances`` columns.
FROM_INSTANCES = 'instances'
FROM_COMPONENTS = 'components'
FROM_SGE = 'sge_watershed'
PRED_MODES = ('components', 'sge', 'auto')
EMPTY_POLICIES = ('perfect', 'exclude')
SKIPPED_NO_VALID_PIXEL = 'no_valid_pixel'
#: Scores, in key / column order.
NUCLEI_SCORES = ('Dice', 'IoU') + INSTANCE_SCORES
NUCLEI_COLUMNS = ('image', 'img_path', 'gt_instances', 'pred_instances',
                  'n_gt', 'n_pred') + NUCLEI_SCORES + ('skipped', )
_SGE_HINT = ("pred_instances='sge' needs the SGE edge logits in every data "
             "sample; use pred_instances='auto' to fall back to connected "
             'components')


@METRICS.register_module()
class NucleiMetric(BaseMetric):
    """Dice, IoU, AJI, AJI+, DQ, SQ and PQ of nuclei, per image and
    aggregated (see the module docstring).

    Args:
        ignore_index (int): ground-truth label removed from both sides.
            Default 255.
        pred_instances (str): ``'components'``, ``'sge'`` or ``'auto'``.
        sge_threshold (float): boundary probability below which a
            foreground pixel may seed an instance. Default 0.5.
        sge_min_seed_area (int): smaller seeds are dropped. Default 10.
        connectivity (int): 1 (4-neighbours) or 2 (8-neighbours, default)
            for every connected-component labelling and the watershed.
        empty_policy (str): an image whose ground truth and prediction have
            no nucleus: ``'perfect'`` (default) scores 100 everywhere,
            ``'exclude'`` leaves it out of the means (NaN in its row; the
            aggregated scores are unchanged either way, it adds nothing).
        output_dir (str, optional): where ``per_image_nuclei_metrics.csv``
            is written.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): key prefix; default ``'nuclei'``.

    After :meth:`evaluate`, ``image_rows`` holds the per-image rows
    (columns :data:`NUCLEI_COLUMNS`).
    """

    default_prefix: Optional[str] = NUCLEI_PREFIX

    def __init__(self,
                 ignore_index: int = 255,
                 pred_instances: str = 'components',
                 sge_threshold: float = 0.5,
                 sge_min_seed_area: int = 10,
                 connectivity: int = 2,
                 empty_policy: str = 'perfect',
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if kwargs:
            raise TypeError('NucleiMetric got unexpected argument(s): '
                            + ', '.join(sorted(kwargs)))
        if pred_instances not in PRED_MODES:
            raise ValueError(f'NucleiMetric: pred_instances must be one of '
                             f'{PRED_MODES}, got {pred_instances!r}')
        if empty_policy not in EMPTY_POLICIES:
            raise ValueError(f'NucleiMetric: empty_policy must be one of '
                             f'{EMPTY_POLICIES}, got {empty_policy!r}')
        if connectivity not in (1, 2):
            raise ValueError(f'NucleiMetric: connectivity must be 1 or 2, '
                             f'got {connectivity!r}')
        if not 0.0 < float(sge_threshold) <= 1.0:
            raise ValueError(f'NucleiMetric: sge_threshold must lie in '
                             f'(0, 1], got {sge_threshold!r}')
        if isinstance(sge_min_seed_area, bool) or \
                not isinstance(sge_min_seed_area, int) or \
                sge_min_seed_area < 1:
            raise ValueError(f'NucleiMetric: sge_min_seed_area must be an '
                             f'int >= 1, got {sge_min_seed_area!r}')
        self.ignore_index = ignore_index
        self.pred_instances = pred_instances
        self.sge_threshold = float(sge_threshold)
        self.sge_min_seed_area = sge_min_seed_area
        self.connectivity = connectivity
        self.empty_policy = empty_policy
        self.output_dir = output_dir
        if output_dir and is_main_process():
            mkdir_or_exist(output_dir)
        self.image_rows: List[dict] = []

    # ------------------------------------------------------------------ #
    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Build the instances of every image and keep only counts."""
        for sample in data_samples:
            self.results.append(self._score(sample))

    def _score(self, sample: dict) -> dict:
        name = 'NucleiMetric'
        path = image_path(sample)
        gt = pixel_field(sample, 'gt_sem_seg', name,
                         hint='the test pipeline must load annotations')
        pred = pixel_field(sample, 'pred_sem_seg', name)
        gt_inst = pixel_field(sample, INSTANCES_KEY, name, required=False)
        edge = None
        if self.pred_instances != 'components':
            edge = pixel_field(sample, EDGE_KEY, name,
                               required=self.pred_instances == 'sge',
                               hint=_SGE_HINT)
        check_same_shape(name, sample, gt_sem_seg=gt, pred_sem_seg=pred,
                         instances=gt_inst, edge_logits=edge)
        valid = gt != self.ignore_index
        result = dict(
            img_path=path,
            gt_source=FROM_COMPONENTS if gt_inst is None else FROM_INSTANCES,
            pred_source=FROM_COMPONENTS if edge is None else FROM_SGE,
            skipped=not valid.any())
        if result['skipped']:
            return result
        fg_gt = (gt != 0) & valid
        fg_pred = (pred != 0) & valid
        if gt_inst is None:
            gt_inst = label_components(fg_gt, self.connectivity)
        else:
            if np.issubdtype(gt_inst.dtype, np.floating) or \
                    (gt_inst.size and gt_inst.min() < 0):
                raise ValueError(
                    f'{name}: {INSTANCES_KEY!r} of {path!r} must hold '
                    f'integer ids >= 0, got {gt_inst.dtype}')
            gt_inst = remove_pixels(gt_inst, valid)
            result['mask_mismatch'] = int(np.count_nonzero(
                (gt_inst != 0) != fg_gt))
        if edge is None:
            pred_inst = label_components(fg_pred, self.connectivity)
        else:
            pred_inst = split_instances(
                fg_pred, sigmoid(edge), self.sge_threshold,
                self.sge_min_seed_area, self.connectivity)
        inter = int(np.count_nonzero(fg_pred & fg_gt))
        result['pixels'] = np.array(
            [inter, np.count_nonzero(fg_pred), np.count_nonzero(fg_gt)],
            dtype=np.int64)
        result['counts'] = instance_counts(gt_inst, pred_inst)
        return result

    # ------------------------------------------------------------------ #
    def _image_scores(self, pixels, counts) -> Dict[str, float]:
        empty = 1.0 if self.empty_policy == 'perfect' else float('nan')
        iou, dice = scores_from_counts(*pixels, empty_score=empty)
        scores = dict(Dice=dice, IoU=iou)
        scores.update(instance_scores_from_counts(counts, empty_score=empty))
        return scores

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger: MMLogger = MMLogger.get_current_instance()
        if not results:
            raise ValueError('NucleiMetric: no image was processed')
        scored = [r for r in results if not r['skipped']]
        rows = []
        for n, r in enumerate(results):
            row = OrderedDict(image=image_name(r['img_path'], n),
                              img_path=r['img_path'],
                              gt_instances=r['gt_source'],
                              pred_instances=r['pred_source'])
            if r['skipped']:
                row.update(n_gt=0, n_pred=0)
                row.update({k: float('nan') for k in NUCLEI_SCORES})
                row['skipped'] = SKIPPED_NO_VALID_PIXEL
            else:
                c = r['counts']
                row.update(n_gt=int(c['n_gt']), n_pred=int(c['n_pred']))
                s = self._image_scores(r['pixels'], c)
                row.update({k: s[k] * 100 for k in NUCLEI_SCORES})
                row['skipped'] = ''
            rows.append(row)
        self.image_rows = rows

        metrics = OrderedDict()
        for k in NUCLEI_SCORES:
            values = np.array([row[k] for row in rows if not row['skipped']],
                              dtype=np.float64)
            defined = ~np.isnan(values)
            metrics[f'm{k}'] = float(values[defined].mean()) \
                if defined.any() else float('nan')
        if scored:
            pixels = np.sum([r['pixels'] for r in scored], axis=0)
            counts = {k: sum(r['counts'][k] for r in scored)
                      for k in INSTANCE_COUNTS}
            agg = self._image_scores(pixels, counts)
        else:
            agg = {k: float('nan') for k in NUCLEI_SCORES}
        for k in NUCLEI_SCORES:
            metrics[f'a{k}'] = float(agg[k] * 100)
        num_gt_inst = sum(r['gt_source'] == FROM_INSTANCES for r in scored)
        num_sge = sum(r['pred_source'] == FROM_SGE for r in scored)
        metrics['num_images'] = len(results)
        metrics['num_skipped'] = len(results) - len(scored)
        metrics['num_gt_from_instances'] = num_gt_inst
        metrics['num_gt_from_components'] = len(scored) - num_gt_inst
        metrics['num_pred_sge'] = num_sge
        mismatched = [r for r in scored if r.get('mask_mismatch')]
        self._log(metrics, len(scored), mismatched, logger)
        if self.output_dir and is_main_process():
            self._write_csv()
        return metrics

    def _log(self, metrics, num_scored, mismatched, logger) -> None:
        table = PrettyTable()
        table.field_names = ['', *NUCLEI_SCORES]
        table.add_row(['mean over images',
                       *(f'{metrics["m" + k]:.2f}' for k in NUCLEI_SCORES)])
        table.add_row(['aggregated',
                       *(f'{metrics["a" + k]:.2f}' for k in NUCLEI_SCORES)])
        print_log(
            f'NucleiMetric over {num_scored} image(s) (percent; '
            f'{metrics["num_skipped"]} skipped: no pixel to score; empty '
            f'policy {self.empty_policy!r}); ground-truth instances from '
            f'{INSTANCES_KEY!r} in {metrics["num_gt_from_instances"]} '
            'image(s), from connected components in '
            f'{metrics["num_gt_from_components"]}; predicted instances '
            f'split with the SGE boundary map in {metrics["num_pred_sge"]} '
            f'image(s), connected components (connectivity '
            f'{self.connectivity}) in '
            f'{num_scored - metrics["num_pred_sge"]}:\n' + table.get_string(),
            logger=logger)
        if mismatched:
            worst = max(mismatched, key=lambda r: r['mask_mismatch'])
            print_log(
                f'NucleiMetric: in {len(mismatched)} image(s) the '
                f'{INSTANCES_KEY!r} map and the ground-truth mask disagree '
                f'on some pixels (most: {worst["mask_mismatch"]} in '
                f'{worst["img_path"]!r}); Dice/IoU use the mask, AJI/PQ the '
                'instances', logger=logger, level=logging.WARNING)
        if num_scored == 0:
            print_log('NucleiMetric: no image has a pixel to score; every '
                      'score is NaN', logger=logger, level=logging.WARNING)

    def _write_csv(self) -> None:
        from ...utils.fileio import atomic_write_text
        path = osp.join(self.output_dir, nuclei_csv_name(self.prefix))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(NUCLEI_COLUMNS))
        writer.writeheader()
        writer.writerows(self.image_rows)
        atomic_write_text(path, buf.getvalue())
        print_log(f'NucleiMetric: per-image metrics written to {path}',
                  logger='current')
