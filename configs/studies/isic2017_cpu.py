# The 2-CPU replication study (docs/results.md): SGDC against its baselines
# on real ISIC 2017 data (official train -> official val, 150 images), every
# variant on the same half-width ResNet-18-V1c, data, schedule (600 iterations,
# batch 8, AdamW) and seeds, from scratch. About 5 minutes per run on 2 cores.
#   python tools/study.py configs/studies/isic2017_cpu.py
# Data: data/isic2017-256x192 (see configs/_base_/datasets/isic2017_256x192.py);
# PH2 (external test): python tools/dataset_converters/ph2.py SOURCE -o data/ph2
# (or the 4-case sample, see `external` below).
_suffix = '_r18-half_1xb8-600_isic2017-128x96.py'
# Order = priority: runs go seed by seed in this order.
variants = {
    'sgdc': '../sgdc/sgdc' + _suffix,
    'pool': '../sgdc/sgdc-pool' + _suffix,
    'self': '../sgdc/sgdc-self' + _suffix,
    'upernet': '../sgdc/upernet' + _suffix,
    'pool-nosge': '../sgdc/sgdc-pool-nosge' + _suffix,
    'self-nosge': '../sgdc/sgdc-self-nosge' + _suffix,
}
# Not in the default grid: FCN on UNet-S5-D16 (base 16) trains at 1.8-3.5
# s/iteration on 2 CPU cores (measured, 10-iteration logging intervals), i.e.
# 20-35 min per run, over this protocol's budget. Add it with
#   --variants sgdc fcn-unet   (after putting it back into `variants`)
# or run its config directly.
seeds = [0, 1, 2]
work_dir = 'work_dirs/studies/isic2017_cpu'
# (candidate, baseline): structure guidance vs pooled context with the same
# boundary loss, vs unguided kernels, vs plain mmseg heads; and the paper's
# baseline (pooled kernels, no SGE).
compare = [('sgdc', 'pool'), ('sgdc', 'self'), ('sgdc', 'upernet'),
           ('sgdc', 'pool-nosge'), ('pool', 'self')]
description = (
    'ISIC 2017 Task 1, official train (2000) -> official val (150), '
    '128x96 input, metrics on the 256x192 masks; half-width '
    'ResNet-18-V1c (UNet-S5-D16 at base 16 for fcn-unet), from scratch, '
    '600 iterations of batch 8, AdamW.')
external = dict(
    ph2=dict(
        dataset=dict(type='PH2Dataset', data_root='data/ph2-sample',
                     ann_file='splits/all.txt'),
        variants=['sgdc', 'pool']))
