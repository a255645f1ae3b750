# Comparison point: pooling-based dynamic kernels (kernels from average-pooled
# context), SGE boundary loss kept; only the kernel source differs from
# sgdc_unet-s5-d16-w16_1xb4-600_monuseg-512x512.py.
_base_ = ['./sgdc_unet-s5-d16-w16_1xb4-600_monuseg-512x512.py']
model = dict(decode_head=dict(kernel_source='pool'))
