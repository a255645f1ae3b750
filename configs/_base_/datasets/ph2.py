# PH2 (background / lesion) in the converted layout written by
#   python tools/dataset_converters/ph2.py SOURCE -o data/ph2
#   data/ph2/images/<name>.png   masks/<name>.png (0 = bg, 1 = lesion)
#   data/ph2/splits/all.txt      all 200 cases
# This base is an EXTERNAL TEST SET: val and test run on all.txt and there
# is no train_dataloader (use it to test a model trained on ISIC, e.g.
# configs/sgdc/*_isic2016-256x256_test-ph2.py). To train on
# PH2 itself, convert with --folds K and give train_dataloader a dataset on
# splits/fold{i}_train.txt (its pipeline and loader settings come from
# medical_256x256.py) and val/test on splits/fold{i}_val.txt. Images are
# inferred at 256x256 and scored at their original resolution.
# See docs/datasets.md.
_base_ = ['./medical_256x256.py']
dataset_type = 'PH2Dataset'
data_root = 'data/ph2'

train_dataloader = None
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file='splits/all.txt'))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file='splits/all.txt'))
