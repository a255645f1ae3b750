# sgdc-self_r50_1xb8-20k_isic2016-256x256 trained from scratch: the same
# config without the ImageNet start (the backbone's init_cfg is None,
# so nothing is downloaded). The study protocol that runs here
# (configs/studies/) uses this file.
_base_ = './sgdc-self_r50_1xb8-20k_isic2016-256x256.py'
model = dict(backbone=dict(init_cfg=None))
