# DRIVE retinal vessels (background / vessel) in the converted layout of
#   python tools/dataset_converters/drive.py SOURCE -o data/drive
#   data/drive/images/<stem>.png  masks/<stem>.png (0, 1, 255 outside the
#   field of view)  fov/<stem>.png (0/1)  splits/{train,test}.txt
# mmseg's DRIVE protocol (mmseg::_base_/datasets/drive.py, the data of
# mmseg's unet-s5-d16_*_drive-64x64 configs): random rescaling of the
# 565x584 image by 0.5-2.0, random 64x64 crops (cat_max_ratio 0.75), flips,
# photometric distortion; trained on the official training split (20
# images) and validated/tested on the official test split (20 images),
# batch 16 on one device (mmseg: 4 GPUs x 4). Differences from mmseg's:
# - DRIVEVesselDataset (mmseg's DRIVEDataset reads another layout and has no
#   field of view); no RepeatDataset wrapper (the InfiniteSampler already
#   loops over the data);
# - the masks are 255 (ignored) outside the field of view, so the losses and
#   every metric see only the field of view (mmseg's published Dice, e.g.
#   78.67 for FCN-UNet, counts the whole image: not comparable);
# - the test pipeline also loads the field of view (LoadFOV) and packs it
#   as the data sample's `fov` (PackSegInputsWithFOV); see docs/datasets.md.
# Slide inference (64x64 windows, stride 42) is set in the model configs
# (test_cfg), as in mmseg's. Another ground truth for the test split: the
# second observer, data_prefix=dict(..., seg_map_path='masks_2nd').
dataset_type = 'DRIVEVesselDataset'
data_root = 'data/drive'
img_scale = (584, 565)
crop_size = (64, 64)
data_prefix = dict(img_path='images', seg_map_path='masks', fov_path='fov')

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    # after Resize: the ground truth and the field of view keep the
    # original resolution
    dict(type='LoadAnnotations'),
    dict(type='LoadFOV'),
    dict(type='PackSegInputsWithFOV'),
]
# mmseg's DRIVE test-time augmentation for `tools/test.py --tta`: 6 scales x
# 2 flips. mmseg's SegTTAModel keeps only the prediction, the ground truth
# and the metainfo, so there the data samples have `fov_path` but no `fov`.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal'),
            ],
            [dict(type='LoadAnnotations')],
            # loaded after the flips, like the ground truth: unflipped
            [dict(type='LoadFOV')],
            [dict(type='PackSegInputsWithFOV')],
        ])
]

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='splits/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='splits/test.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# mmseg's IoU/Dice (keys mIoU, mDice; per class: the `vessel` row) and
# sgdc_mmseg's MedicalMetric (keys medical/mIoU, medical/mDice, ...), both
# inside the field of view (255 outside it is ignored).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='MedicalMetric'),
    # the field's metrics inside the field of view (Se, Sp, Acc, AUC, F1,
    # clDice) and mmseg's whole-image vessel Dice; see docs/metrics.md
    dict(type='VesselMetric'),
]
test_evaluator = val_evaluator
