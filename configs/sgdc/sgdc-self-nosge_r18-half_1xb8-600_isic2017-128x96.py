# Ablation: kernels from the features alone, no SGE and no boundary loss.
_base_ = ['./sgdc_r18-half_1xb8-600_isic2017-128x96.py']
model = dict(decode_head=dict(kernel_source='self', sge=None))
