# MoNuSeg for the 2-CPU protocol, on the data a fresh clone has
# (../shared/data/monuseg-train: the 30 official training tiles only): the
# model trains on fold 0's training tiles (24) and is validated/tested on its
# validation tiles (6) of the converter's k-fold (--folds 5 --seed 0, the
# default). To fit 2 CPU cores, the 1000x1000 tiles are resized to 512x512
# (as UCTransNet and MedT train MoNuSeg), training takes random 128x128
# crops of them, batch 4, and inference slides 128x128 windows at stride 85
# (set in the model configs); the ground truth and the instances are loaded
# after the resize, so predictions are resized back and every metric is
# computed on the original 1000x1000 masks. Of the 30 shared tiles, 13 have
# XML annotations (and so instances/); the other 17 are scored with the
# connected components of their masks (NucleiMetric's column gt_instances
# says which). One loader worker (a second one slows training on 2 cores).
# `fold` is read only in this file: a child config that inherits it must
# override the three ann_file keys (as for conic.py). See docs/datasets.md.
_base_ = ['./monuseg.py']
fold = 0
scale = (512, 512)  # (W, H) for mmcv's Resize
crop_size = (128, 128)  # (H, W)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=scale, keep_ratio=False),
    dict(type='RandomCrop', crop_size=crop_size),
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
    # after Resize: the ground truth and the instances keep the original
    # resolution
    dict(type='LoadAnnotations'),
    dict(type='LoadInstances'),
    dict(type='PackSegInputsWithInstances'),
]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=scale, keep_ratio=False)],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='vertical'),
            ],
            [dict(type='LoadAnnotations')],
            [dict(type='LoadInstances')],
            [dict(type='PackSegInputsWithInstances')],
        ])
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(ann_file=f'splits/fold{fold}_train.txt',
                 pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(ann_file=f'splits/fold{fold}_val.txt',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
