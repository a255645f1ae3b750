# SGDC on ResNet-50-V1c from mmseg's ImageNet start (open-mmlab://resnet50_v1c,
# ../_base_/models/sgdc_r50.py; a *_r50-scratch_* twin trains from scratch),
# ISIC 2017 lesion segmentation at 256x192, 20k iterations, batch 8.
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/isic2017_256x192.py',
    '../_base_/sgdc_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
]
crop_size = (192, 256)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
