# DRIVE for the 2-CPU protocol: the data of drive.py (64x64 random crops,
# batch 16, the field of view loaded in the test pipeline) with the data
# that a fresh clone has (../shared/data/drive-training: the official
# training split only), so the model is trained on fold 0's training images
# (16) and validated/tested on its validation images (4) of the converter's
# k-fold (--folds 5 --seed 0, the default). One loader worker (a second one
# slows training on 2 cores) and flip-only TTA. `fold` is read only in this
# file: a child config that inherits it must override the three ann_file
# keys (as for conic.py). See docs/datasets.md.
_base_ = ['./drive.py']
fold = 0
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal'),
            ],
            [dict(type='LoadAnnotations')],
            [dict(type='LoadFOV')],  # after the flips: not flipped
            [dict(type='PackSegInputsWithFOV')],
        ])
]
train_dataloader = dict(
    num_workers=1,
    dataset=dict(ann_file=f'splits/fold{fold}_train.txt'))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(ann_file=f'splits/fold{fold}_val.txt'))
test_dataloader = val_dataloader
