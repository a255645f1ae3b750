# The 2-CPU protocol for DRIVE with a ResNet: SGDC on ResNet-18-V1c at half
# width (stem and base 32 channels; stages 32/64/128/256, as the ISIC 2017
# CPU protocol's sgdc_r18-half_*), from scratch, on the data of
# ../_base_/datasets/drive_cpu.py (random 64x64 crops, batch 16; fold 0:
# 16 training images, 4 validation images), AdamW (../_base_/schedules/
# adamw_600it.py), 600 iterations, slide inference with 64x64 windows at
# stride 42; metrics inside the field of view. The variants sgdc-pool_* and
# sgdc-self_* change only the kernel source.
# Data: python tools/dataset_converters/drive.py ../shared/data/drive-training
#           -o data/drive
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/drive_cpu.py',
    '../_base_/sgdc_runtime.py', '../_base_/schedules/adamw_600it.py'
]
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    # no ImageNet weights exist for this width: from scratch
    backbone=dict(
        depth=18, base_channels=32, stem_channels=32,
        init_cfg=None),
    decode_head=dict(
        in_channels=[32, 64, 128, 256],
        channels=64,
        num_blocks=2,
        sge=dict(in_channels=(32, 256), channels=64, fuse_channels=64)),
    test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(42, 42)))
randomness = dict(seed=0)
