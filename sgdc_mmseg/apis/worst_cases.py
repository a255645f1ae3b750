"""What ``tools/analysis/worst_cases.py`` does: rank the per-image metrics
of ``tools/test.py --out`` (:mod:`sgdc_mmseg.evaluation.case_ranking`), run
the model again on the worst cases with the config's test pipeline (same
predictions as the test; with the SGE's edge map when the model has one)
and draw them
(:func:`sgdc_mmseg.visualization.worst_cases.worst_cases_figure`).

The figure path is checked before any model work: it must not lie in a
folder of the test data. Refusals are :class:`WorstCasesError`, whose
message is what the tool prints after ``error:``.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Optional

from ..evaluation.case_ranking import rank_cases
from ..evaluation.test_outputs import COL_IMAGE, COL_IMG_PATH, read_per_image
from ..visualization.worst_cases import worst_cases_figure
from .inference import StructureInferencer, load_segmentor
from .outputs import check_output_dir, input_dirs_of_test_data


class WorstCasesError(RuntimeError):
    """Metrics, figure path, checkpoint or test set that cannot be used."""


@dataclass
class WorstCasesOptions:
    """The settings of one run of ``tools/analysis/worst_cases.py``."""
    config: str
    checkpoint: str
    metrics: str
    out: str
    num: int = 8
    sort_by: str = 'dice'
    class_name: Optional[str] = None
    device: str = 'auto'
    thumb: int = 160
    colors: int = 0
    cfg_options: Optional[dict] = None
    non_strict: bool = False


def check_figure_path(out, config, cfg_options=None):
    """Refuse a figure path inside the test data's image or mask folders
    (before any model work), as tools/test.py and tools/infer.py do."""
    from mmengine.config import Config
    if not osp.isfile(config):
        raise FileNotFoundError(f'config "{config}" not found')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    check_output_dir(osp.dirname(osp.abspath(out)),
                     input_dirs_of_test_data(cfg), what='--out folder')


def _stem(path):
    return osp.splitext(osp.basename(str(path)))[0]


def find_items(dataset, rows):
    """The dataset's data info of every row (by ``img_path``, else stem)."""
    by_path, by_stem = {}, {}
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        by_path[osp.abspath(info['img_path'])] = info
        by_stem.setdefault(_stem(info['img_path']), []).append(info)
    items = []
    for row in rows:
        info = by_path.get(osp.abspath(str(row.get(COL_IMG_PATH, ''))))
        if info is None:
            matches = by_stem.get(str(row.get(COL_IMAGE, '')), [])
            info = matches[0] if len(matches) == 1 else None
        if info is None:
            raise ValueError(
                f'image {row.get(COL_IMG_PATH) or row.get(COL_IMAGE)!r} of '
                'the metrics is not in the config\'s test set (were the '
                'metrics made with another config or data root?)')
        items.append(info)
    return items


def predict_cases(model, items):
    """``(inferencer, results)``: the model's outcome of every item (its
    test pipeline; the SGE edge map when the model has an SGE)."""
    dataset_cfg = model.cfg.test_dataloader.dataset
    pipeline = dataset_cfg.get('pipeline', None) or model.cfg.test_pipeline
    try:
        inferencer = StructureInferencer(model, pipeline=pipeline,
                                         with_structure=True)
    except ValueError:  # no SGE in this model: no edge column
        inferencer = StructureInferencer(model, pipeline=pipeline)
    by_path = {}
    for item, outcome in inferencer.run(items, batch_size=1):
        if isinstance(outcome, Exception):
            raise WorstCasesError(f'{item["img_path"]}: {outcome}')
        if outcome.gt is None:
            raise WorstCasesError(
                'the test pipeline loads no annotations (LoadAnnotations), '
                'so there is no ground truth')
        if outcome.gt.shape != outcome.pred.shape:
            raise WorstCasesError(
                f'{item["img_path"]}: ground truth {outcome.gt.shape} and '
                f'prediction {outcome.pred.shape} differ in size')
        by_path[item['img_path']] = outcome
    return inferencer, [by_path[item['img_path']] for item in items]


def draw_worst_cases(options):
    """Write the figure of the worst cases to ``options.out``.

    Returns:
        int: the number of cases drawn.
    """
    from mmseg.registry import DATASETS
    try:
        check_figure_path(options.out, options.config, options.cfg_options)
        rows = read_per_image(options.metrics)
        cases = rank_cases(rows, options.sort_by,
                           options.class_name)[:options.num]
        model = load_segmentor(options.config, options.checkpoint,
                               options.device, options.cfg_options,
                               strict=not options.non_strict)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise WorstCasesError(str(e)) from None
    dataset = DATASETS.build(model.cfg.test_dataloader.dataset)
    try:
        items = find_items(dataset, [row for _, row in cases])
    except ValueError as e:
        raise WorstCasesError(str(e)) from None
    inferencer, results = predict_cases(model, items)
    ignore_index = getattr(model.decode_head, 'ignore_index', 255)
    worst_cases_figure(cases, results, options.out, inferencer.palette,
                       inferencer.draw_ids, options.thumb, options.sort_by,
                       ignore_index, options.colors)
    return len(results)
