# Plain mmseg baseline: FCN on mmseg's UNet backbone (mmseg's medical model,
# mmseg::_base_/models/fcn_unet_s5-d16.py) at a quarter of its width (base 16
# channels, so that it trains at a similar speed on 2 CPUs), inferred whole
# (not sliding); same data, schedule and from-scratch training as
# sgdc_r18-half_1xb8-600_isic2017-128x96.py.
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py',
    '../_base_/datasets/isic2017_128x96.py', '../_base_/sgdc_runtime.py',
    '../_base_/schedules/adamw_600it.py'
]
crop_size = (96, 128)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(base_channels=16),
    decode_head=dict(in_channels=16, channels=16),
    auxiliary_head=dict(in_channels=32, channels=16),
    test_cfg=dict(mode='whole', _delete_=True))
randomness = dict(seed=0)
