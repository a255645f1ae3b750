# SGDC on ResNet-50-V1c (from scratch: no pretrained weights are downloaded),
# ISIC 2016 lesion segmentation: official 900 training images, validated and
# tested on the official 379 test images, trained and inferred at 256x256,
# metrics at the original resolution; 20k iterations, batch 8.
# Data: python tools/dataset_converters/isic2016.py SOURCE -o data/isic2016
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/isic2016.py',
    '../_base_/sgdc_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
# Keep the checkpoint with the best foreground IoU of MedicalMetric.
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=2000,
        save_best='medical/mIoU',
        rule='greater'))
