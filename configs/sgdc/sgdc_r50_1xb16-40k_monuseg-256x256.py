# SGDC on ResNet-50-V1c (the paper's backbone; from mmseg's ImageNet start
# open-mmlab://resnet50_v1c), on MoNuSeg 2018 in the protocol of
# ../_base_/datasets/monuseg.py
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
