# mmseg's own baseline, as mmseg's unet-s5-d16_fcn_4xb4-40k_drive-64x64.py
# (FCN on UNet-S5-D16, mmseg::_base_/models/fcn_unet_s5-d16.py, full width,
# from scratch; 40k iterations of SGD, mmseg::_base_/schedules/
# schedule_40k.py; slide inference with 64x64 windows at stride 42), on the
# converted DRIVE of ../_base_/datasets/drive.py: batch 16 on one device
# (mmseg: 4 GPUs x 4), metrics inside the field of view. mmseg reports
# vessel Dice 78.67 for it over the whole image (not comparable with the
# field-of-view scores here). For a GPU; the 2-CPU protocol is
# fcn_unet-s5-d16-w16_1xb16-*_drive-64x64.py.
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py', '../_base_/datasets/drive.py',
    '../_base_/sgdc_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    test_cfg=dict(crop_size=(64, 64), stride=(42, 42)))
