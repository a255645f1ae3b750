# CoNIC 2022 (Lizard) nucleus types as semantic segmentation (background +
# neutrophil, epithelial, lymphocyte, plasma, eosinophil, connective) in the
# converted layout written by
#   python tools/dataset_converters/conic.py SOURCE -o data/conic
#   data/conic/images/<name>.png   masks/<name>.png (class ids 0..6)
#   data/conic/splits/fold{i}_{train,val}.txt  grouped k-fold (patches of one
#                                              source image share a fold)
# Trains on fold{fold}_train and validates/tests on fold{fold}_val. `fold`
# is read only in this file: a child config that inherits it must override
# the three ann_file keys (changing `fold` there has no effect), e.g.
#   train_dataloader = dict(dataset=dict(ann_file='splits/fold1_train.txt'))
#   val_dataloader = dict(dataset=dict(ann_file='splits/fold1_val.txt'))
#   test_dataloader = dict(dataset=dict(ann_file='splits/fold1_val.txt'))
# Images are trained and inferred at 256x256 (resized without keeping the
# ratio: a no-op on the 256x256 CoNIC patches, not on patches converted with
# --size); the test ground truth is loaded AFTER the resize, so mmseg
# resizes the prediction back and the metrics are computed at the original
# resolution. See docs/datasets.md.
fold = 0
dataset_type = 'CoNICDataset'
data_root = 'data/conic'
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
        ann_file=f'splits/fold{fold}_train.txt',
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
        ann_file=f'splits/fold{fold}_val.txt',
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
        ann_file=f'splits/fold{fold}_val.txt',
        pipeline=test_pipeline))

# mmseg's IoU/Dice (keys mIoU, mDice) and sgdc_mmseg's MedicalMetric (keys
# medical/mIoU, medical/mDice, medical/mHD95, ...).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='MedicalMetric'),
]
test_evaluator = val_evaluator
