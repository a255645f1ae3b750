# The GPU protocol of the replication study (docs/results.md): ResNet-50-V1c
# from scratch (the *_r50-scratch_* configs) at ISIC 2017's full 256x192, 1500 iterations of batch 8,
# AdamW; official train (2000) -> official val (150). Made to fit one
# prepared run of under 10 minutes on one H100/H200 with all runs at once:
#   python tools/study.py configs/studies/isic2017_gpu.py --jobs 8
# (tools/benchmark/gpu_study.sh is that prepared run.)
_suffix = '_r50-scratch_1xb8-1500_isic2017-256x192.py'
variants = {
    'sgdc': '../sgdc/sgdc' + _suffix,
    'pool': '../sgdc/sgdc-pool' + _suffix,
    'self': '../sgdc/sgdc-self' + _suffix,
    'upernet': '../sgdc/upernet' + _suffix,
}
seeds = [0, 1]
work_dir = 'work_dirs/studies/isic2017_gpu'
compare = [('sgdc', 'pool'), ('sgdc', 'self'), ('sgdc', 'upernet')]
description = (
    'ISIC 2017 Task 1, official train (2000) -> official val (150) at '
    '256x192; ResNet-50-V1c from scratch, 1500 iterations of batch 8, AdamW.')
# PH2 images (765x572) are resized to the training size for inference (the
# ISIC 2017 test pipeline has no Resize: its images are already 256x192);
# metrics stay at PH2's resolution. The H200 run of 2026-11-26 predates this
# pipeline and inferred PH2 at 765x572 (docs/results.md).
external = dict(
    ph2=dict(
        dataset=dict(
            type='PH2Dataset', data_root='data/ph2-sample',
            ann_file='splits/all.txt',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(256, 192), keep_ratio=False),
                dict(type='LoadAnnotations'),
                dict(type='PackSegInputs'),
            ]),
        variants=['sgdc', 'pool']))
