# ISIC 2016 Part 1 (background / lesion) in the converted layout written by
#   python tools/dataset_converters/isic2016.py SOURCE -o data/isic2016
#   data/isic2016/images/<name>.jpg|.png   masks/<name>.png (0 = bg, 1 = lesion)
#   data/isic2016/splits/{train,test}.txt  official 900 training / 379 test
# The official test set serves as val and test (no separate validation set),
# as in the closest prior work (CTO). Images are trained and inferred at
# 256x256 (resized without keeping the ratio); the test ground truth is
# loaded AFTER the resize, so mmseg resizes the prediction back and the
# metrics are computed at the original resolution. See docs/datasets.md.
dataset_type = 'ISIC2016Dataset'
data_root = 'data/isic2016'
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
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        ann_file='splits/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        ann_file='splits/test.txt',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        ann_file='splits/test.txt',
        pipeline=test_pipeline))

# mmseg's IoU/Dice (keys mIoU, mDice) and sgdc_mmseg's MedicalMetric (keys
# medical/mIoU, medical/mDice, medical/mHD95, ...).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='MedicalMetric'),
]
test_evaluator = val_evaluator
