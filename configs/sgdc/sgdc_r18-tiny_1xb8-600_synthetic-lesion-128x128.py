# The demo: a small SGDC model (ResNet-18-V1c at 1/4 width, from scratch) on
# synthetic dermoscopy-like lesions generated on first use. Trains and
# validates on 2 CPU cores in a few minutes (numbers in README.md).
_base_ = [
    '../_base_/models/sgdc_r50.py',
    '../_base_/datasets/synthetic_lesion_128x128.py',
    '../_base_/sgdc_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
]
max_iters = 600
crop_size = (128, 128)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    # no ImageNet weights exist for this width: from scratch
    backbone=dict(
        depth=18, base_channels=16, stem_channels=16,
        init_cfg=None),
    decode_head=dict(
        in_channels=[16, 32, 64, 128],
        channels=32,
        num_blocks=1,
        drop_path_rate=0.0,
        dropout_ratio=0.0,
        sge=dict(in_channels=(16, 128), channels=32, fuse_channels=32)))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999),
                   weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=50),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters, save_last=True),
    visualization=dict(type='SegVisualizationHook', draw=False))
# One loader worker each: with two on a 2-core machine, workers and the
# training process fight over the cores (measured: 0.40 s/iter vs 0.22 s).
train_dataloader = dict(num_workers=1)
val_dataloader = dict(num_workers=1)
test_dataloader = val_dataloader
randomness = dict(seed=0)
env_cfg = dict(cudnn_benchmark=False)
