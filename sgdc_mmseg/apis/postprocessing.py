"""Choosing post-processing from ``tools/test.py --out`` prediction folders
(the library behind ``tools/analysis/choose_postprocessing.py``).

* :func:`ground_truth_index`: the ground-truth masks a config knows, by
  image stem: the datasets of its test, val and train loaders (in that
  order; the first that has a stem wins), built without their pipelines;
  masks are read with the test pipeline's ``LoadAnnotations`` step (so
  ``reduce_zero_label`` and ``label_map`` apply as in a test). With a
  fold's config, train + val (or train + test) hold every image of the
  cross-validation, so the held-out predictions of all folds find their
  ground truth in one config.
* :func:`prediction_cases`: ``(prediction, ground truth)`` pairs of every
  PNG in the prediction folders (``DIR/pred`` of ``tools/test.py --out
  DIR``; ``DIR`` itself is accepted when it has a ``pred`` sub-folder).
  Every file must be a PNG of a known image, of the ground truth's size,
  and no image may appear in two folders; otherwise ``ValueError`` naming
  the file.
* :func:`choose_from_prediction_dirs`: :func:`sgdc_mmseg.evaluation.
  postprocessing.choose_postprocessing` over all those cases (pooled).
"""
import copy
import os
import os.path as osp

import numpy as np

from ..engine.launch import config_type_name, load_config
from ..evaluation.postprocessing import choose_postprocessing
from ..evaluation.test_outputs import PRED_DIR_NAME

#: The loaders whose datasets :func:`ground_truth_index` reads, in order.
LOADERS = ('test', 'val', 'train')


def _strip_pipelines(node):
    if isinstance(node, dict):
        node = {k: _strip_pipelines(v) for k, v in node.items()}
        if 'pipeline' in node:
            node['pipeline'] = []
        return node
    if isinstance(node, (list, tuple)):
        return type(node)(_strip_pipelines(v) for v in node)
    return node


def _annotation_loader(cfg):
    """The first ``*LoadAnnotations`` step of the test (else val, train)
    pipeline, built; mmseg's ``LoadAnnotations`` when there is none."""
    from mmseg.registry import TRANSFORMS
    for split in LOADERS:
        loader = cfg.get(f'{split}_dataloader', None) or {}
        pipeline = (loader.get('dataset', None) or {}).get('pipeline', None) \
            or cfg.get(f'{split}_pipeline', None) or []
        for step in pipeline:
            if config_type_name(step).endswith('LoadAnnotations'):
                return TRANSFORMS.build(copy.deepcopy(step))
    return TRANSFORMS.build(dict(type='LoadAnnotations'))


def ground_truth_index(cfg, loaders=LOADERS):
    """``{image stem: data info}`` of the datasets of ``cfg``'s loaders
    (see the module docstring), plus the dataset's classes and
    ``ignore_index``.

    Returns:
        tuple[dict, list[str], int]
    """
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    index, classes, ignore_index = {}, None, 255
    for split in loaders:
        loader = cfg.get(f'{split}_dataloader', None) or {}
        dataset_cfg = loader.get('dataset', None)
        if not dataset_cfg:
            continue
        dataset = DATASETS.build(_strip_pipelines(copy.deepcopy(
            dict(dataset_cfg))))
        if hasattr(dataset, 'full_init'):
            dataset.full_init()
        if classes is None:
            classes = list(dataset.metainfo.get('classes', ()))
            ignore_index = int(getattr(dataset, 'ignore_index', 255))
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            path = info.get('img_path', None)
            if path and info.get('seg_map_path', None):
                index.setdefault(osp.splitext(osp.basename(path))[0], info)
    if not classes:
        raise ValueError('the config\'s datasets name no classes')
    return index, classes, ignore_index


def read_ground_truth(info, loader):
    """The ground-truth mask of a data info, read by ``loader`` (a
    ``LoadAnnotations`` transform)."""
    results = copy.deepcopy(dict(info))
    results.setdefault('seg_fields', [])
    return np.asarray(loader(results)['gt_seg_map'])


def prediction_folder(path):
    """``path/pred`` when ``path`` is a ``tools/test.py --out`` folder,
    else ``path`` (``FileNotFoundError`` when it is not a folder)."""
    path = str(path)
    if not osp.isdir(path):
        raise FileNotFoundError(f'prediction folder "{path}" not found')
    inner = osp.join(path, PRED_DIR_NAME)
    return inner if osp.isdir(inner) else path


def prediction_cases(cfg, pred_dirs, log=print):
    """``(prediction, ground truth)`` label maps of every file in
    ``pred_dirs`` (see the module docstring); also returns the classes and
    ``ignore_index``.

    Returns:
        tuple[list[tuple[np.ndarray, np.ndarray]], list[str], int]
    """
    import cv2
    index, classes, ignore_index = ground_truth_index(cfg)
    loader = _annotation_loader(cfg)
    cases, seen = [], {}
    for folder in map(prediction_folder, pred_dirs):
        names = sorted(os.listdir(folder))
        if not names:
            raise ValueError(f'prediction folder "{folder}" is empty')
        for name in names:
            path = osp.join(folder, name)
            stem, ext = osp.splitext(name)
            if ext.lower() != '.png' or not osp.isfile(path):
                raise ValueError(f'"{path}" is not a prediction PNG (a '
                                 'prediction folder holds only '
                                 '<image stem>.png files)')
            if stem in seen:
                raise ValueError(f'image "{stem}" has two predictions: '
                                 f'"{seen[stem]}" and "{path}" (an image '
                                 'in two folds?)')
            if stem not in index:
                raise ValueError(f'"{path}": no image "{stem}" with ground '
                                 'truth in the config\'s test, val or '
                                 'train datasets')
            seen[stem] = path
            pred = cv2.imread(path, cv2.IMREAD_UNCHANGED)
            if pred is None or pred.ndim != 2:
                raise ValueError(f'"{path}" is not a single-channel label '
                                 'PNG')
            gt = read_ground_truth(index[stem], loader)
            if pred.shape != gt.shape:
                raise ValueError(f'"{path}" is {pred.shape[1]}x'
                                 f'{pred.shape[0]}, its ground truth '
                                 f'{gt.shape[1]}x{gt.shape[0]} (WxH)')
            cases.append((pred, gt))  # uint8/uint16 as read: 8x less memory than int64
    log(f'{len(cases)} prediction(s) from {len(pred_dirs)} folder(s) '
        'matched with their ground truth')
    return cases, classes, ignore_index


def choose_from_prediction_dirs(config, pred_dirs, cfg_options=None,
                                candidates=None, metric='dice',
                                connectivity=2, log=print):
    """The post-processing spec chosen on the pooled predictions of
    ``pred_dirs`` (:func:`prediction_cases`) against ``config``'s ground
    truth."""
    cfg = load_config(config, cfg_options=cfg_options)
    cases, classes, ignore_index = prediction_cases(cfg, pred_dirs, log)
    return choose_postprocessing(
        cases, len(classes), candidates, metric, ignore_index=ignore_index,
        connectivity=connectivity, class_names=classes)


__all__ = [
    'LOADERS', 'choose_from_prediction_dirs', 'ground_truth_index',
    'prediction_cases', 'prediction_folder', 'read_ground_truth'
]
