# The paper protocol's schedule: mmseg's 20k-iteration SGD schedule (lr 0.01,
# momentum 0.9, weight decay 5e-4, poly decay; validation every 2000
# iterations), keeping the checkpoint with the best foreground IoU of
# MedicalMetric (best_medical_mIoU_iter_<N>.pth) and the last one.
_base_ = ['mmseg::_base_/schedules/schedule_20k.py']
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=2000,
        save_best='medical/mIoU',
        rule='greater',
        save_last=True))
