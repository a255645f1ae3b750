# The GPU protocol of the replication study (docs/results.md): ResNet-50-V1c
# from scratch at ISIC 2017's full 256x192, 1500 iterations of batch 8,
# AdamW; official train (2000) -> official val (150). Made to fit one
# prepared run of under 10 minutes on one H100/H200 with all runs at once:
#   python tools/study.py configs/studies/isic2017_gpu.py --jobs 8
# (tools/benchmark/gpu_study.sh is that prepared run.)
_suffix = '_r50_1xb8-1500_isic2017-256x192.py'
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
external = dict(
    ph2=dict(
        dataset=dict(type='PH2Dataset', data_root='data/ph2-sample',
                     ann_file='splits/all.txt'),
        variants=['sgdc', 'pool']))
