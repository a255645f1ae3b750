# The paper protocol on isic2016: every variant on ResNet-50-V1c from scratch
# (the *_r50-scratch_* configs; the *_r50_* configs start from ImageNet),
# 20k iterations of batch 8, SGD (mmseg's schedule), 3 seeds; scored on the
# LAST checkpoint (the configs also keep the best one by medical/mIoU, which
# for this split is chosen on the test data). Not run here: the data is not
# available to this project (docs/results.md).
#   python tools/study.py configs/studies/isic2016_r50.py
_suffix = '_1xb8-20k_isic2016-256x256.py'
variants = {
    'sgdc': '../sgdc/sgdc_r50-scratch' + _suffix,
    'pool': '../sgdc/sgdc-pool_r50-scratch' + _suffix,
    'self': '../sgdc/sgdc-self_r50-scratch' + _suffix,
    'upernet': '../sgdc/upernet_r50-scratch' + _suffix,
    'fcn-unet': '../sgdc/fcn_unet-s5-d16' + _suffix,
    'pool-nosge': '../sgdc/sgdc-pool-nosge_r50-scratch' + _suffix,
    'self-nosge': '../sgdc/sgdc-self-nosge_r50-scratch' + _suffix,
}
seeds = [0, 1, 2]
work_dir = 'work_dirs/studies/isic2016_r50'
compare = [('sgdc', 'pool'), ('sgdc', 'self'), ('sgdc', 'upernet'),
           ('sgdc', 'fcn-unet'), ('sgdc', 'pool-nosge'), ('pool', 'self')]
description = ('ISIC 2016, official train (900) -> official test (379), 256x256, metrics at the original resolution; PH2 (all 200) as an external test set.')
external = dict(
    ph2=dict(
        dataset=dict(type='PH2Dataset', data_root='data/ph2',
                     ann_file='splits/all.txt'),
        variants=['sgdc', 'pool', 'upernet']))
