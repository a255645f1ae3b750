# The 2-CPU protocol for MoNuSeg: SGDC on mmseg's UNet-S5-D16 at a quarter of
# its width (base 16 channels), from scratch, on the data of
# ../_base_/datasets/monuseg_cpu.py (tiles resized from 1000x1000 to
# 512x512, random 128x128 crops, batch 4; trained on fold 0's 24 training
# tiles, validated on its 6 others: what ../shared/data/monuseg-train
# gives), AdamW (../_base_/schedules/adamw_600it.py), 600 iterations (100
# epochs of 24 tiles), slide inference with 128x128 windows at stride 85 over
# the 512x512 tile; metrics on the original 1000x1000 masks: NucleiMetric
# (Dice, IoU, AJI, PQ) and mmseg's IoUMetric.
# UNet-w16 returns decoder features: index 0: 256 ch, stride 16 ...
# index 3: 32 ch, stride 2; the head runs at stride 2, the SGE takes stride 2
# and stride 16. The variants sgdc-pool_* and sgdc-self_* change only the
# kernel source; fcn_unet-s5-d16-w16_* shares the bases.
# Data: python tools/dataset_converters/monuseg.py
#           ../shared/data/monuseg-train -o data/monuseg
_base_ = [
    '../_base_/models/sgdc_unet-s5-d16.py', '../_base_/datasets/monuseg_cpu.py',
    '../_base_/sgdc_runtime.py', '../_base_/schedules/adamw_600it.py'
]
crop_size = (128, 128)
data_preprocessor = dict(size=crop_size)
model = dict(
    type='StructureEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(base_channels=16),
    decode_head=dict(
        in_channels=[32, 64, 128, 256],
        channels=32,
        sge=dict(in_channels=(32, 256), channels=32, fuse_channels=32)),
    test_cfg=dict(mode='slide', crop_size=(128, 128), stride=(85, 85)))
randomness = dict(seed=0)
# StructureEncoderDecoder adds the SGE edge map to the predictions (the
# segmentation is unchanged), so AJI/PQ are scored twice: instances from the
# connected components of the mask (keys nuclei/...) and from the SGE-based
# split of touching nuclei (keys nuclei_sge/...; docs/metrics.md). The
# sgdc-pool/sgdc-self variants inherit both.
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='NucleiMetric'),
    dict(type='NucleiMetric', pred_instances='sge', prefix='nuclei_sge'),
]
test_evaluator = val_evaluator
