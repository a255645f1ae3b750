# Baseline: the same model with pooling-based dynamic kernels (kernels from
# average-pooled context, as the paper's baselines), SGE boundary loss kept as
# an auxiliary loss: only the kernel source differs from SGDC.
_base_ = ['./sgdc_r18-half_1xb8-600_isic2017-128x96.py']
model = dict(decode_head=dict(kernel_source='pool'))
