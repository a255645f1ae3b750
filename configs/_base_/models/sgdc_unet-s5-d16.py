# SGDC head on mmseg's UNet-S5-D16 backbone (mmseg::_base_/models/
# fcn_unet_s5-d16.py's backbone), from scratch. UNet returns decoder features
# from coarse to fine: index 0: 1024 ch, stride 16 ... index 3: 128 ch,
# stride 2 (4: 64, stride 1). The head runs at stride 2 (index 3); the SGE
# takes stride 2 and stride 16. A config sets crop_size, the data
# preprocessor's size and test_cfg (slide windows); the quarter-width
# (base 16 channels) 2-CPU variants override the widths only.
_base_ = ['./sgdc_r50.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        _delete_=True,
        type='UNet',
        in_channels=3,
        base_channels=64,
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
        in_channels=[128, 256, 512, 1024],
        in_index=[3, 2, 1, 0],
        channels=64,
        sge=dict(in_channels=(128, 1024), in_index=(3, 0), channels=64,
                 fuse_channels=64)))
