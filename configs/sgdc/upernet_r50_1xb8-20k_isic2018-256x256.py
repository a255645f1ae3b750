# Plain mmseg baseline: UPerNet (mmseg's upernet_r50 base: UPerHead + FCN
# auxiliary head) on the same ResNet-50-V1c from the same ImageNet start
# (open-mmlab://resnet50_v1c, as the backbone's init_cfg like
# ../_base_/models/sgdc_r50.py; mmseg's model.pretrained is unset),
# with the data, runtime and schedule of sgdc_r50_1xb8-20k_isic2018-256x256.py.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    '../_base_/datasets/isic2018.py', '../_base_/sgdc_runtime.py',
    '../_base_/schedules/sgd_20k_medical.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(init_cfg=dict(
        type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')),
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))
