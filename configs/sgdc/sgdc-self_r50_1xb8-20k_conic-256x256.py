# Ablation: kernels from the features alone (no guidance), SGE boundary loss
# kept as an auxiliary loss.
_base_ = ['./sgdc_r50_1xb8-20k_conic-256x256.py']
model = dict(decode_head=dict(kernel_source='self'))
