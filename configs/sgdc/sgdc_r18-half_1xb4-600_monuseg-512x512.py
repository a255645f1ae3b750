# The 2-CPU protocol for MoNuSeg on a ResNet: SGDC on ResNet-18-V1c at half
# width (stem and base 32 channels; stages 32/64/128/256; the model of
# sgdc_r18-half_1xb8-600_isic2017-128x96.py), from scratch, on the data and
# schedule of sgdc_unet-s5-d16-w16_1xb4-600_monuseg-512x512.py (tiles
# resized to 512x512, random 128x128 crops, batch 4, AdamW, 600 iterations,
# slide inference with 128x128 windows at stride 85, metrics on the original
# 1000x1000 masks). The head runs at stride 4, the SGE takes stages 1 and 4.
# Data: python tools/dataset_converters/monuseg.py
#           ../shared/data/monuseg-train -o data/monuseg
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/monuseg_cpu.py',
    '../_base_/sgdc_runtime.py', '../_base_/schedules/adamw_600it.py'
]
crop_size = (128, 128)
data_preprocessor = dict(size=crop_size)
model = dict(
    type='StructureEncoderDecoder',
    data_preprocessor=data_preprocessor,
    # no ImageNet weights exist for this width: from scratch
    backbone=dict(
        depth=18, base_channels=32, stem_channels=32,
        init_cfg=None),
    decode_head=dict(
        in_channels=[32, 64, 128, 256],
        channels=64,
        num_blocks=2,
        sge=dict(in_channels=(32, 256), channels=64, fuse_channels=64)),
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
