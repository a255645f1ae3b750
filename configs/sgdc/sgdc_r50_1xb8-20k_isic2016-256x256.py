# SGDC on ResNet-50-V1c from mmseg's ImageNet start (open-mmlab://resnet50_v1c,
# ../_base_/models/sgdc_r50.py; a *_r50-scratch_* twin trains from scratch),
# ISIC 2016 lesion segmentation: official 900 training images, validated and
# tested on the official 379 test images, trained and inferred at 256x256,
# metrics at the original resolution; 20k iterations of SGD, batch 8, best
# checkpoint by medical/mIoU (../_base_/schedules/sgd_20k_medical.py).
# The paper-protocol variants (sgdc-pool*, sgdc-self*) inherit from this file
# and change only decode_head keys; upernet_r50_* and fcn_unet-s5-d16_* share
# its dataset, runtime and schedule bases. Each has a *_test-ph2.py twin.
# Data: python tools/dataset_converters/isic2016.py SOURCE -o data/isic2016
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/isic2016.py',
    '../_base_/sgdc_runtime.py', '../_base_/schedules/sgd_20k_medical.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
