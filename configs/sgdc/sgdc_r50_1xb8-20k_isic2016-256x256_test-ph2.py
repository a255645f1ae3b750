# The ISIC 2016 model of sgdc_r50_1xb8-20k_isic2016-256x256.py tested on
# PH2 (all 200 cases) as an external test set; only the test dataloader
# changes (same 256x256 test pipeline, metrics at the original resolution):
#   python tools/test.py <this config> \
#       work_dirs/sgdc_r50_1xb8-20k_isic2016-256x256/best_medical_mIoU_iter_<N>.pth
# Data: python tools/dataset_converters/ph2.py SOURCE -o data/ph2
_base_ = ['./sgdc_r50_1xb8-20k_isic2016-256x256.py']
test_dataloader = dict(
    dataset=dict(
        type='PH2Dataset', data_root='data/ph2', ann_file='splits/all.txt'))
