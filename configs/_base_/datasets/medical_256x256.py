# What the dataset bases isic2016.py, isic2018.py, ph2.py and conic.py share:
# the converted layout of tools/dataset_converters/ (images/ + masks/ +
# splits/*.txt), training and inference at 256x256 (resized without keeping
# the ratio, the protocol of CTO, the paper's closest prior work), the test
# ground truth loaded AFTER the resize (so mmseg resizes the prediction back
# and the metrics are computed at the original resolution), flip TTA, and
# IoUMetric + MedicalMetric. Each dataset base sets the dataset type,
# data_root and split files of its loaders. See docs/datasets.md.
img_scale = (256, 256)  # (W, H)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(
        type='RandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    # after Resize: the ground truth keeps the original resolution
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
# Test-time augmentation for `tools/test.py --tta`: the resized image and
# its horizontal and vertical flips, logits averaged by mmseg's SegTTAModel.
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=img_scale, keep_ratio=False)],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='vertical'),
            ],
            [dict(type='LoadAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        pipeline=test_pipeline))

# mmseg's IoU/Dice (keys mIoU, mDice) and sgdc_mmseg's MedicalMetric (keys
# medical/mIoU, medical/mDice, medical/mHD95, ...).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='MedicalMetric'),
]
test_evaluator = val_evaluator
