# ISIC 2017 Task 1 (background / lesion) in the generic lesion-folder layout:
#   data/isic2017-256x192/{train,val}/images/<name>.jpg
#   data/isic2017-256x192/{train,val}/masks/<name>.png   (0 = bg, 1 = lesion)
# Images are 256x192 (W x H). Populate `data_root` with a symlink, e.g.
#   mkdir -p data && ln -s ../../shared/data/isic2017-256x192 data/
# (from the repository root, pointing at ../shared/data/isic2017-256x192),
# or with your own data in the same layout. Images and masks are paired by
# name; a missing partner raises an error listing the unpaired names.
dataset_type = 'LesionFolderDataset'
data_root = 'data/isic2017-256x192'
crop_size = (192, 256)  # (H, W)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]

# Test-time augmentation for `tools/test.py --tta`: the image and its
# horizontal and vertical flips, logits averaged by mmseg's SegTTAModel.
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=0., direction='horizontal'),
            dict(type='RandomFlip', prob=1., direction='horizontal'),
            dict(type='RandomFlip', prob=1., direction='vertical'),
        ], [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='train/images', seg_map_path='train/masks'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='val/images', seg_map_path='val/masks'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# mmseg's dataset-level IoU/Dice and the per-image medical metrics
# (keys medical/mIoU, medical/mDice, medical/mHD95, ...; docs/metrics.md).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='MedicalMetric'),
]
test_evaluator = val_evaluator
