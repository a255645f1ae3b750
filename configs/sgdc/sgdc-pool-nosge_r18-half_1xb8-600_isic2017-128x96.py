# Baseline: pooling-based dynamic kernels without the SGE (no boundary loss),
# the paper's comparison point.
_base_ = ['./sgdc_r18-half_1xb8-600_isic2017-128x96.py']
model = dict(decode_head=dict(kernel_source='pool', sge=None))
