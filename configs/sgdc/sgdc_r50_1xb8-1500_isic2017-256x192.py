# The GPU protocol of the replication study (docs/results.md): SGDC on
# ResNet-50-V1c (the paper's backbone; from mmseg's ImageNet start; the
# study ran *_r50-scratch_1xb8-1500_isic2017-256x192.py, from scratch),
# ISIC 2017 at its full 256x192, AdamW (the 2-CPU protocol's schedule),
# 1500 iterations of batch 8 (6 epochs of the 2000 training images). The
# sgdc-pool/sgdc-self/upernet siblings change only the head.
#   python tools/study.py configs/studies/isic2017_gpu.py --jobs 8
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/isic2017_256x192.py',
    '../_base_/sgdc_runtime.py', '../_base_/schedules/adamw_600it.py'
]
max_iters = 1500
crop_size = (192, 256)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
randomness = dict(seed=0)
