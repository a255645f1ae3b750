# ISIC 2017 Task 1 at half resolution for the 2-CPU replication protocol
# (docs/results.md): images (256x192 on disk) are resized to 128x96 for
# training and inference; predictions are resized back, so every metric is
# computed on the 256x192 masks. Layout and evaluators: isic2017_256x192.py.
_base_ = ['./isic2017_256x192.py']
crop_size = (96, 128)  # (H, W)
scale = (128, 96)  # (W, H) for mmcv's Resize
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=scale, keep_ratio=False),
    dict(
        type='RandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='Resize', scale=scale, keep_ratio=False)], [
            dict(type='RandomFlip', prob=0., direction='horizontal'),
            dict(type='RandomFlip', prob=1., direction='horizontal'),
            dict(type='RandomFlip', prob=1., direction='vertical'),
        ], [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])
]
# One loader worker each: on 2 cores a second worker slows training down.
train_dataloader = dict(num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
