# Ablation: kernels from the features alone, SGE boundary loss kept.
_base_ = ['./sgdc_r50_1xb8-1500_isic2017-256x192.py']
model = dict(decode_head=dict(kernel_source='self'))
