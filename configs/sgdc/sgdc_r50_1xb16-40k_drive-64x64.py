# SGDC on ResNet-50-V1c (../_base_/models/sgdc_r50.py, from mmseg's ImageNet
# start open-mmlab://resnet50_v1c, as mmseg's ResNet configs) in mmseg's
# DRIVE protocol: random 64x64
# crops, batch 16, 40k iterations of SGD (mmseg::_base_/schedules/
# schedule_40k.py), slide inference with 64x64 windows at stride 42; metrics
# inside the field of view (../_base_/datasets/drive.py). On a 64x64 crop
# the stages give 16x16 (stride 4) down to 2x2 (stride 32) features. For a
# GPU; the 2-CPU protocol is sgdc_r18-half_1xb16-*_drive-64x64.py.
# The variants sgdc-pool_* and sgdc-self_* change only the kernel source.
# Data: python tools/dataset_converters/drive.py SOURCE -o data/drive
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/drive.py',
    '../_base_/sgdc_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(42, 42)))
