# mmseg's baseline in the 2-CPU protocol: FCN on mmseg's UNet-S5-D16 at a
# quarter of its width (base 16 channels, as
# fcn_unet-s5-d16-w16_1xb8-600_isic2017-128x96.py), from scratch, on the data
# and schedule of sgdc_unet-s5-d16-w16_1xb4-600_monuseg-512x512.py (tiles
# resized to 512x512, random 128x128 crops, batch 4, AdamW, 600 iterations,
# slide inference with 128x128 windows at stride 85, metrics on the original
# 1000x1000 masks).
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py',
    '../_base_/datasets/monuseg_cpu.py', '../_base_/sgdc_runtime.py',
    '../_base_/schedules/adamw_600it.py'
]
crop_size = (128, 128)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(base_channels=16),
    decode_head=dict(in_channels=16, channels=16),
    auxiliary_head=dict(in_channels=32, channels=16),
    test_cfg=dict(mode='slide', crop_size=(128, 128), stride=(85, 85)))
randomness = dict(seed=0)
