# The ISIC 2016 model of fcn_unet-s5-d16_1xb8-20k_isic2016-256x256.py
# tested on PH2 (all 200 cases) as an external test set; only the test
# dataloader changes, as in sgdc_r50_1xb8-20k_isic2016-256x256_test-ph2.py:
#   python tools/test.py <this config> \
#       work_dirs/fcn_unet-s5-d16_1xb8-20k_isic2016-256x256/best_medical_mIoU_iter_<N>.pth
_base_ = ['./fcn_unet-s5-d16_1xb8-20k_isic2016-256x256.py']
test_dataloader = dict(
    dataset=dict(
        type='PH2Dataset', data_root='data/ph2', ann_file='splits/all.txt'))
