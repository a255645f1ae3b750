# SGDC on mmseg's UNet-S5-D16 backbone, from scratch, on MoNuSeg 2018 in the
# protocol of ../_base_/datasets/monuseg.py: trained on the 30 official
# training tiles (1000x1000, 40x, no resizing) with random 256x256 crops,
# batch 16, 40k iterations of SGD (mmseg::_base_/schedules/schedule_40k.py:
# lr 0.01, poly, validation and a checkpoint every 4000 iterations), slide
# inference with 256x256 windows at stride 170 (mmseg's UNet/HRF setting);
# tested on the 14 official test tiles with NucleiMetric (Dice, IoU, AJI,
# PQ) and mmseg's IoUMetric. For a GPU; the 2-CPU protocol is
# sgdc_unet-s5-d16-w16_1xb4-*_monuseg-512x512.py.
# UNet returns decoder features from coarse to fine:
#   index 0: 1024 ch, stride 16 ... index 3: 128 ch, stride 2 (4: 64, stride 1)
# The head runs at stride 2 (index 3); the SGE takes stride 2 and stride 16.
# The variants sgdc-pool_* and sgdc-self_* change only the kernel source.
# Data: python tools/dataset_converters/monuseg.py SOURCE -o data/monuseg
_base_ = [
    '../_base_/models/sgdc_unet-s5-d16.py', '../_base_/datasets/monuseg.py',
    '../_base_/sgdc_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    type='StructureEncoderDecoder',
    data_preprocessor=data_preprocessor,
    test_cfg=dict(mode='slide', crop_size=(256, 256), stride=(170, 170)))
# StructureEncoderDecoder adds the SGE edge map to the predictions (the
# segmentation is unchanged), so AJI/PQ are scored twice: instances from the
# connected components of the mask (keys nuclei/...) and from the SGE-based
# split of touching nuclei (keys nuclei_sge/...; docs/metrics.md). The
# sgdc-pool/sgdc-self variants inherit both.
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='NucleiMetric'),
    dict(type='NucleiMetric', pred_instances='sge', prefix='nuclei_sge'),
]
test_evaluator = val_evaluator
