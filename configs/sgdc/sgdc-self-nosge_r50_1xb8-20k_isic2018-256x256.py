# Ablation: kernels from the features alone, no SGE and no boundary loss.
_base_ = ['./sgdc_r50_1xb8-20k_isic2018-256x256.py']
model = dict(decode_head=dict(kernel_source='self', sge=None))
