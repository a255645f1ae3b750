# Baseline: pooling-based dynamic kernels without the SGE (no boundary loss),
# the paper's comparison point.
_base_ = ['./sgdc_r50_1xb8-20k_isic2018-256x256.py']
model = dict(decode_head=dict(kernel_source='pool', sge=None))
