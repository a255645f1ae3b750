# Comparison point: kernels from the features alone (no guidance), SGE boundary
# loss kept; only the kernel source differs from
# sgdc_r50_1xb16-40k_monuseg-256x256.py.
_base_ = ['./sgdc_r50_1xb16-40k_monuseg-256x256.py']
model = dict(decode_head=dict(kernel_source='self'))
