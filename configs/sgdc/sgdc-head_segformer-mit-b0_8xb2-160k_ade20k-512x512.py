# Take an existing mmseg model config and swap only its decode head for
# SGDCHead: here SegFormer MiT-B0 on ADE20K, as shipped with mmseg.
# The backbone starts from the ImageNet weights mmseg's config names (its
# model.backbone.init_cfg, downloaded once through sgdc_mmseg's safe loader).
_base_ = ['mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py']
custom_imports = dict(imports=['sgdc_mmseg'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook')]
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='SGDCHead',
        in_channels=[32, 64, 160, 256],
        in_index=[0, 1, 2, 3],
        channels=128,
        num_blocks=2,
        num_heads=4,
        kernel_size=7,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        sge=dict(type='SGEHead', in_channels=(32, 256), in_index=(0, 3),
                 channels=64, fuse_channels=64),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
