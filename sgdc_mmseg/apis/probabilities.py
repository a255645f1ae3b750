"""Per-image class probabilities: how they are made, written and read.

``tools/test.py --out DIR --save-probs`` and ``tools/infer.py --out-dir DIR
--save-probs`` write ``DIR/probs/<image stem>.npz`` holding one array
``probs`` (:data:`~sgdc_mmseg.evaluation.test_outputs.PROBS_KEY`):

* float16, shape ``(num_classes, H, W)`` at the original image size (the
  size of the image as loaded, whatever the pipeline resized);
* every class, background included, summing to 1 over the classes per
  pixel (within float16 rounding, :func:`sum_tolerance`);
* a softmax model: the softmax of its logits; a single-logit (sigmoid)
  model (``out_channels=1``): ``[1 - p, p]`` with ``p`` its foreground
  probability (mmseg 1.2.2 already stores ``p`` in ``seg_logits`` for such
  models, see ``BaseSegmentor.postprocess_result``);
* with ``--tta`` and/or ``--ensemble`` the mean of the views' and models'
  probabilities (what the label map is the argmax of);
* never post-processed (``--postprocess`` changes the label map only).

:func:`label_from_probs` turns them back into the label map the tools write
(argmax; for a single-logit model ``p > threshold`` as mmseg does,
:func:`decode_threshold`), so a metric run can be repeated from the files
without the model (``tools/analysis/score_probs.py``, see
:func:`sgdc_mmseg.engine.testing.run_score_probs`).
"""
import io
import os.path as osp
import zipfile

import numpy as np
from mmengine.hooks import Hook

from ..evaluation.test_outputs import PROBS_DIR_NAME, PROBS_KEY
from .outputs import atomic_write

#: mmseg's threshold of single-logit models whose decode head sets none.
MMSEG_DEFAULT_THRESHOLD = 0.3


def sum_tolerance(num_classes):
    """How far the per-pixel sum of a float16 probability file may be from
    1: each value is rounded to float16 (relative error 2**-11), so
    ``1e-3`` per class plus ``1e-3``."""
    return 1e-3 * (int(num_classes) + 1)


def probs_rel_path(stem):
    """``'probs/<stem>.npz'`` (relative to the output folder)."""
    return f'{PROBS_DIR_NAME}/{stem}.npz'


def probabilities_from_logits(seg_logits):
    """Class probabilities ``(C, H, W)`` (float32 torch tensor) of a data
    sample's ``seg_logits`` data: softmax over the classes, or for one
    channel (which mmseg already stores as the sigmoid probability ``p``)
    ``[1 - p, p]``."""
    import torch
    logits = seg_logits.float()
    if logits.ndim != 3:
        raise ValueError(f'seg_logits must be (C, H, W), got '
                         f'{tuple(logits.shape)}')
    if logits.shape[0] == 1:
        p = logits.clamp(0, 1)
        return torch.cat([1 - p, p], dim=0)
    return logits.softmax(dim=0)


def probabilities_from_sample(sample):
    """:func:`probabilities_from_logits` of a ``SegDataSample``'s
    ``seg_logits`` (``ValueError`` naming the image when it has none)."""
    logits = sample.get('seg_logits', None)
    if logits is None:
        raise ValueError(f'the prediction of {sample.get("img_path", "?")} '
                         'has no seg_logits: cannot save probabilities')
    return probabilities_from_logits(logits.data)


def probs_array(probs):
    """``probs`` (torch tensor or array, ``(C, H, W)``) as a contiguous
    float16 numpy array."""
    if hasattr(probs, 'detach'):
        probs = probs.detach().float().cpu().numpy()
    return np.ascontiguousarray(np.asarray(probs, dtype=np.float16))


def probs_bytes(probs):
    """The ``.npz`` file (compressed) of :func:`probs_array` of ``probs``
    under the key ``probs``."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **{PROBS_KEY: probs_array(probs)})
    return buf.getvalue()


def save_probs(path, probs, record=None, rel=None):
    """Write ``probs`` to the ``.npz`` file ``path`` atomically.

    With ``record`` (an :class:`~sgdc_mmseg.apis.outputs.OutputRecord`) the
    file is written as its relative name ``rel`` (recorded, foreign files
    refused); otherwise ``path`` is written directly. Returns the path.
    """
    data = probs_bytes(probs)
    if record is not None:
        return record.write_bytes(rel, data)
    atomic_write(str(path), data)
    return str(path)


def load_probs(path, num_classes=None, shape=None, check_sum=True):
    """The probability array of a ``.npz`` file, checked.

    Args:
        path (str): the file.
        num_classes (int, optional): required first dimension.
        shape (tuple, optional): required ``(H, W)``.
        check_sum (bool): require sums of 1 per pixel (within
            :func:`sum_tolerance`).

    Returns:
        np.ndarray: float16 ``(C, H, W)``.

    Raises:
        FileNotFoundError: naming the file.
        ValueError: not a ``.npz`` with one float16 ``probs`` array of the
            expected shape summing to 1 (the message names the file and
            what is wrong).
    """
    path = str(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'probability file "{path}" not found')
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f'{path} is not a readable .npz file: {e}') from None
    if not hasattr(data, 'files'):  # np.load of a .npy file: an array
        raise ValueError(f'{path} is not a readable .npz file: it holds one '
                         '.npy array')
    try:
        files = list(data.files)
        probs = data[PROBS_KEY] if PROBS_KEY in files else None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f'{path} is not a readable .npz file: {e}') from None
    finally:
        data.close()
    if probs is None:
        raise ValueError(f'{path}: no "{PROBS_KEY}" array (has '
                         f'{", ".join(files or ()) or "nothing"})')
    if probs.dtype != np.float16:
        raise ValueError(f'{path}: "{PROBS_KEY}" is {probs.dtype}, expected '
                         'float16')
    if probs.ndim != 3:
        raise ValueError(f'{path}: "{PROBS_KEY}" has shape {probs.shape}, '
                         'expected (num_classes, H, W)')
    if num_classes is not None and probs.shape[0] != num_classes:
        raise ValueError(f'{path}: "{PROBS_KEY}" has shape {probs.shape}: '
                         f'{probs.shape[0]} classes, expected {num_classes}')
    if shape is not None and tuple(probs.shape[1:]) != tuple(shape):
        raise ValueError(f'{path}: "{PROBS_KEY}" has shape {probs.shape}: '
                         f'size {tuple(probs.shape[1:])}, the image (ground '
                         f'truth) is {tuple(shape)}')
    if check_sum and probs.size:
        total = probs.astype(np.float32).sum(axis=0)
        err = float(np.abs(total - 1).max())
        if not np.isfinite(err) or err > sum_tolerance(probs.shape[0]):
            raise ValueError(f'{path}: the class probabilities do not sum to '
                             f'1 (largest error {err:.3g})')
    return probs


def label_from_probs(probs, threshold=None):
    """The label map (int64 ``HxW``) of ``(C, H, W)`` probabilities:
    argmax over the classes, or with ``threshold`` (single-logit models,
    two classes) ``probs[1] > threshold``."""
    probs = np.asarray(probs)
    if threshold is not None:
        if probs.shape[0] != 2:
            raise ValueError('a threshold needs two classes (background, '
                             f'foreground), got {probs.shape[0]}')
        return (probs[1].astype(np.float32) > threshold).astype(np.int64)
    return probs.argmax(axis=0).astype(np.int64)


def set_prediction(sample, probs, threshold=None, postprocess=None):
    """Put the prediction of ``probs`` (``(C, H, W)`` probabilities, torch
    or numpy) into a ``SegDataSample`` as a segmentor would:
    ``pred_sem_seg`` the label map (:func:`label_from_probs`,
    post-processed by the spec ``postprocess``), ``seg_logits`` what
    mmseg's conventions read back as ``probs``: ``log p`` for a softmax
    model, the foreground ``p`` for a thresholded single-logit model.
    Returns ``sample``."""
    import torch
    from mmengine.structures import PixelData

    from ..evaluation.functional.postprocess import apply_postprocessing
    p = torch.as_tensor(probs).float()
    label = torch.from_numpy(label_from_probs(p.cpu().numpy(), threshold))
    if postprocess is not None:
        label = torch.from_numpy(
            apply_postprocessing(label.numpy(), postprocess))
    logits = p[1:2] if threshold is not None else \
        p.clamp_min(torch.finfo(torch.float32).tiny).log()
    sample.set_data(dict(seg_logits=PixelData(data=logits),
                         pred_sem_seg=PixelData(
                             data=label.to(p.device)[None])))
    return sample


def decode_threshold(cfg):
    """The threshold of a single-logit model (``out_channels=1`` in the
    decode head, the last one of a cascade): its ``threshold`` or mmseg's
    default 0.3; ``None`` for a softmax model (argmax)."""
    model = cfg.get('model', None) or {}
    if model.get('module', None) is not None:  # a TTA / ensemble wrapper
        model = model['module']
    head = model.get('decode_head', None) or {}
    if isinstance(head, (list, tuple)):
        head = head[-1] if head else {}
    if head.get('out_channels', None) != 1:
        return None
    threshold = head.get('threshold', None)
    return MMSEG_DEFAULT_THRESHOLD if threshold is None else float(threshold)


class SaveProbabilitiesHook(Hook):
    """Write :func:`probabilities_from_sample` of every test prediction to
    ``<out_dir>/probs/<image stem>.npz`` (``after_test_iter``; each rank
    writes its own images). ``tools/test.py --save-probs`` registers it
    with ``out_dir`` its staging folder."""

    priority = 'LOW'

    def __init__(self, out_dir):
        self.out_dir = str(out_dir)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None):
        import os
        folder = osp.join(self.out_dir, PROBS_DIR_NAME)
        os.makedirs(folder, exist_ok=True)
        for sample in outputs or ():
            stem = osp.splitext(osp.basename(sample.img_path))[0]
            save_probs(osp.join(folder, f'{stem}.npz'),
                       probabilities_from_sample(sample))


__all__ = [
    'MMSEG_DEFAULT_THRESHOLD', 'SaveProbabilitiesHook', 'decode_threshold',
    'label_from_probs', 'load_probs', 'probabilities_from_logits',
    'probabilities_from_sample', 'probs_array', 'probs_bytes',
    'probs_rel_path', 'save_probs', 'set_prediction', 'sum_tolerance'
]
