"""Post-processing chosen on cross-validation (nnU-Net's rule), and its
file.

:func:`choose_postprocessing` takes ``(prediction, ground truth)`` label
maps of **all** held-out images of a cross-validation (every fold pooled)
and decides, for each foreground class ``c`` on its own, whether one of the
candidate operations of :mod:`sgdc_mmseg.evaluation.functional.postprocess`
is kept:

* the score of class ``c`` is the mean over the images of the per-image
  Dice (or IoU, ``metric='iou'``) of ``pred == c`` against ``gt == c``,
  counted on the pixels whose ground truth is not ``ignore_index``; an image
  where both masks are empty scores 1, an image without any valid pixel is
  left out (as ``MedicalMetric`` does);
* every candidate is applied to the predictions of class ``c`` (removed
  pixels become background) and scored the same way;
* the best candidate is kept only when its score is **strictly** greater
  than the score without post-processing (a tie keeps nothing); among
  candidates with the same best score the first in ``candidates`` order
  wins.

Operations on class ``c`` only move pixels of ``c`` to background, so the
scores of the other foreground classes do not depend on the choice for
``c`` and each class is decided independently.

Default candidates (:func:`default_candidates`): keep the largest connected
component, then remove components below each of :data:`DEFAULT_MIN_SIZES`
pixels (8-connectivity, see the functional module).

The spec (a JSON object, :func:`save_postprocessing` /
:func:`load_postprocessing`): ``format``, ``version`` (:data:`VERSION`),
``rule`` (the sentence above), ``metric``, ``connectivity``,
``ignore_index``, ``num_classes``, ``classes`` (names or null),
``num_images``, ``candidates`` and ``per_class``: ``{"<class id>":
{"name", "operation" (null = none), "min_size", "score_before",
"score_after", "num_images", "scores": {candidate label: score}}}``
for every foreground class. Scores are fractions in ``[0, 1]``.
:func:`sgdc_mmseg.evaluation.functional.postprocess.apply_postprocessing`
applies it.
"""
import json
import math
import os
import os.path as osp

import numpy as np

from .functional.overlap import iou_dice
from .functional.postprocess import (BACKGROUND, OP_KEEP_LARGEST,
                                     OP_REMOVE_SMALL, OPERATIONS,
                                     check_min_size, connected_components,
                                     kept_components)

#: The ``format`` and ``version`` of a post-processing file.
FORMAT = 'sgdc_mmseg postprocessing'
VERSION = 1
#: Component sizes (pixels) tried by "remove components below N pixels".
DEFAULT_MIN_SIZES = (10, 20, 50, 100, 200, 500, 1000)
#: Scores :func:`choose_postprocessing` can optimise.
METRICS = ('dice', 'iou')
RULE = ('per foreground class, the candidate with the best pooled mean '
        'per-image score over all held-out images is applied only when it '
        'is strictly better than no post-processing (nnU-Net); removed '
        'pixels become background (class 0)')
#: Conventional file name, beside the checkpoints in the work dir.
DEFAULT_FILE_NAME = 'postprocessing.json'


def default_candidates(min_sizes=DEFAULT_MIN_SIZES):
    """``[keep largest component] + [remove below N for N in min_sizes]``
    as operation dicts."""
    return [dict(operation=OP_KEEP_LARGEST)] + [
        dict(operation=OP_REMOVE_SMALL, min_size=int(n)) for n in min_sizes]


def candidate_label(candidate):
    """``'keep_largest_component'`` or ``'remove_small_components:50'``."""
    if candidate['operation'] == OP_REMOVE_SMALL:
        return f'{OP_REMOVE_SMALL}:{candidate["min_size"]}'
    return candidate['operation']


def _check_candidates(candidates):
    out = []
    for cand in candidates:
        if not isinstance(cand, dict) or cand.get('operation') not in \
                OPERATIONS:
            raise ValueError(f'a candidate must be a dict with "operation" '
                             f'in {OPERATIONS}, got {cand!r}')
        if cand['operation'] == OP_REMOVE_SMALL:
            try:
                size = check_min_size(cand.get('min_size', None))
            except ValueError:
                raise ValueError(f'candidate {cand!r}: min_size must be an '
                                 'int >= 1') from None
            out.append(dict(operation=OP_REMOVE_SMALL, min_size=size))
        else:
            out.append(dict(operation=OP_KEEP_LARGEST))
    if not out:
        raise ValueError('no post-processing candidates given')
    return out


def _score(pred, gt, valid, metric):
    iou, dice = iou_dice(pred, gt, valid=valid)
    return dice if metric == 'dice' else iou


def choose_postprocessing(cases, num_classes, candidates=None,
                          metric='dice', *, ignore_index=255,
                          connectivity=2, class_names=None):
    """Choose the post-processing of every foreground class (see the module
    docstring).

    Args:
        cases (Iterable[tuple[np.ndarray, np.ndarray]]): ``(pred, gt)``
            ``HxW`` class-id maps of the same shape, one per held-out image
            of the whole cross-validation (read once; may be a generator).
        num_classes (int): classes including background (class 0); classes
            ``1..num_classes-1`` are decided.
        candidates (list[dict], optional): operation dicts (default
            :func:`default_candidates`), tried in this order.
        metric (str): ``'dice'`` (default) or ``'iou'``.
        ignore_index (int): ground-truth value that is not scored.
        connectivity (int): 1 or 2 (8-neighbours, default).
        class_names (Sequence[str], optional): recorded in the spec.

    Returns:
        dict: the spec.

    Raises:
        ValueError: bad arguments, no case, shapes that differ (naming the
            case's position), or class ids outside ``num_classes``.
    """
    if metric not in METRICS:
        raise ValueError(f'metric must be one of {METRICS}, got {metric!r}')
    if int(num_classes) < 2:
        raise ValueError(f'num_classes must be >= 2, got {num_classes!r}')
    if connectivity not in (1, 2):
        raise ValueError(f'connectivity must be 1 or 2, got {connectivity!r}')
    num_classes = int(num_classes)
    if class_names is not None and len(class_names) != num_classes:
        raise ValueError(f'{len(class_names)} class names for '
                         f'{num_classes} classes')
    candidates = _check_candidates(
        default_candidates() if candidates is None else candidates)
    labels_of = [candidate_label(c) for c in candidates]
    classes = range(1, num_classes)
    sums = {c: np.zeros(len(candidates) + 1) for c in classes}
    counts = {c: 0 for c in classes}
    num_images = 0
    for index, (pred, gt) in enumerate(cases):
        pred, gt = np.asarray(pred), np.asarray(gt)
        if pred.ndim != 2 or pred.shape != gt.shape:
            raise ValueError(f'case {index}: prediction {pred.shape} and '
                             f'ground truth {gt.shape} must be the same HxW')
        valid = gt != ignore_index
        if pred.size and (pred.min() < 0 or pred.max() >= num_classes):
            raise ValueError(f'case {index}: prediction holds class ids '
                             f'outside 0..{num_classes - 1}')
        num_images += 1
        if not valid.any():
            continue
        for c in classes:
            mask, target = pred == c, gt == c
            scores = [_score(mask, target, valid, metric)]
            labels, sizes = connected_components(mask, connectivity)
            for cand in candidates:
                scores.append(_score(kept_components(labels, sizes, cand), target,
                                     valid, metric))
            sums[c] += scores
            counts[c] += 1
    if num_images == 0:
        raise ValueError('choose_postprocessing got no cases')
    per_class = {}
    for c in classes:
        n = counts[c]
        means = sums[c] / n if n else np.full(len(candidates) + 1, math.nan)
        before = float(means[0])
        best = int(np.argmax(means[1:])) if n else 0
        chosen = n > 0 and float(means[1 + best]) > before
        cand = candidates[best] if chosen else None
        per_class[str(c)] = dict(
            name=None if class_names is None else str(class_names[c]),
            operation=cand['operation'] if cand else None,
            min_size=cand.get('min_size', None) if cand else None,
            score_before=before if n else None,
            score_after=float(means[1 + best]) if chosen else
            (before if n else None),
            num_images=n,
            scores={lab: float(v) if n else None
                    for lab, v in zip(labels_of, means[1:])})
    return dict(
        format=FORMAT, version=VERSION, rule=RULE, metric=metric,
        connectivity=int(connectivity), ignore_index=int(ignore_index),
        num_classes=num_classes,
        classes=None if class_names is None else [str(n) for n in
                                                  class_names],
        num_images=num_images, candidates=labels_of, per_class=per_class)


def describe_postprocessing(spec):
    """One line per foreground class: what is applied and the scores."""
    lines = []
    for key, entry in sorted(spec.get('per_class', {}).items(),
                             key=lambda kv: int(kv[0])):
        name = entry.get('name') or f'class {key}'
        op = entry.get('operation')
        what = 'nothing' if op is None else (
            f'{op} (min_size {entry.get("min_size")})'
            if op == OP_REMOVE_SMALL else op)
        before, after = entry.get('score_before'), entry.get('score_after')
        scores = '' if before is None else \
            f': {spec.get("metric", "dice")} {before:.4f} -> {after:.4f}'
        lines.append(f'{name}: {what}{scores}')
    return lines


def save_postprocessing(spec, path, overwrite=False):
    """Write ``spec`` as JSON to ``path`` (atomically); an existing file is
    an error (``FileExistsError`` naming it) unless ``overwrite``.
    Returns ``path``."""
    from ..utils.fileio import atomic_write_text
    check_postprocessing(spec, str(path))
    path = str(path)
    if osp.lexists(path) and not overwrite:
        raise FileExistsError(f'"{path}" exists; choose another file or '
                              'allow overwriting it')
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    atomic_write_text(path, json.dumps(spec, indent=2, allow_nan=False) +
                      '\n')
    return path


def check_postprocessing(spec, where='post-processing spec'):
    """Raise ``ValueError`` (message starting with ``where``) unless
    ``spec`` is a valid spec of this version; returns it."""
    if not isinstance(spec, dict):
        raise ValueError(f'{where}: not a JSON object')
    if spec.get('version', None) != VERSION:
        raise ValueError(f'{where}: version {spec.get("version", None)!r} '
                         f'is not supported (expected {VERSION})')
    if spec.get('connectivity', 2) not in (1, 2):
        raise ValueError(f'{where}: connectivity must be 1 or 2')
    num_classes = spec.get('num_classes', None)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or \
            num_classes < 2:
        raise ValueError(f'{where}: num_classes must be an int >= 2')
    per_class = spec.get('per_class', None)
    if not isinstance(per_class, dict):
        raise ValueError(f'{where}: "per_class" must be an object')
    for key, entry in per_class.items():
        try:
            class_id = int(key)
        except (TypeError, ValueError):
            class_id = -1
        if not BACKGROUND < class_id < num_classes:
            raise ValueError(f'{where}: class {key!r} is not a foreground '
                             f'class id (1..{num_classes - 1})')
        if not isinstance(entry, dict):
            raise ValueError(f'{where}: class {key}: not an object')
        op = entry.get('operation', None)
        if op is not None and op not in OPERATIONS:
            raise ValueError(f'{where}: class {key}: unknown operation '
                             f'{op!r} (expected one of {OPERATIONS} or '
                             'null)')
        size = entry.get('min_size', None)
        if op == OP_REMOVE_SMALL and (isinstance(size, bool) or not
                                      isinstance(size, int) or size < 1):
            raise ValueError(f'{where}: class {key}: min_size must be an '
                             f'int >= 1, got {size!r}')
    return spec


def load_postprocessing(path):
    """The spec in ``path``, checked (:func:`check_postprocessing`).

    Raises:
        FileNotFoundError: naming the file.
        ValueError: not JSON or not a valid spec (naming the file).
    """
    path = str(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'post-processing file "{path}" not found')
    with open(path, encoding='utf-8') as f:
        try:
            spec = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path} is not valid JSON: {e}') from None
    return check_postprocessing(spec, path)


__all__ = [
    'DEFAULT_FILE_NAME', 'DEFAULT_MIN_SIZES', 'FORMAT', 'METRICS', 'RULE',
    'VERSION', 'candidate_label', 'check_postprocessing',
    'choose_postprocessing', 'default_candidates', 'describe_postprocessing',
    'load_postprocessing', 'save_postprocessing'
]
