# The 2-CPU fine-structure study on DRIVE (issue 14): structure-guided
# kernels (sgdc) against pooled (pool) and unguided (self) dynamic kernels
# and the plain mmseg model (fcn-unet), all on mmseg's UNet-S5-D16 at base 16
# channels, from scratch, 600 iterations of batch 16 (random 64x64 crops),
# slide inference, seeds 0-2. Held-out part: fold 0 of the converter's
# 5-fold split of the 20 official training images (16 train / 4 test),
# set in ../_base_/datasets/drive_cpu.py: the same for every variant and
# seed. It is NOT the official test split (not in ../shared/data), so the
# absolute numbers are not those of the literature's test split.
#   python tools/dataset_converters/drive.py ../shared/data/drive-training \
#       -o data/drive
#   python tools/study.py configs/studies/drive_cpu.py
_suffix = '_unet-s5-d16-w16_1xb16-600_drive-64x64.py'
# Order = priority: runs go seed by seed in this order.
variants = {
    'sgdc': '../sgdc/sgdc' + _suffix,
    'pool': '../sgdc/sgdc-pool' + _suffix,
    'self': '../sgdc/sgdc-self' + _suffix,
    'fcn-unet': '../sgdc/fcn' + _suffix,
}
seeds = [0, 1, 2]
work_dir = 'work_dirs/studies/drive_cpu'
# VesselMetric: F1 (= Dice), Se, Sp, AUC, clDice inside the field of view;
# paired statistics per image from per_image_vessel_metrics.csv.
metrics = 'vessel'
compare = [('sgdc', 'pool'), ('sgdc', 'self'), ('sgdc', 'fcn-unet')]
description = (
    'DRIVE, fold 0 of the 20 official training images (16 train -> 4 '
    'held out; not the official test split), UNet-S5-D16 at base 16, '
    'from scratch, 600 iterations of batch 16 on random 64x64 crops, '
    'AdamW, slide inference (64x64, stride 42); vessel metrics inside the '
    'field of view.')
