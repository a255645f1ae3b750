# SGDC on mmseg's UNet-S5-D16 backbone, from scratch, in mmseg's DRIVE
# protocol (the protocol of mmseg's unet-s5-d16_fcn_4xb4-40k_drive-64x64.py):
# random 64x64 crops, batch 16 (mmseg: 4 GPUs x 4), 40k iterations of SGD
# (mmseg::_base_/schedules/schedule_40k.py: lr 0.01, poly, validation and a
# checkpoint every 4000 iterations), slide inference with 64x64 windows at
# stride 42 on the 565x584 images; metrics inside the field of view
# (../_base_/datasets/drive.py). For a GPU; the 2-CPU protocol is
# sgdc_unet-s5-d16-w16_1xb16-*_drive-64x64.py.
# UNet returns decoder features from coarse to fine:
#   index 0: 1024 ch, stride 16 ... index 3: 128 ch, stride 2 (4: 64, stride 1)
# The head runs at stride 2 (index 3); the SGE takes stride 2 and stride 16.
# The variants sgdc-pool_* and sgdc-self_* change only the kernel source.
# Data: python tools/dataset_converters/drive.py SOURCE -o data/drive
_base_ = [
    '../_base_/models/sgdc_unet-s5-d16.py', '../_base_/datasets/drive.py',
    '../_base_/sgdc_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(42, 42)))
