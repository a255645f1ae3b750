# ISIC 2018 Task 1 (background / lesion) in the converted layout written by
#   python tools/dataset_converters/isic2018.py SOURCE -o data/isic2018
#   data/isic2018/images/<name>.jpg|.png   masks/<name>.png (0 = bg, 1 = lesion)
#   data/isic2018/splits/{train,val,test}.txt  official 2594 / 100 / 1000
#   data/isic2018/splits/fold{i}_{train,val}.txt  k-fold over train.txt
# Trains on the official training set, validates on the official validation
# set and tests on the official test set. Images are trained and inferred at
# 256x256 (resized without keeping the ratio); the test ground truth is
# loaded AFTER the resize, so mmseg resizes the prediction back and the
# metrics are computed at the original resolution. See docs/datasets.md.
dataset_type = 'ISIC2018Dataset'
data_root = 'data/isic2018'
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
        ann_file='splits/val.txt',
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
