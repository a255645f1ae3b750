# mmseg's DRIVE protocol on one GPU (issue 14), shortened to what one
# prepared call fits: FCN on UNet-S5-D16 (mmseg's own DRIVE baseline,
# fcn_unet-s5-d16_1xb16-40k_drive-64x64.py) against SGDC on the same
# backbone (sgdc_unet-s5-d16_1xb16-40k_drive-64x64.py), both at full width,
# from scratch, random 64x64 crops of batch 16, SGD lr 0.01 with the poly
# schedule, slide inference (64x64, stride 42), metrics inside the field of
# view. The schedule is shortened from mmseg's 40k iterations to `iters`
# (the poly schedule scaled to it: tools/study.py --iters).
# Held-out parts: the converter's 5-fold split of the 20 official training
# images (data/drive/splits/fold{f}_{train,val}.txt: 16 train -> 4 held
# out per fold), so every training image is scored once per variant and the
# paired statistics run over 20 images. NOT the official test split (not
# in ../shared/data).
#   python tools/dataset_converters/drive.py ../shared/data/drive-training \
#       -o data/drive
#   python tools/study.py configs/studies/drive_gpu.py --jobs 10 \
#       --cfg-options train_dataloader.num_workers=2
# (tools/benchmark/gpu_study.sh with STUDY=configs/studies/drive_gpu.py is
# the prepared call.) On one H200 with 16 cores, 10 runs with one loader
# worker each trained 1000 iterations in 4 min 40 s, waiting for data
# 0.19 of their 0.28 s/iter; the tests were not reached (docs/results.md,
# "Protocol D on one NVIDIA H200").
_suffix = '_unet-s5-d16_1xb16-40k_drive-64x64.py'
variants = {
    'sgdc': '../sgdc/sgdc' + _suffix,
    'fcn-unet': '../sgdc/fcn' + _suffix,
}
seeds = [0]
iters = 1000
folds = dict(
    num_folds=5,
    train_split='splits/fold{fold}_train.txt',
    test_split='splits/fold{fold}_val.txt')
work_dir = 'work_dirs/studies/drive_gpu'
metrics = 'vessel'
compare = [('sgdc', 'fcn-unet')]
description = (
    "DRIVE, 5-fold cross-validation on the 20 official training images "
    "(16 train -> 4 held out per fold; not the official test split), "
    "mmseg's DRIVE protocol (UNet-S5-D16 at full width, random 64x64 "
    "crops of batch 16, SGD lr 0.01, poly) shortened from 40k to 1000 "
    "iterations, from scratch; slide inference (64x64, stride 42); vessel "
    "metrics inside the field of view.")
