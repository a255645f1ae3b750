# mmseg's own baseline: FCN on UNet-S5-D16 (mmseg::_base_/models/
# fcn_unet_s5-d16.py, full width, from scratch; mmseg's slide inference with
# 256x256 windows at stride 170, its HRF setting), on MoNuSeg 2018 in the
# protocol of ../_base_/datasets/monuseg.py: random 256x256 crops of the
# 1000x1000 training tiles at 40x, batch 16, 40k iterations of SGD
# (mmseg::_base_/schedules/schedule_40k.py); tested on the 14 official test
# tiles. For a GPU; the 2-CPU protocol is
# fcn_unet-s5-d16-w16_1xb4-600_monuseg-512x512.py.
_base_ = [
    'mmseg::_base_/models/fcn_unet_s5-d16.py',
    '../_base_/datasets/monuseg.py', '../_base_/sgdc_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    test_cfg=dict(mode='slide', crop_size=(256, 256), stride=(170, 170)))
