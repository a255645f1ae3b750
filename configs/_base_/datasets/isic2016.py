# ISIC 2016 Part 1 (background / lesion) in the converted layout written by
#   python tools/dataset_converters/isic2016.py SOURCE -o data/isic2016
#   data/isic2016/images/<name>.jpg|.png   masks/<name>.png (0 = bg, 1 = lesion)
#   data/isic2016/splits/{train,test}.txt  official 900 training / 379 test
# The official test set serves as val and test (no separate validation set),
# as in the closest prior work (CTO). Pipelines (256x256, metrics at the
# original resolution), loaders and evaluators: medical_256x256.py.
# See docs/datasets.md.
_base_ = ['./medical_256x256.py']
dataset_type = 'ISIC2016Dataset'
data_root = 'data/isic2016'

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root,
        ann_file='splits/train.txt'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file='splits/test.txt'))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file='splits/test.txt'))
