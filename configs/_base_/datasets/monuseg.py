# MoNuSeg 2018 nuclei (background / nucleus) in the converted layout of
#   python tools/dataset_converters/monuseg.py SOURCE -o data/monuseg
#   data/monuseg/images/<id>.png  masks/<id>.png (0/1)
#   data/monuseg/instances/<id>.png (uint16 ids; tiles annotated in XML)
#   data/monuseg/splits/{train,test}.txt  fold{i}_{train,val}.txt
# The literature's protocol: trained on the official training set (30 tiles
# of 1000x1000) and tested on the official test set (14 tiles), both at
# 40x (no resizing). Training takes random 256x256 crops with flips and
# photometric distortion; inference slides 256x256 windows at stride 170
# over the whole tile (set in the model configs' test_cfg, as in mmseg's
# HRF/UNet protocol). The official set has no validation split: validation
# runs on the test set for monitoring only (no `save_best`; score the last
# checkpoint). The test pipeline loads the ground-truth instances
# (LoadInstances) and packs them as the data samples' `instances`
# (PackSegInputsWithInstances) for NucleiMetric's AJI/PQ; a tile without an
# instance map is scored with the connected components of its mask
# (NucleiMetric says which). See docs/datasets.md. The 2-CPU variant, on the
# training tiles a fresh clone has: monuseg_cpu.py.
dataset_type = 'MoNuSegDataset'
data_root = 'data/monuseg'
crop_size = (256, 256)  # (H, W)
data_prefix = dict(img_path='images', seg_map_path='masks',
                   inst_path='instances')

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
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
    dict(type='LoadAnnotations'),
    dict(type='LoadInstances'),
    dict(type='PackSegInputsWithInstances'),
]
# Test-time augmentation for `tools/test.py --tta`: the tile and its
# horizontal and vertical flips, logits averaged by mmseg's SegTTAModel
# (the ground truth and the instances are loaded after the flips, so they
# stay as stored).
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
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

# mmseg's IoU/Dice (keys mIoU, mDice; the `nucleus` row per class) and
# sgdc_mmseg's NucleiMetric (keys nuclei/mDice, nuclei/mAJI, nuclei/mPQ,
# ...; docs/metrics.md).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='NucleiMetric'),
]
test_evaluator = val_evaluator
