# Baseline: pooling-based dynamic kernels, SGE boundary loss kept (only the
# kernel source differs from sgdc_r50_1xb8-1500_isic2017-256x192.py).
_base_ = ['./sgdc_r50_1xb8-1500_isic2017-256x192.py']
model = dict(decode_head=dict(kernel_source='pool'))
