"""Ensembles, flip test-time augmentation and post-processing of a
segmentor's predictions, averaged in probability space.

:class:`EnsembleSegmentor` (registered in mmseg's ``MODELS``) wraps the
models of one config: ``module`` (loaded by mmengine's Runner, or given)
and one more copy per further checkpoint. Its ``test_step`` is what the
Runner's test loop and ``tools/infer.py`` call:

1. the views of the batch: the batch itself; or, with ``views=True``, the
   views a TTA pipeline made (``tools/test.py --tta``: the config's
   ``tta_pipeline``, split as mmengine's ``BaseTTAModel`` splits them); or,
   with ``flip=True``, the batch and its horizontal and vertical flips
   (``tools/infer.py --tta``: the input images are flipped before the data
   preprocessor, with ``flip``/``flip_direction`` set in the samples'
   metainfo, so mmseg's ``postprocess_result`` flips the logits back);
2. every member's ``test_step`` on every view: class probabilities at the
   original image size (:func:`~sgdc_mmseg.apis.probabilities.
   probabilities_from_sample`: softmax per model, ``[1 - p, p]`` for a
   sigmoid model);
3. the mean over all views and members (every member sees the same views,
   so this is the mean over members of each member's TTA mean);
4. the label map: argmax, or for a single-logit model ``p > threshold`` of
   the first member's decode head (as mmseg's ``SegTTAModel.merge_preds``);
5. the post-processing spec, if any
   (:func:`~sgdc_mmseg.evaluation.functional.postprocess.
   apply_postprocessing`), on the label map only.

The returned samples are those of the first view (ground truth, image path
and the pipeline's extra fields as loaded without flips) with
``pred_sem_seg`` the label map and ``seg_logits`` the averaged
probabilities as logits mmseg's conventions read back exactly: ``log p``
for a softmax model (its softmax is ``p``), ``p`` itself for a single-logit
model (mmseg stores the sigmoid probability there).

Members must come from the same config (same classes and output layout);
the further checkpoints are loaded by :meth:`EnsembleSegmentor.
load_checkpoints` through :func:`sgdc_mmseg.engine.weights.load_weights`
(strict: a checkpoint of another model is an error naming it).
"""
import copy

import torch.nn as nn
from mmengine.model import BaseTTAModel
from mmseg.registry import MODELS

from .probabilities import probabilities_from_sample, set_prediction

#: Directions of the flip views (``flip=True``), after the original view.
FLIP_DIRECTIONS = ('horizontal', 'vertical')


def flip_views(data, directions=FLIP_DIRECTIONS):
    """``[data] + [data flipped in each direction]``: the inputs (``C x H x
    W`` tensors, before the data preprocessor) flipped, the data samples
    deep-copied with ``flip=True`` and ``flip_direction`` in their
    metainfo."""
    views = [data]
    for direction in directions:
        dim = -1 if direction == 'horizontal' else -2
        samples = []
        for sample in data['data_samples']:
            sample = copy.deepcopy(sample)
            sample.set_metainfo(dict(flip=True, flip_direction=direction))
            samples.append(sample)
        views.append(dict(data, inputs=[x.flip(dim) for x in data['inputs']],
                          data_samples=samples))
    return views


def split_views(data):
    """The views of a TTA batch (dict of lists of views, or list of such
    lists), split as mmengine's ``BaseTTAModel.test_step``."""
    if isinstance(data, dict):
        num = len(data[next(iter(data))])
        return [{k: v[i] for k, v in data.items()} for i in range(num)]
    if isinstance(data, (list, tuple)):
        return [[d[i] for d in data] for i in range(len(data[0]))]
    raise TypeError(f'a TTA batch is a dict or a list, got {type(data)}')


def _out_channels(model):
    head = getattr(model, 'decode_head', None)
    if isinstance(head, nn.ModuleList):
        head = head[-1]
    return getattr(model, 'out_channels', None) or getattr(
        head, 'out_channels', None)


@MODELS.register_module()
class EnsembleSegmentor(BaseTTAModel):
    """The mean class probabilities of several models and views (see the
    module docstring).

    Args:
        module (dict | nn.Module): the first model (its config or the
            model); mmengine's checkpoint loading puts ``load_from`` into it
            (:func:`sgdc_mmseg.engine.weights.unwrap_model` unwraps
            ``BaseTTAModel``).
        checkpoints (Sequence[str]): further checkpoints; one copy of
            ``module``'s config is built for each (loaded later by
            :meth:`load_checkpoints`). Only with a config ``module``.
        members (Sequence[nn.Module]): further models already loaded
            (instead of ``checkpoints``).
        views (bool): the batches hold TTA views (a ``tta_pipeline``).
        flip (bool): make the flip views here (see :func:`flip_views`).
        postprocess (dict | None): a post-processing spec for the label
            map.
        data_preprocessor: unused (each member preprocesses its views).
    """

    def __init__(self, module, checkpoints=(), members=(), views=False,
                 flip=False, postprocess=None, data_preprocessor=None):
        module_cfg = copy.deepcopy(module) if isinstance(module, dict) \
            else None
        super().__init__(module)
        if views and flip:
            raise ValueError('views (a TTA pipeline) and flip are exclusive')
        if checkpoints and module_cfg is None:
            raise ValueError('checkpoints need module given as a config')
        extra = list(members)
        for _ in checkpoints:
            extra.append(MODELS.build(copy.deepcopy(module_cfg)))
        self.extra_members = nn.ModuleList(extra)
        self.checkpoints = [str(c) for c in checkpoints]
        self.views = bool(views)
        self.flip = bool(flip)
        self.postprocess = postprocess
        channels = [_out_channels(m) for m in self.members]
        if len(set(channels)) > 1:
            raise ValueError('the ensemble members have different numbers of '
                             f'output channels: {channels}')
        self.threshold = None
        if channels[0] == 1:
            head = self.module.decode_head
            head = head[-1] if isinstance(head, nn.ModuleList) else head
            self.threshold = float(head.threshold)

    @property
    def members(self):
        """The first model and the further ones."""
        return [self.module] + list(self.extra_members)

    def load_checkpoints(self, strict=True, logger='current'):
        """Load ``checkpoints`` into the further members (built from the
        config) with :func:`~sgdc_mmseg.engine.weights.load_weights`.

        Raises:
            CheckpointMismatchError: ``strict`` and a checkpoint does not
                fit (its file named).
        """
        from ..engine.weights import load_weights
        offset = len(self.extra_members) - len(self.checkpoints)
        for i, ckpt in enumerate(self.checkpoints):
            load_weights(self.extra_members[offset + i], ckpt, strict=strict,
                         filename=ckpt, logger=logger)

    def _views(self, data):
        if self.views:
            return split_views(data)
        if self.flip:
            return flip_views(data)
        return [data]

    def mean_probabilities(self, data):
        """``(samples of the first view, [mean probabilities (C, H, W)]
        per image)``."""
        total, count, first = None, 0, None
        for view in self._views(data):
            for member in self.members:
                samples = member.test_step(view)
                probs = [probabilities_from_sample(s) for s in samples]
                total = probs if total is None else \
                    [t + p for t, p in zip(total, probs)]
                count += 1
            if first is None:
                first = samples
        return first, [t / count for t in total]

    def test_step(self, data):
        samples, mean = self.mean_probabilities(data)
        for sample, probs in zip(samples, mean):
            set_prediction(sample, probs, self.threshold, self.postprocess)
        return samples

    def merge_preds(self, data_samples_list):  # pragma: no cover
        raise NotImplementedError('EnsembleSegmentor merges in test_step')


__all__ = ['EnsembleSegmentor', 'FLIP_DIRECTIONS', 'flip_views',
           'split_views']
