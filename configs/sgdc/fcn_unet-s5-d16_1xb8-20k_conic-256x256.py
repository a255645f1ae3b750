# Plain mmseg baseline: FCN on mmseg's UNet backbone (mmseg's medical model,
# mmseg::_base_/models/fcn_unet_s5-d16.py, full width), from scratch, inferred
# whole (the images are inferred at 256x256, not slid over); the data,
# runtime and schedule of sgdc_r50_1xb8-20k_conic-256x256.py.
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py',
    '../_base_/datasets/conic.py', '../_base_/sgdc_runtime.py',
    '../_base_/schedules/sgd_20k_medical.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=7),
    auxiliary_head=dict(num_classes=7),
    test_cfg=dict(mode='whole', _delete_=True))
