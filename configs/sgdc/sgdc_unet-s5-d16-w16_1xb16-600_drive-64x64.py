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
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/drive_cpu.py',
    '../_base_/sgdc_runtime.py', '../_base_/schedules/adamw_600it.py'
]
crop_size = (64, 64)
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='UNet',
        in_channels=3,
        base_channels=16,
        num_stages=5,
        strides=(1, 1, 1, 1, 1),
        enc_num_convs=(2, 2, 2, 2, 2),
        dec_num_convs=(2, 2, 2, 2),
        downsamples=(True, True, True, True),
        enc_dilations=(1, 1, 1, 1, 1),
        dec_dilations=(1, 1, 1, 1),
        with_cp=False,
        conv_cfg=None,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU'),
        upsample_cfg=dict(type='InterpConv'),
        norm_eval=False,
        init_cfg=None),
    decode_head=dict(
        in_channels=[32, 64, 128, 256],
        in_index=[3, 2, 1, 0],
        channels=32,
        sge=dict(in_channels=(32, 256), in_index=(3, 0), channels=32,
                 fuse_channels=32)),
    test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(42, 42)))
randomness = dict(seed=0)
