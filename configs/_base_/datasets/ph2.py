# PH2 (background / lesion) in the converted layout written by
#   python tools/dataset_converters/ph2.py SOURCE -o data/ph2
#   data/ph2/images/<name>.png   masks/<name>.png (0 = bg, 1 = lesion)
#   data/ph2/splits/all.txt      all 200 cases
# This base is an EXTERNAL TEST SET: val and test run on all.txt and there
# is no train_dataloader (use it to test a model trained on ISIC, e.g.
# configs/sgdc/sgdc_r50_1xb8-20k_isic2016-256x256_test-ph2.py). To train on
# PH2 itself, convert with --folds K and add a train_dataloader on
# splits/fold{i}_train.txt (with train_pipeline below) and val/test on
# splits/fold{i}_val.txt. Images are inferred at 256x256 (resized without
# keeping the ratio, as the ISIC bases train); the test ground truth is
# loaded AFTER the resize, so mmseg resizes the prediction back and the
# metrics are computed at the original resolution. See docs/datasets.md.
dataset_type = 'PH2Dataset'
data_root = 'data/ph2'
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

val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        ann_file='splits/all.txt',
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
        ann_file='splits/all.txt',
        pipeline=test_pipeline))

# mmseg's IoU/Dice (keys mIoU, mDice) and sgdc_mmseg's MedicalMetric (keys
# medical/mIoU, medical/mDice, medical/mHD95, ...).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='MedicalMetric'),
]
test_evaluator = val_evaluator
