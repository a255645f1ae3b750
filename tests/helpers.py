"""Shared test helpers: a tiny segmentation data set and config.

Everything here is small enough to train a few iterations on CPU in a few
seconds. Other test packages may import it (``from tests.helpers import ...``
or ``from helpers import ...`` -- ``tests/conftest.py`` puts this folder on
``sys.path``).
"""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLASSES = ('background', 'lesion')


def make_tiny_dataset(root, num_images=8, size=32, seed=0):
    """Write ``num_images`` random RGB PNGs and 0/1 PNG masks under ``root``.

    Layout: ``root/img_dir/{i}.png`` and ``root/ann_dir/{i}.png`` (the masks
    hold a random rectangle of class 1 on class 0).

    Returns:
        str: ``root``.
    """
    import cv2
    rng = np.random.RandomState(seed)
    img_dir = osp.join(root, 'img_dir')
    ann_dir = osp.join(root, 'ann_dir')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(ann_dir, exist_ok=True)
    for i in range(num_images):
        img = rng.randint(0, 256, (size, size, 3), dtype=np.uint8)
        mask = np.zeros((size, size), dtype=np.uint8)
        y0, x0 = rng.randint(0, size // 2, 2)
        h, w = rng.randint(4, size // 2, 2)
        mask[y0:y0 + h, x0:x0 + w] = 1
        img[mask == 1] //= 2  # make the lesion learnable
        cv2.imwrite(osp.join(img_dir, f'{i:03d}.png'), img)
        cv2.imwrite(osp.join(ann_dir, f'{i:03d}.png'), mask)
    return str(root)


_CONFIG_TEMPLATE = '''\
# Tiny config written by tests/helpers.py (CPU, a few seconds per run).
default_scope = 'mmseg'
custom_imports = dict(imports=['sgdc_mmseg'], allow_failed_imports=False)

data_root = {data_root!r}
crop_size = ({size}, {size})
classes = {classes!r}

data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        in_channels=3,
        stem_channels=8,
        base_channels=8,
        num_stages=2,
        strides=(1, 2),
        dilations=(1, 1),
        out_indices=(0, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='SGDCHead',
        in_channels=[8, 16],
        in_index=[0, 1],
        channels=8,
        num_blocks=1,
        num_heads=2,
        kernel_size=3,
        guide_channels=4,
        drop_path_rate=0.1,
        dropout_ratio={dropout},
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        sge=dict(type='SGEHead', in_channels=(8, 16), in_index=(0, 1),
                 channels=8, fuse_channels=8),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
dataset = dict(
    type='BaseSegDataset',
    data_root=data_root,
    data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
    img_suffix='.png',
    seg_map_suffix='.png',
    metainfo=dict(classes=classes, palette=[[0, 0, 0], [255, 255, 255]]))
train_dataloader = dict(
    batch_size={batch_size},
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(dataset, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005),
    clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end={max_iters},
         by_epoch=False),
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters={max_iters},
    val_interval={val_interval})
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval={checkpoint_interval}),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
custom_hooks = {custom_hooks!r}

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='gloo'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed={seed})
'''


def write_tiny_config(path, data_root, *, max_iters=4, checkpoint_interval=2,
                      val_interval=1000, batch_size=2, dropout=0.1, seed=0,
                      custom_hooks=(), size=32, extra=''):
    """Write the tiny EncoderDecoder(ResNetV1c-18 stub + SGDCHead) config.

    Args:
        path (str): Where to write the ``.py`` config.
        data_root (str): A folder made by :func:`make_tiny_dataset`.
        custom_hooks (sequence[dict]): Written to ``custom_hooks``.
        extra (str): Python text appended to the config.

    Returns:
        str: ``path``.
    """
    text = _CONFIG_TEMPLATE.format(
        data_root=str(data_root), size=size, classes=CLASSES,
        dropout=dropout, batch_size=batch_size, max_iters=max_iters,
        val_interval=val_interval, checkpoint_interval=checkpoint_interval,
        custom_hooks=list(custom_hooks), seed=seed)
    if extra:
        text += '\n' + textwrap.dedent(extra)
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def tool_env():
    """Environment for running ``tools/*.py`` in a subprocess on CPU."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO_ROOT] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep)
                       if p])
    env.setdefault('OMP_NUM_THREADS', '1')
    env['CUDA_VISIBLE_DEVICES'] = env.get('CUDA_VISIBLE_DEVICES', '')
    return env


def run_tool(args, cwd=None, timeout=300, env=None):
    """Run ``python <args>`` from the repo root; return CompletedProcess."""
    return subprocess.run(
        [sys.executable] + list(args), cwd=cwd or REPO_ROOT,
        env=env or tool_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=timeout)


LESION_META = dict(classes=('background', 'lesion'),
                   palette=[[0, 0, 0], [255, 0, 0]])


def save_random_checkpoint(cfg_path, ckpt_path, dataset_meta=None, seed=0,
                           prepare=None):
    """Build the model of ``cfg_path`` with seeded random weights (``prepare``
    may adjust it first) and save it as an mmengine-style checkpoint with
    ``dataset_meta`` in its meta; returns ``str(ckpt_path)``."""
    import torch
    from sgdc_mmseg.apis import load_segmentor
    torch.manual_seed(seed)
    model = load_segmentor(str(cfg_path), None, 'cpu')
    if prepare is not None:
        prepare(model)
    meta = {} if dataset_meta is None else dict(dataset_meta=dataset_meta)
    torch.save(dict(state_dict=model.state_dict(), meta=meta), str(ckpt_path))
    return str(ckpt_path)


def file_tree(folder):
    """``{relative path: bytes}`` of every file under ``folder`` (to show
    that a refused run left a folder byte for byte as it was)."""
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = osp.join(root, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, folder)] = f.read()
    return out


def pixel_field(array, dtype=None):
    """A data-sample pixel field as mmengine's evaluator hands it to a
    metric: ``{'data': tensor}`` with a leading channel axis (``dtype``
    default int64)."""
    import torch
    array = torch.as_tensor(np.asarray(array)).to(dtype or torch.int64)
    return dict(data=array if array.ndim == 3 else array[None])


def metric_sample(pred, gt, name, **fields):
    """A predicted sample dict for a metric's ``process``: ``pred_sem_seg``,
    ``gt_sem_seg``, ``img_path`` ``/data/images/<name>.png`` and every
    ``key=(array, dtype)`` of ``fields`` that is not None."""
    sample = dict(img_path=f'/data/images/{name}.png',
                  pred_sem_seg=pixel_field(pred), gt_sem_seg=pixel_field(gt))
    for key, value in fields.items():
        if value is not None:
            sample[key] = pixel_field(*value)
    return sample
