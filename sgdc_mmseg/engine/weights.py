"""Does a checkpoint fit a model? Loading weights strictly, or loudly.

mmengine loads ``load_from`` checkpoints (``Runner.load_checkpoint``) and
mmseg's ``init_model`` loads inference checkpoints with ``strict=False``: a
checkpoint of another model, with missing keys or with tensors of other
shapes is accepted with a log warning, and evaluation then scores a partly
random model. This module makes the fit explicit.

* :func:`checkpoint_state_dict` takes the weights out of a checkpoint the way
  mmengine's ``_load_checkpoint_to_model`` does: the ``'state_dict'`` entry
  when there is one, else the dict itself, with ``revise_keys`` applied
  (default: a leading ``module.`` is stripped).
* :func:`unwrap_model` is the module that receives them: model wrappers
  (``MMDistributedDataParallel`` ...) and test-time-augmentation models
  (``BaseTTAModel``, e.g. mmseg's ``SegTTAModel``) hold the real model in
  ``.module``, as mmengine's ``load_state_dict`` assumes.
* :func:`compare_weights` is a pure comparison of the two (nothing is
  loaded): keys that fit (same shape), keys the checkpoint lacks
  (``missing``; BatchNorm's ``num_batches_tracked`` is not counted, as in
  mmengine), keys the model lacks (``unexpected``) and keys whose tensor
  shapes differ (``mismatched``). A 0-dim model tensor fits a 1-element
  checkpoint tensor (torch's own rule). Modules that rename legacy keys in
  their ``_load_from_state_dict`` are not modelled: their old keys count as
  unexpected.
* :func:`load_weights` loads a checkpoint (file or dict) into a model. With
  ``strict=True`` (the default) a checkpoint that does not fit raises
  :class:`CheckpointMismatchError` naming the file and the first offending
  keys of each kind with their counts, before any tensor is copied. With
  ``strict=False`` the tensors that fit are loaded (the others keep their
  values) and a warning with the same summary is logged. Either way one
  line (:func:`summary_line`) says how many tensors were loaded, missing,
  unexpected and shape-mismatched, from which file.
* :func:`dataset_meta_from_config` is the class names and palette of a
  config's dataset, for checkpoints saved without ``meta['dataset_meta']``.
"""
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass

__all__ = [
    'CheckpointMismatchError', 'WeightsReport', 'checkpoint_state_dict',
    'compare_weights', 'dataset_meta_from_config', 'load_weights',
    'read_checkpoint', 'summary_line', 'unwrap_model'
]

#: mmengine's default ``revise_keys``: strip a leading ``module.``.
DEFAULT_REVISE_KEYS = ((r'^module\.', ''), )
#: How many keys of each kind a message names.
SHOWN_KEYS = 3


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model it is loaded into.

    Attributes:
        filename (str | None): the checkpoint file.
        report (WeightsReport | None): what fits and what does not (None when
            the checkpoint holds no state dict at all).
    """

    def __init__(self, message, filename=None, report=None):
        super().__init__(message)
        self.filename = filename
        self.report = report


def _plural(count, word, plural=None):
    return f'{count} {word if count == 1 else (plural or word + "s")}'


def _shape(shape):
    return 'x'.join(str(s) for s in shape) if len(shape) else 'scalar'


def _listed(keys, limit):
    shown = ', '.join(keys[:limit])
    return shown + (', ...' if len(keys) > limit else '')


@dataclass(frozen=True)
class WeightsReport:
    """The result of :func:`compare_weights`.

    Attributes:
        loaded (tuple[str]): keys present in both with the same shape.
        missing (tuple[str]): model keys the checkpoint lacks.
        unexpected (tuple[str]): checkpoint keys the model lacks.
        mismatched (tuple[tuple[str, tuple, tuple]]): ``(key, checkpoint
            shape, model shape)`` of keys in both whose shapes differ (a
            checkpoint value that is not a tensor has shape ``None``).
    """
    loaded: tuple = ()
    missing: tuple = ()
    unexpected: tuple = ()
    mismatched: tuple = ()

    @property
    def fits(self):
        """Every model tensor is in the checkpoint, with its shape, and the
        checkpoint holds nothing else."""
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self, limit=SHOWN_KEYS):
        """``'1 unexpected key (foo.weight), 245 missing keys (a, b, c,
        ...), 1 shape mismatch (w: checkpoint 3x3, model 4x3)'``; ``''``
        when it fits."""
        parts = []
        if self.unexpected:
            parts.append(f'{_plural(len(self.unexpected), "unexpected key")} '
                         f'({_listed(self.unexpected, limit)})')
        if self.missing:
            parts.append(f'{_plural(len(self.missing), "missing key")} '
                         f'({_listed(self.missing, limit)})')
        if self.mismatched:
            shown = [
                f'{key}: checkpoint '
                f'{"not a tensor" if ck is None else _shape(ck)}, model '
                f'{_shape(mod)}' for key, ck, mod in self.mismatched[:limit]
            ]
            more = ', ...' if len(self.mismatched) > limit else ''
            count = _plural(len(self.mismatched), 'shape mismatch',
                            'shape mismatches')
            parts.append(f'{count} ({", ".join(shown)}{more})')
        return ', '.join(parts)


def _name(filename):
    return '<state dict>' if filename is None else str(filename)


def summary_line(report, filename=None):
    """One line for logs: ``'N tensors loaded, M missing, K unexpected, S
    shape-mismatched, from FILE'``."""
    return (f'{_plural(len(report.loaded), "tensor")} loaded, '
            f'{len(report.missing)} missing, {len(report.unexpected)} '
            f'unexpected, {len(report.mismatched)} shape-mismatched, from '
            f'{_name(filename)}')


def mismatch_message(report, filename=None):
    """``'checkpoint "FILE" does not fit the model: ...'``."""
    return (f'checkpoint "{_name(filename)}" does not fit the model: '
            f'{report.describe()}')


def read_checkpoint(filename, map_location='cpu', logger=None):
    """The checkpoint ``filename`` as mmengine reads it
    (``CheckpointLoader``: local files go through the compat layer's safe
    loader, see :mod:`sgdc_mmseg.compat.checkpoint`)."""
    from mmengine.runner.checkpoint import _load_checkpoint
    return _load_checkpoint(str(filename), map_location=map_location,
                            logger=logger)


def checkpoint_state_dict(checkpoint, revise_keys=DEFAULT_REVISE_KEYS,
                          filename=None):
    """The weights of ``checkpoint`` with ``revise_keys`` applied, as
    mmengine's ``_load_checkpoint_to_model`` takes them (``state_dict``
    entry, else the dict itself). The result keeps the source's
    ``_metadata`` (module versions for ``_load_from_state_dict``).

    Raises:
        CheckpointMismatchError: ``checkpoint`` (or its ``state_dict``) is
            not a dict.
    """
    state_dict = checkpoint
    if isinstance(checkpoint, dict) and 'state_dict' in checkpoint:
        state_dict = checkpoint['state_dict']
    if not isinstance(state_dict, dict):
        where = 'its "state_dict" entry is' if state_dict is not checkpoint \
            else 'it holds'
        raise CheckpointMismatchError(
            f'checkpoint "{_name(filename)}" has no state dict: {where} a '
            f'{type(state_dict).__name__}, not a dict of tensors',
            filename=filename)
    metadata = getattr(state_dict, '_metadata', None)
    revised = OrderedDict(state_dict)
    for pattern, replacement in revise_keys or ():
        revised = OrderedDict(
            (re.sub(pattern, replacement, k), v) for k, v in revised.items())
    if metadata is not None:
        revised._metadata = metadata
    return revised


def unwrap_model(model):
    """The module that receives the weights: ``.module`` of model wrappers
    and of ``BaseTTAModel`` (repeatedly)."""
    from mmengine.model import BaseTTAModel, is_model_wrapper
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def _fits(model_value, ckpt_value):
    if not hasattr(model_value, 'shape'):  # e.g. _extra_state
        return True
    if not hasattr(ckpt_value, 'shape'):
        return False
    m, c = tuple(model_value.shape), tuple(ckpt_value.shape)
    return m == c or (m == () and c == (1, ))


def compare_weights(model, checkpoint, revise_keys=DEFAULT_REVISE_KEYS,
                    filename=None):
    """Compare ``model`` with the weights of ``checkpoint`` (a checkpoint
    dict or a state dict); nothing is loaded.

    Returns:
        WeightsReport
    """
    state_dict = checkpoint_state_dict(checkpoint, revise_keys, filename)
    expected = unwrap_model(model).state_dict()
    loaded, missing, mismatched = [], [], []
    for key, value in expected.items():
        if key not in state_dict:
            if not key.endswith('num_batches_tracked'):
                missing.append(key)
        elif _fits(value, state_dict[key]):
            loaded.append(key)
        else:
            ck = state_dict[key]
            mismatched.append(
                (key, tuple(ck.shape) if hasattr(ck, 'shape') else None,
                 tuple(value.shape)))
    unexpected = [key for key in state_dict if key not in expected]
    return WeightsReport(tuple(loaded), tuple(missing), tuple(unexpected),
                         tuple(mismatched))


def _log(message, logger, level):
    from mmengine.logging import print_log
    print_log(message, logger=logger, level=level)


def load_weights(model, checkpoint, strict=True, filename=None,
                 revise_keys=DEFAULT_REVISE_KEYS, logger='current',
                 map_location='cpu'):
    """Load ``checkpoint`` into ``model`` (or its ``.module``, see
    :func:`unwrap_model`).

    Args:
        model (nn.Module): the model.
        checkpoint (str | dict): a checkpoint file (read with
            :func:`read_checkpoint`) or an already read checkpoint / state
            dict.
        strict (bool): raise when the checkpoint does not fit; otherwise load
            the tensors that fit and log a warning saying what did not.
        filename (str, optional): the file's name for messages (default:
            ``checkpoint`` when it is a path).
        revise_keys: ``(pattern, replacement)`` applied to the keys, as in
            mmengine (default: strip a leading ``module.``).
        logger: where the summary goes (``print_log``'s ``logger``).
        map_location: for reading a file.

    Returns:
        WeightsReport: what was loaded (logged as :func:`summary_line` at
        INFO level).

    Raises:
        CheckpointMismatchError: ``strict`` and the checkpoint does not fit
            (nothing is loaded), or the checkpoint holds no state dict.
    """
    if isinstance(checkpoint, str) or hasattr(checkpoint, '__fspath__'):
        filename = str(checkpoint) if filename is None else filename
        checkpoint = read_checkpoint(checkpoint, map_location=map_location)
    state_dict = checkpoint_state_dict(checkpoint, revise_keys, filename)
    report = compare_weights(model, state_dict, revise_keys=(),
                             filename=filename)
    if not report.fits:
        message = mismatch_message(report, filename)
        if strict:
            raise CheckpointMismatchError(message, filename, report)
        _log(f'{message}; non-strict loading: only the '
             f'{_plural(len(report.loaded), "tensor")} that fit are loaded, '
             'the rest of the model keeps its current values', logger,
             logging.WARNING)
    fitting = OrderedDict((k, state_dict[k]) for k in report.loaded)
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        fitting._metadata = metadata
    # the check above replaces torch's: strict=False only tolerates the keys
    # left out here (missing num_batches_tracked, unfitting tensors)
    unwrap_model(model).load_state_dict(fitting, strict=False)
    _log(summary_line(report, filename), logger, logging.INFO)
    return report


def _dataset_cfgs(cfg):
    """``(where, dataset cfg)`` of the test, val and train data loaders,
    through dataset wrappers (``dataset``, first of ``datasets``)."""
    for split in ('test', 'val', 'train'):
        loader = cfg.get(f'{split}_dataloader', None) or {}
        dataset = loader.get('dataset', None) if hasattr(loader, 'get') \
            else None
        while hasattr(dataset, 'get') and 'metainfo' not in dataset and (
                dataset.get('dataset', None) or dataset.get('datasets', None)):
            inner = dataset.get('dataset', None)
            dataset = inner if inner is not None else dataset['datasets'][0]
        if hasattr(dataset, 'get'):
            yield f'{split}_dataloader', dataset


def dataset_meta_from_config(cfg):
    """Class names (and palette) of the first dataset of ``cfg``'s test,
    val or train data loader that names classes: its ``metainfo`` over its
    class's ``METAINFO``. The dataset is not built (no files are read).

    Returns:
        tuple[dict | None, str | None]: ``dict(classes=..., palette=...)``
        (palette only when given) and where it came from (e.g.
        ``'test_dataloader dataset (BaseSegDataset)'``), or ``(None,
        None)``.
    """
    from mmseg.registry import DATASETS
    for where, dataset in _dataset_cfgs(cfg):
        kind = dataset.get('type', None)
        cls = kind if isinstance(kind, type) else (
            DATASETS.get(kind) if isinstance(kind, str) else None)
        meta = dict(getattr(cls, 'METAINFO', None) or {})
        meta.update(dataset.get('metainfo', None) or {})
        if meta.get('classes', None):
            name = getattr(cls, '__name__', None) or str(kind)
            out = dict(classes=tuple(meta['classes']))
            if meta.get('palette', None):
                out['palette'] = [list(c) for c in meta['palette']]
            return out, f'{where} dataset ({name})'
    return None, None
