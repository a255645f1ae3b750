# The 2-CPU protocol for DRIVE: SGDC on mmseg's UNet-S5-D16 at a quarter of
# its width (base 16 channels), from scratch, on the data of
# ../_base_/datasets/drive_cpu.py (random 64x64 crops, batch 16; trained on
# fold 0's 16 training images, validated on its 4 others: what
# ../shared/data/drive-training gives), AdamW (../_base_/schedules/
# adamw_600it.py), 600 iterations (480 epochs of 16 images; 9600 crops),
# slide inference with 64x64 windows at stride 42 as in mmseg's DRIVE
# protocol; metrics inside the field of view.
# UNet-w16 returns decoder features: index 0: 256 ch, stride 16 ...
# index 3: 32 ch, stride 2; the head runs at stride 2, the SGE takes stride 2
# and stride 16. The variants sgdc-pool_* and sgdc-self_* change only the
# kernel source; fcn_unet-s5-d16-w16_* shares the bases.
# Data: python tools/dataset_converters/drive.py ../shared/data/drive-training
#           -o data/drive
_base_ = [
    '../_base_/models/sgdc_unet-s5-d16.py', '../_base_/datasets/drive_cpu.py',
    '../_base_/sgdc_runtime.py', '../_base_/schedules/adamw_600it.py'
]
crop_size = (64, 64)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(base_channels=16),
    decode_head=dict(
        in_channels=[32, 64, 128, 256],
        channels=32,
        sge=dict(in_channels=(32, 256), channels=32, fuse_channels=32)),
    test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(42, 42)))
randomness = dict(seed=0)
