"""Inference on image files with a trained segmentor, and what its SGE sees.

The library behind ``tools/infer.py`` and
``tools/analysis/worst_cases.py``:

* :func:`collect_images` turns image paths, folders and globs into a list of
  files (clear errors for inputs that match nothing).
* :func:`load_segmentor` builds the model from a config with mmseg's
  ``init_model`` and loads a checkpoint strictly through
  :func:`sgdc_mmseg.engine.load_weights` (the compat layer reads it with
  ``weights_only``); a checkpoint that does not fit is an error.
* :func:`build_inference_pipeline` is the config's ``test_pipeline`` without
  ``LoadAnnotations``, optionally with a ``Resize`` to the training size
  (``resize='auto'``, see there), so images of any size can be fed.
* :class:`StructureInferencer` runs that pipeline and the model in batches
  and returns, per image, the prediction at the original size and, on
  request, the SGE boundary probability and a picture of the guidance map,
  also at the original size. Images that cannot be read are returned as
  errors, not raised, so one bad file does not stop a folder.
* :func:`save_result` writes ``masks/``, ``overlays/``, ``edges/`` and
  ``guidance/`` PNGs (and ``probs/`` ``.npz`` files) named after the
  image's stem.
"""
import copy
import os
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np
import torch
import torch.nn as nn

from ..engine.launch import config_type_name
from ..visualization import (edge_to_uint8, foreground_ids, guidance_to_rgb,
                             overlay_mask, resolve_palette)
from .outputs import (OutputRecord, check_output_dir, image_input_dirs,
                      prepare_output_dir)

#: File name endings (lower case) taken from folders and globs.
IMAGE_EXTENSIONS = ('.bmp', '.dib', '.jpeg', '.jpg', '.jpe', '.jp2', '.png',
                    '.webp', '.pbm', '.pgm', '.ppm', '.tif', '.tiff')
#: Transforms that change the image size (a test pipeline with one of them is
#: used as is by ``resize='auto'``; a train pipeline with one of them means
#: the model did not see images at ``crop_size`` as stored).
RESIZING_TRANSFORMS = ('Resize', 'RandomResize', 'RandomChoiceResize',
                       'ResizeShortestEdge', 'ResizeToMultiple', 'RandomCrop',
                       'RandomRescale', 'RandomRotFlip', 'RandomMosaic')
OUTPUT_FOLDERS = dict(mask='masks', overlay='overlays', edge='edges',
                      guidance='guidance', probs='probs')
#: File name endings of the output kinds (default ``.png``).
OUTPUT_SUFFIXES = dict(probs='.npz')


class ImageLoadError(RuntimeError):
    """An input could not be read or prepared by the pipeline."""


def _is_glob(spec):
    return any(ch in spec for ch in '*?[')


def _is_image_name(name):
    return name.lower().endswith(IMAGE_EXTENSIONS)


def collect_images(inputs, recursive=False):
    """Image files named by ``inputs``.

    Args:
        inputs (str | Sequence[str]): image files (taken whatever their
            name), folders (their files with an image extension, see
            :data:`IMAGE_EXTENSIONS`, sub-folders too when ``recursive``) or
            glob patterns (``**`` allowed; matched files with an image
            extension).
        recursive (bool): descend into sub-folders of folder inputs.

    Returns:
        tuple[list[str], list[str]]: the image files (sorted per input,
        duplicates removed) and the files of folders/globs that were skipped
        because their extension is not an image one.

    Raises:
        FileNotFoundError: an input does not exist, or a folder/glob yields
            no image file.
        ValueError: two images share a stem (outputs are named after it).
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    files, skipped = [], []
    for spec in map(str, inputs):
        if osp.isfile(spec):
            files.append(spec)
            continue
        if osp.isdir(spec):
            if recursive:
                found = [osp.join(root, name)
                         for root, _, names in os.walk(spec)
                         for name in names]
            else:
                found = [osp.join(spec, name) for name in os.listdir(spec)
                         if osp.isfile(osp.join(spec, name))]
            what = f'folder "{spec}"'
        elif _is_glob(spec):
            import glob
            found = [p for p in glob.glob(spec, recursive=True)
                     if osp.isfile(p)]
            what = f'pattern "{spec}"'
        else:
            raise FileNotFoundError(f'input "{spec}" does not exist')
        images = sorted(p for p in found if _is_image_name(p))
        others = sorted(p for p in found if not _is_image_name(p))
        if not images:
            extra = f' ({len(others)} other files there)' if others else ''
            raise FileNotFoundError(
                f'no image files in {what}{extra}; looked for '
                f'{", ".join(IMAGE_EXTENSIONS)}')
        files.extend(images)
        skipped.extend(others)
    unique, seen = [], set()
    for path in files:
        key = osp.abspath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    by_stem = OrderedDict()
    for path in unique:
        by_stem.setdefault(_stem(path), []).append(path)
    clashes = {s: p for s, p in by_stem.items() if len(p) > 1}
    if clashes:
        listed = '; '.join(f'{s}: {", ".join(p)}' for s, p in clashes.items())
        raise ValueError('outputs are named after the image stem, but '
                         f'these inputs share one: {listed}')
    return unique, skipped


def _stem(path):
    return osp.splitext(osp.basename(path))[0]


def resolve_device(device=None):
    """``None``/``'auto'`` -> ``'cuda:0'`` when available, else ``'cpu'``;
    a CUDA device without CUDA raises a clear error."""
    if device in (None, 'auto'):
        return 'cuda:0' if torch.cuda.is_available() else 'cpu'
    if str(device).startswith('cuda') and not torch.cuda.is_available():
        raise RuntimeError(f'device "{device}" requested but CUDA is not '
                           'available here; use --device cpu')
    return str(device)


def load_segmentor(config, checkpoint, device='cpu', cfg_options=None,
                   strict=True):
    """Build a segmentor from ``config`` and load ``checkpoint``.

    The model is built as mmseg's ``init_model`` builds it (eval mode on
    ``device``, ``model.cfg`` set, no pretrained/init weights). The
    checkpoint (read through the compat layer with ``weights_only``; an
    mmengine checkpoint or a bare state dict) must fit the model: with
    ``strict`` a missing, unexpected or differently shaped tensor raises
    :class:`~sgdc_mmseg.engine.weights.CheckpointMismatchError` naming the
    file and the keys; with ``strict=False`` what fits is loaded and a
    warning says what did not (see :mod:`sgdc_mmseg.engine.weights`).

    ``model.dataset_meta`` comes from the checkpoint's ``meta``
    (``dataset_meta``, or the old ``CLASSES``/``PALETTE``); a checkpoint
    without them gets the classes of the config's dataset (test, else val,
    else train loader), which is logged. Without either it is not set
    (classes are then named ``class_<i>`` by the inferencer).
    """
    import logging

    import sgdc_mmseg  # noqa: F401  (compat layer before mmseg.apis)
    from mmengine.config import Config
    from mmengine.logging import print_log
    from mmseg.apis import init_model

    from ..engine.weights import (dataset_meta_from_config, load_weights,
                                  read_checkpoint)

    if isinstance(config, (str, os.PathLike)):
        if not osp.isfile(config):
            raise FileNotFoundError(f'config "{config}" not found')
        config = Config.fromfile(str(config))
    if checkpoint is not None and '://' not in str(checkpoint) and \
            not osp.isfile(osp.expanduser(str(checkpoint))):
        raise FileNotFoundError(f'checkpoint "{checkpoint}" not found')
    device = resolve_device(device)
    model = init_model(config, None, device=device, cfg_options=cfg_options)
    if checkpoint is None:
        return model
    filename = str(checkpoint)
    ckpt = read_checkpoint(osp.expanduser(filename), map_location='cpu')
    load_weights(model, ckpt, strict=strict, filename=filename)
    meta = ckpt.get('meta', None) if isinstance(ckpt, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    if meta.get('dataset_meta', None):
        model.dataset_meta = meta['dataset_meta']
    elif 'CLASSES' in meta:  # mmseg < 1.x
        model.dataset_meta = dict(classes=meta['CLASSES'],
                                  palette=meta.get('PALETTE', None))
    else:
        dataset_meta, where = dataset_meta_from_config(model.cfg)
        if dataset_meta is not None:
            model.dataset_meta = dataset_meta
            print_log(
                f'checkpoint "{filename}" has no dataset_meta: class names '
                f'taken from the config\'s {where}: '
                f'{", ".join(map(str, dataset_meta["classes"]))}',
                logger='current')
        else:
            print_log(
                f'checkpoint "{filename}" has no dataset_meta and the config '
                'names no classes: classes are named class_<i>',
                logger='current', level=logging.WARNING)
    return model


def _config_pipeline(cfg, split):
    pipeline = cfg.get(f'{split}_pipeline', None)
    if pipeline is None:
        loader = cfg.get(f'{split}_dataloader', None) or {}
        pipeline = (loader.get('dataset', None) or {}).get('pipeline', None)
    return pipeline


def _parse_scale(resize):
    """``'WxH'`` -> ``(W, H)``."""
    parts = str(resize).lower().split('x')
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        w = h = 0
    if len(parts) != 2 or w <= 0 or h <= 0:
        raise ValueError(f'resize must be "auto", "none" or WIDTHxHEIGHT '
                         f'(e.g. 256x192), got {resize!r}')
    return w, h


def _auto_scale(cfg, test_names):
    """``(W, H)`` to resize inputs to, or None, and a sentence why."""
    if any(n in RESIZING_TRANSFORMS for n in test_names):
        return None, 'the test pipeline resizes images itself'
    test_cfg = (cfg.get('model', None) or {}).get('test_cfg', None) or {}
    if test_cfg.get('mode', 'whole') != 'whole':
        return None, (f"test_cfg.mode is {test_cfg.get('mode')!r}: images "
                      'are used at their own size')
    train = _config_pipeline(cfg, 'train') or []
    resizing = [n for n in map(config_type_name, train)
                if n in RESIZING_TRANSFORMS]
    if resizing:
        return None, ('the train pipeline resizes/crops '
                      f'({", ".join(resizing)}): images are used at their '
                      'own size')
    size = cfg.get('crop_size', None)
    if size is None:
        size = ((cfg.get('model', None) or {}).get('data_preprocessor', None)
                or {}).get('size', None)
    if size is None or len(size) != 2:
        return None, 'no crop_size in the config: images are used at their ' \
            'own size'
    h, w = (int(v) for v in size)
    return (w, h), (f'the model was trained on {w}x{h} (WxH) images: inputs '
                    'are resized to that size (as the training data were) '
                    'and predictions resized back')


#: Transforms that read annotation files (an unlabelled image has none):
#: dropped from the inference pipeline.
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadFOV', 'LoadInstances')
#: Packers that also pack an annotation field: replaced by PackSegInputs.
FIELD_PACKERS = ('PackSegInputsWithFOV', 'PackSegInputsWithInstances')


def build_inference_pipeline(cfg, resize='auto'):
    """The config's test pipeline for unlabelled images.

    The annotation loaders (:data:`ANNOTATION_LOADERS`: ground truth, the
    DRIVE field of view, MoNuSeg instances) are dropped and the packers of
    those fields (:data:`FIELD_PACKERS`) become ``PackSegInputs``.
    ``resize``:

    * ``'auto'``: when the test pipeline has no resizing step, the test mode
      is ``'whole'`` and the train pipeline neither resizes nor crops (the
      model saw images at ``crop_size``, as in the lesion configs whose data
      were squashed to that size offline), a ``Resize(scale=(W, H),
      keep_ratio=False)`` to ``crop_size`` follows the loader, mirroring how
      the training data were made (the configs that resize online do the
      same with ``keep_ratio=False``); otherwise the pipeline is used as is.
    * ``'none'``: as is (images at their own size).
    * ``'WxH'``: that ``Resize`` to ``(W, H)``.

    Predictions are resized back to the original size by the model either
    way.

    Returns:
        tuple[list[dict], str]: the pipeline and a sentence on the resizing.
    """
    pipeline = _config_pipeline(cfg, 'test')
    if not pipeline:
        raise ValueError('the config has no test_pipeline (nor '
                         'test_dataloader.dataset.pipeline)')
    pipeline = [copy.deepcopy(t) for t in pipeline
                if config_type_name(t) not in ANNOTATION_LOADERS]
    for t in pipeline:
        if config_type_name(t) in FIELD_PACKERS:
            t['type'] = 'PackSegInputs'
    names = [config_type_name(t) for t in pipeline]
    if 'TestTimeAug' in names:
        raise ValueError('the test pipeline uses TestTimeAug; inference needs '
                         'a plain one (set test_pipeline in the config)')
    if not pipeline or names[-1] != 'PackSegInputs':
        raise ValueError('the test pipeline must load an image first and end '
                         f'with PackSegInputs, got {names}')
    if resize in (None, 'none'):
        scale, note = None, 'images are used at their own size (--resize none)'
    elif resize == 'auto':
        scale, note = _auto_scale(cfg, names)
    else:
        scale = _parse_scale(resize)
        note = (f'inputs are resized to {scale[0]}x{scale[1]} (WxH) and '
                'predictions resized back')
    if scale is not None:
        pipeline.insert(1, dict(type='Resize', scale=scale, keep_ratio=False))
    return pipeline, note


@dataclass
class InferenceResult:
    """What :class:`StructureInferencer` returns for one image.

    Attributes:
        item (dict): the input (``img_path`` and, from a dataset, its data
            info).
        image (np.ndarray): the image as loaded (BGR, original size).
        pred (np.ndarray): class ids ``HxW`` (int64), original size.
        edge (np.ndarray | None): SGE boundary probability ``HxW`` float32.
        guidance (np.ndarray | None): guidance picture ``HxWx3`` RGB uint8
            (see :func:`~sgdc_mmseg.visualization.guidance_to_rgb`).
        gt (np.ndarray | None): ground truth ``HxW`` when the pipeline loads
            annotations.
        probs (np.ndarray | None): class probabilities ``(C, H, W)``
            float16 at the original size (``with_probs``, see
            :mod:`sgdc_mmseg.apis.probabilities`).
    """
    item: dict
    image: np.ndarray
    pred: np.ndarray
    edge: Optional[np.ndarray] = None
    guidance: Optional[np.ndarray] = None
    gt: Optional[np.ndarray] = None
    probs: Optional[np.ndarray] = None

    @property
    def img_path(self):
        return self.item.get('img_path')

    @property
    def stem(self):
        return _stem(self.img_path)


class StructureInferencer:
    """Batched inference with SGE edge and guidance maps.

    Args:
        model (nn.Module): a segmentor from :func:`load_segmentor` (mmseg
            ``EncoderDecoder`` family, eval mode, ``model.cfg`` set).
        pipeline (list[dict], optional): transforms; the first one loads the
            image (its ``img`` is kept for the overlays). Default:
            :func:`build_inference_pipeline` of ``model.cfg`` with
            ``resize``.
        resize (str): see :func:`build_inference_pipeline`.
        with_structure (bool): also return the SGE edge probability and the
            guidance picture. The edge comes from the decode head's SGE
            (:meth:`SGDCHead.forward_with_structure`) or else from an
            ``SGEHead`` auxiliary head; guidance exists only for
            ``kernel_source='structure'``.
        segmentor (EnsembleSegmentor, optional): segments instead of
            ``model`` (ensembles, flip TTA, post-processing; ``model`` is
            its first member and still gives the SGE maps, from the
            original view only).
        with_probs (bool): also return the class probabilities.

    Segmentation goes through mmseg's own path (``model.predict``, or the
    ``segmentor``'s ``test_step``); with ``with_structure`` and
    ``test_cfg.mode='whole'`` (and no ``segmentor``) the features are
    computed once and the prediction is the same as ``model.predict``'s.
    """

    def __init__(self, model, pipeline=None, resize='auto',
                 with_structure=False, segmentor=None, with_probs=False):
        from mmseg.registry import TRANSFORMS
        self.model = model
        self.resize_note = None
        if pipeline is None:
            pipeline, self.resize_note = build_inference_pipeline(
                model.cfg, resize)
        self.pipeline_cfg = pipeline
        self.transforms = [TRANSFORMS.build(copy.deepcopy(t))
                           for t in pipeline]
        self.with_structure = bool(with_structure)
        head = getattr(model, 'decode_head', None)
        self._head = head if hasattr(head, 'forward_with_structure') else None
        self._head_sge = self._head is not None and \
            getattr(self._head, 'sge', None) is not None
        self._aux_sge = self._find_aux_sge(model)
        if self.with_structure and not (self._head_sge or self._aux_sge):
            raise ValueError(
                'edge maps need an SGE in the model: the decode head '
                f'({type(head).__name__}) has no sge and there is no SGEHead '
                'auxiliary head')
        self.has_guidance = self.with_structure and self._head_sge and \
            self._head.kernel_source == 'structure'
        test_cfg = getattr(model, 'test_cfg', None) or {}
        self.segmentor = segmentor
        self.with_probs = bool(with_probs)
        self._single_pass = (
            segmentor is None and self.with_structure
            and test_cfg.get('mode', 'whole') == 'whole'
            and hasattr(model, 'extract_feat') and head is not None
            and not isinstance(head, nn.ModuleList))
        num_classes = getattr(head, 'num_classes', None)
        if isinstance(head, nn.ModuleList):
            num_classes = head[-1].num_classes
        self.classes, self.palette = resolve_palette(
            getattr(model, 'dataset_meta', None), num_classes)
        self.draw_ids = foreground_ids(self.classes)

    @staticmethod
    def _find_aux_sge(model):
        from ..models.decode_heads import SGEHead
        aux = getattr(model, 'auxiliary_head', None)
        heads = list(aux) if isinstance(aux, nn.ModuleList) else [aux]
        for h in heads:
            if isinstance(h, SGEHead):
                return h
        return None

    # -- loading ---------------------------------------------------------
    def load(self, item):
        """Run the pipeline on ``item`` (a dict with ``img_path``, or a
        path).

        Returns:
            tuple[dict, np.ndarray]: the packed sample and the loaded image.

        Raises:
            ImageLoadError: the file cannot be read or a transform fails.
        """
        if not isinstance(item, dict):
            item = dict(img_path=str(item))
        path = item.get('img_path')
        if path is not None and '://' not in str(path):
            if not osp.isfile(path):
                raise ImageLoadError('cannot read image: file not found')
            if osp.getsize(path) == 0:
                raise ImageLoadError('cannot read image: the file is empty')
        results = copy.deepcopy(item)
        try:
            results = self.transforms[0](results)
        except Exception as e:  # noqa: BLE001 (reported per image)
            reason = _reason(e).replace(f': {path}', '')
            raise ImageLoadError('cannot read image: not a valid or complete '
                                 f'image file ({reason})') from e
        if results is None or results.get('img', None) is None:
            raise ImageLoadError('cannot read image (the loader returned '
                                 'nothing)')
        image = results['img'].copy()
        for t in self.transforms[1:]:
            try:
                results = t(results)
            except Exception as e:  # noqa: BLE001
                raise ImageLoadError(
                    f'{type(t).__name__} failed: {_reason(e)}') from e
            if results is None:
                raise ImageLoadError(f'{type(t).__name__} dropped {path}')
        return results, image

    # -- the model -------------------------------------------------------
    def _structure_from_feats(self, feats):
        out = self._head.forward_with_structure(feats) if self._head_sge \
            else {}
        edge = out.get('edge_logits', None)
        if edge is None and self._aux_sge is not None:
            edge = self._aux_sge(feats)[0]
        return edge, out.get('guidance', None)

    def _restore(self, t, meta, input_shape):
        """Map ``[1, C, h, w]`` at feature resolution to the original image:
        as mmseg's ``postprocess_result`` (padding, flip, size)."""
        from mmseg.models.utils import resize
        align = getattr(self.model, 'align_corners', False)
        t = resize(t, size=tuple(input_shape), mode='bilinear',
                   align_corners=align)
        h, w = input_shape
        pad = meta.get('img_padding_size', meta.get('padding_size', None)) \
            or [0, 0, 0, 0]
        left, right, top, bottom = pad
        t = t[:, :, top:h - bottom, left:w - right]
        if meta.get('flip', None):
            direction = meta.get('flip_direction', None)
            t = t.flip(dims=(3, ) if direction == 'horizontal' else (2, ))
        return resize(t, size=tuple(meta['ori_shape'][:2]), mode='bilinear',
                      align_corners=align, warning=False)

    @torch.no_grad()
    def predict(self, batch):
        """Predict packed samples of equal input size.

        Args:
            batch (list[tuple[dict, np.ndarray, dict]]): (packed sample,
                loaded image, item) triples.

        Returns:
            list[InferenceResult]
        """
        model = self.model
        raw = dict(inputs=[b[0]['inputs'] for b in batch],
                   data_samples=[b[0]['data_samples'] for b in batch])
        data = model.data_preprocessor(dict(raw), False)
        inputs, samples = data['inputs'], data['data_samples']
        edge = guidance = None
        if self.segmentor is not None:
            samples = self.segmentor.test_step(raw)
            if self.with_structure:
                edge, guidance = self._structure_from_feats(
                    model.extract_feat(inputs))
        elif self._single_pass:
            feats = model.extract_feat(inputs)
            metas = [s.metainfo for s in samples]
            if self._head is not None:
                out = self._head.forward_with_structure(feats)
                seg_logits = self._head.predict_by_feat(out['seg_logits'],
                                                        metas)
                edge, guidance = out['edge_logits'], out['guidance']
            else:
                seg_logits = model.decode_head.predict(feats, metas,
                                                       model.test_cfg)
            if edge is None:  # the SGE is an auxiliary head
                edge = self._aux_sge(feats)[0]
            samples = model.postprocess_result(seg_logits, samples)
        else:
            samples = model.predict(inputs, samples)
            if self.with_structure:
                edge, guidance = self._structure_from_feats(
                    model.extract_feat(inputs))
        results = []
        input_shape = inputs.shape[2:]
        for i, ((_, image, item), sample) in enumerate(zip(batch, samples)):
            meta = sample.metainfo
            res = InferenceResult(
                item=item, image=image,
                pred=sample.pred_sem_seg.data[0].long().cpu().numpy())
            if 'gt_sem_seg' in sample:
                res.gt = sample.gt_sem_seg.data[0].cpu().numpy()
            if self.with_probs:
                from .probabilities import (probabilities_from_sample,
                                            probs_array)
                res.probs = probs_array(probabilities_from_sample(sample))
            if edge is not None:
                prob = self._restore(edge[i:i + 1].float(), meta,
                                     input_shape).sigmoid()
                res.edge = prob[0, 0].cpu().numpy().astype(np.float32)
            if guidance is not None and self.has_guidance:
                rgb = guidance_to_rgb(guidance[i].float())[None]
                rgb = self._restore(rgb, meta, input_shape)[0].clamp(0, 1)
                res.guidance = np.round(
                    rgb.permute(1, 2, 0).cpu().numpy() * 255).astype(np.uint8)
            results.append(res)
        return results

    def run(self, items, batch_size=1, progress=False):
        """Predict every item; yields ``(item, InferenceResult)`` or
        ``(item, Exception)`` for an item that failed (the others go on).

        Items are dicts with ``img_path`` (or paths). Each group of
        ``batch_size`` items is split by input size (one forward per size);
        when a batch fails, its images are retried one by one so that only
        the culprit is reported. Results may come out of order within a
        group.
        """
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f'batch_size must be an int >= 1, got '
                             f'{batch_size!r}')
        items = [i if isinstance(i, dict) else dict(img_path=str(i))
                 for i in items]
        bar = None
        if progress:
            from mmengine.utils import ProgressBar
            bar = ProgressBar(len(items))

        def done(item, outcome):
            if bar is not None:
                bar.update()
            return item, outcome

        for start in range(0, len(items), batch_size):
            groups = OrderedDict()
            for item in items[start:start + batch_size]:
                try:
                    packed, image = self.load(item)
                except ImageLoadError as e:
                    yield done(item, e)
                    continue
                key = tuple(packed['inputs'].shape)
                groups.setdefault(key, []).append((packed, image, item))
            for group in groups.values():
                try:
                    outcomes = self.predict(group)
                except Exception as e:  # noqa: BLE001
                    if len(group) == 1:
                        outcomes = [e]
                    else:
                        outcomes = []
                        for one in group:
                            try:
                                outcomes.extend(self.predict([one]))
                            except Exception as e1:  # noqa: BLE001
                                outcomes.append(e1)
                for (_, _, item), outcome in zip(group, outcomes):
                    yield done(item, outcome)
        if bar is not None:
            bar.file.write('\n')
            bar.file.flush()


def _reason(exc):
    text = str(exc).strip() or type(exc).__name__
    return f'{type(exc).__name__}: {text}' if not isinstance(
        exc, ImageLoadError) else text


def describe_failure(exc):
    """One line for a failed item."""
    if isinstance(exc, ImageLoadError):
        return str(exc)
    return f'inference failed: {_reason(exc)}'


def check_resize(resize):
    """Raise the ``ValueError`` of :func:`build_inference_pipeline` for a
    bad ``resize`` now (before any model work); returns ``resize``."""
    if resize not in (None, 'none', 'auto'):
        _parse_scale(resize)
    return resize


def result_files(files, kinds=('mask', 'overlay')):
    """The files :func:`save_result` may write for the images ``files``:
    ``<folder>/<stem>.png`` for every kind (see :data:`OUTPUT_FOLDERS`),
    relative to the output folder."""
    return [f'{OUTPUT_FOLDERS[k]}/{_stem(f)}{OUTPUT_SUFFIXES.get(k, ".png")}'
            for f in files for k in kinds]


def prepare_outputs(out_dir, inputs, files, kinds=('mask', 'overlay'),
                    overwrite=False):
    """Check an inference run's output folder before any model work.

    In order, so that a refused run creates nothing: ``out_dir`` must not
    be, contain or lie inside an input folder (the folders given and those
    of the image files; symlinks resolved), the files the run may write
    (:func:`result_files` of ``kinds``) must not be foreign files
    (``overwrite`` allows replacing them), and ``out_dir`` and its
    sub-folders must be creatable and writable.

    Returns:
        tuple[OutputRecord, list[str]]: the record of ``out_dir`` (pass it
        to :func:`save_result` after claiming the files) and the foreign
        files that will be replaced (only with ``overwrite``).

    Raises:
        UnsafeOutputError: overlap with an input folder
            (:class:`ForeignFileError`: a foreign file).
        OutputNotWritableError: the folder cannot be created or written.
    """
    check_output_dir(out_dir, image_input_dirs(inputs, files))
    record = OutputRecord(out_dir, overwrite=overwrite)
    replaced = record.check(result_files(files, kinds))
    prepare_output_dir(out_dir, [OUTPUT_FOLDERS[k] for k in kinds])
    return record, replaced


def save_result(result, out_dir, palette, class_ids, opacity=0.4,
                record=None):
    """Write the PNGs of one image under ``out_dir``.

    ``masks/<stem>.png``: class ids (uint8; uint16 above 255 classes),
    original size. ``overlays/<stem>.png``: the image with the predicted
    regions of ``class_ids`` filled (``opacity``) and outlined.
    ``edges/<stem>.png``: SGE boundary probability * 255 (grey).
    ``guidance/<stem>.png``: the guidance picture (RGB).
    ``probs/<stem>.npz``: the class probabilities (when ``result.probs``
    is set; :mod:`sgdc_mmseg.apis.probabilities`).

    Every file is written atomically (temporary file + ``os.replace``).
    With ``record`` (an :class:`~sgdc_mmseg.apis.outputs.OutputRecord` of
    ``out_dir``) a file is recorded before it is written and a foreign file
    is not replaced (:class:`ForeignFileError`) unless the record allows
    it; without one, existing files are replaced.

    Returns:
        dict[str, str]: kind -> written path.
    """
    stem = result.stem
    written = {}
    if record is None:
        record = OutputRecord(out_dir, track=False)

    def write(kind, array):
        written[kind] = record.write_png(f'{OUTPUT_FOLDERS[kind]}/{stem}.png',
                                         array)

    pred = result.pred
    dtype = np.uint8 if pred.max(initial=0) <= 255 else np.uint16
    write('mask', pred.astype(dtype))
    write('overlay', overlay_mask(result.image, pred, palette, class_ids,
                                  alpha=opacity))
    if result.edge is not None:
        write('edge', edge_to_uint8(result.edge))
    if result.guidance is not None:
        write('guidance', np.ascontiguousarray(result.guidance[..., ::-1]))
    if result.probs is not None:
        from .probabilities import probs_bytes
        written['probs'] = record.write_bytes(
            f'{OUTPUT_FOLDERS["probs"]}/{stem}{OUTPUT_SUFFIXES["probs"]}',
            probs_bytes(result.probs))
    return written


__all__ = [
    'IMAGE_EXTENSIONS', 'ImageLoadError', 'InferenceResult',
    'StructureInferencer', 'build_inference_pipeline', 'collect_images',
    'check_resize', 'describe_failure', 'load_segmentor', 'prepare_outputs',
    'resolve_device', 'result_files', 'save_result'
]
