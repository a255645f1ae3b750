# Ablation: kernels from the features alone (no guidance), SGE boundary loss
# kept as an auxiliary loss.
_base_ = ['./sgdc_unet-s5-d16_1xb16-40k_drive-64x64.py']
model = dict(decode_head=dict(kernel_source='self'))
