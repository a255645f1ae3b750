# CoNIC 2022 (Lizard) nucleus types as semantic segmentation (background +
# neutrophil, epithelial, lymphocyte, plasma, eosinophil, connective) in the
# converted layout written by
#   python tools/dataset_converters/conic.py SOURCE -o data/conic
#   data/conic/images/<name>.png   masks/<name>.png (class ids 0..6)
#   data/conic/splits/fold{i}_{train,val}.txt  grouped k-fold (patches of one
#                                              source image share a fold)
# Trains on fold{fold}_train and validates/tests on fold{fold}_val. `fold`
# is read only in this file: a child config that inherits it must override
# the three ann_file keys (changing `fold` there has no effect), e.g.
#   train_dataloader = dict(dataset=dict(ann_file='splits/fold1_train.txt'))
#   val_dataloader = dict(dataset=dict(ann_file='splits/fold1_val.txt'))
#   test_dataloader = dict(dataset=dict(ann_file='splits/fold1_val.txt'))
# Pipelines (256x256: a no-op resize on the 256x256 CoNIC patches, not on
# patches converted with --size; metrics at the original resolution),
# loaders and evaluators: medical_256x256.py. See docs/datasets.md.
_base_ = ['./medical_256x256.py']
fold = 0
dataset_type = 'CoNICDataset'
data_root = 'data/conic'

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root,
        ann_file=f'splits/fold{fold}_train.txt'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root,
        ann_file=f'splits/fold{fold}_val.txt'))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root,
        ann_file=f'splits/fold{fold}_val.txt'))
