# SGDC on ResNet-50-V1c, not dilated (strides 1, 2, 2, 2 as in UPerNet).
# Stage 1 (256 ch, stride 4) and stage 4 (2048 ch, stride 32) feed the SGE,
# as in the paper's code. The backbone starts from the ImageNet weights that
# mmseg's ResNet-50 configs name (open-mmlab://resnet50_v1c; mmseg's
# `pretrained=` becomes exactly this init_cfg), downloaded once into
# $TORCH_HOME/hub/checkpoints and loaded by sgdc_mmseg's safe loader.
# Offline: --cfg-options model.backbone.init_cfg.checkpoint=/path/to.pth,
# or a *-scratch config (backbone init_cfg=None: from scratch).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 1),
        strides=(1, 2, 2, 2),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=dict(
            type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')),
    decode_head=dict(
        type='SGDCHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=[0, 1, 2, 3],
        channels=256,
        num_blocks=2,
        guide_channels=16,
        num_heads=4,
        kernel_size=7,
        mlp_ratio=4.0,
        drop_path_rate=0.1,
        kernel_source='structure',
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        sge=dict(
            type='SGEHead',
            in_channels=(256, 2048),
            in_index=(0, 3),
            channels=256,
            fuse_channels=256,
            boundary_width=2,
            loss_decode=[
                dict(type='ClassBalancedBCELoss', loss_weight=1.0),
                dict(type='BinaryDiceLoss', loss_weight=1.0),
            ]),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
