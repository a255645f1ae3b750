# Baseline: the same model with pooling-based dynamic kernels (kernels from
# average-pooled context, as the paper's baselines), SGE boundary loss kept as
# an auxiliary loss: only the kernel source differs from SGDC.
_base_ = ['./sgdc_r50_1xb16-40k_drive-64x64.py']
model = dict(decode_head=dict(kernel_source='pool'))
