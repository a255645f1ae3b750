# Plain mmseg baseline for the 2-CPU DRIVE protocol: FCN on mmseg's
# UNet-S5-D16 (mmseg::_base_/models/fcn_unet_s5-d16.py) at a quarter of its
# width (base 16 channels, as the SGDC UNet of this protocol), from scratch,
# slide inference with 64x64 windows at stride 42; the data, runtime and
# schedule of sgdc_unet-s5-d16-w16_1xb16-600_drive-64x64.py.
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py',
    '../_base_/datasets/drive_cpu.py', '../_base_/sgdc_runtime.py',
    '../_base_/schedules/adamw_600it.py'
]
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(base_channels=16),
    decode_head=dict(in_channels=16, channels=16),
    auxiliary_head=dict(in_channels=32, channels=16),
    test_cfg=dict(crop_size=(64, 64), stride=(42, 42)))
randomness = dict(seed=0)
