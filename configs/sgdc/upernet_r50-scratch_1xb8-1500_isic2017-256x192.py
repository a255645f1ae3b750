# upernet_r50_1xb8-1500_isic2017-256x192 trained from scratch: the same
# config without the ImageNet start (the backbone's init_cfg is None,
# so nothing is downloaded). The study protocol that runs here
# (configs/studies/) uses this file.
_base_ = './upernet_r50_1xb8-1500_isic2017-256x192.py'
model = dict(backbone=dict(init_cfg=None))
