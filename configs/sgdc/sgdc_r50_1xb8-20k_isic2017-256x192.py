# SGDC on ResNet-50-V1c (from scratch: no pretrained weights are downloaded),
# ISIC 2017 lesion segmentation at 256x192, 20k iterations, batch 8.
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/isic2017_256x192.py',
    '../_base_/sgdc_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
]
crop_size = (192, 256)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
