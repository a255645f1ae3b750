# ISIC 2018 Task 1 (background / lesion) in the converted layout written by
#   python tools/dataset_converters/isic2018.py SOURCE -o data/isic2018
#   data/isic2018/images/<name>.jpg|.png   masks/<name>.png (0 = bg, 1 = lesion)
#   data/isic2018/splits/{train,val,test}.txt  official 2594 / 100 / 1000
#   data/isic2018/splits/fold{i}_{train,val}.txt  k-fold over train.txt
# Trains on the official training set, validates on the official validation
# set and tests on the official test set. Pipelines (256x256, metrics at the
# original resolution), loaders and evaluators: medical_256x256.py.
# See docs/datasets.md.
_base_ = ['./medical_256x256.py']
dataset_type = 'ISIC2018Dataset'
data_root = 'data/isic2018'

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root,
        ann_file='splits/train.txt'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file='splits/val.txt'))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file='splits/test.txt'))
