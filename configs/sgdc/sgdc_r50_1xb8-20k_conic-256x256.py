# SGDC on ResNet-50-V1c from mmseg's ImageNet start (open-mmlab://resnet50_v1c,
# ../_base_/models/sgdc_r50.py; a *_r50-scratch_* twin trains from scratch),
# CoNIC 2022 nucleus types as semantic segmentation: 7 classes (background +
# neutrophil, epithelial, lymphocyte, plasma, eosinophil, connective), trained
# on fold 0's training patches and validated/tested on its validation
# patches (256x256), metrics at the original resolution; 20k iterations of
# SGD, batch 8, best checkpoint by medical/mIoU
# (../_base_/schedules/sgd_20k_medical.py). The SGE's boundary targets are
# the changes of class in the ground truth (nucleus/background and
# nucleus/nucleus edges). Another fold: see ../_base_/datasets/conic.py.
# The paper-protocol variants (sgdc-pool*, sgdc-self*) inherit from this file
# and change only decode_head keys; upernet_r50_* and fcn_unet-s5-d16_* share
# its dataset, runtime and schedule bases.
# Data: python tools/dataset_converters/conic.py SOURCE -o data/conic
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/conic.py',
    '../_base_/sgdc_runtime.py', '../_base_/schedules/sgd_20k_medical.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor, decode_head=dict(num_classes=7))
