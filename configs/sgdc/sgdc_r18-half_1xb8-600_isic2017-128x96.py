# The 2-CPU replication protocol (docs/results.md): SGDC on ResNet-18-V1c at
# half width (stem and base 32 channels; stages 32/64/128/256), from scratch
# (no pretrained weights exist here), ISIC 2017 at 128x96 (metrics on the
# 256x192 masks), AdamW, 600 iterations of batch 8 (2.4 epochs of the 2000
# training images): one run takes about 5 minutes on 2 CPU cores. The study's
# variants (sgdc-pool*, sgdc-self*, upernet_*) inherit from this file and
# change only the head; fcn_unet-* shares its bases. The whole grid:
#   python tools/study.py configs/studies/isic2017_cpu.py
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/isic2017_128x96.py',
    '../_base_/sgdc_runtime.py', '../_base_/schedules/adamw_600it.py'
]
crop_size = (96, 128)
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
        sge=dict(in_channels=(32, 256), channels=64, fuse_channels=64)))
randomness = dict(seed=0)
