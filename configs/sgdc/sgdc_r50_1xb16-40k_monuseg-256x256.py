# SGDC on ResNet-50-V1c (the paper's backbone; from scratch, no pretrained
# weights), on MoNuSeg 2018 in the protocol of ../_base_/datasets/monuseg.py
# and of sgdc_unet-s5-d16_1xb16-40k_monuseg-256x256.py: random 256x256
# crops of the 1000x1000 training tiles at 40x, batch 16, 40k iterations of
# SGD (mmseg::_base_/schedules/schedule_40k.py), slide inference with
# 256x256 windows at stride 170; tested on the 14 official test tiles. The
# head runs at stride 4 (stage 1), the SGE takes stages 1 and 4. For a GPU;
# the 2-CPU protocol is sgdc_r18-half_1xb4-600_monuseg-512x512.py.
_base_ = [
    '../_base_/models/sgdc_r50.py', '../_base_/datasets/monuseg.py',
    '../_base_/sgdc_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    test_cfg=dict(mode='slide', crop_size=(256, 256), stride=(170, 170)))
