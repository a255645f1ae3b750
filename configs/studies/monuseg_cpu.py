# The 2-CPU fine-structure study on MoNuSeg (issue 14): structure-guided
# kernels (sgdc) against pooled (pool) and unguided (self) dynamic kernels
# and the plain mmseg model (fcn-unet), all on mmseg's UNet-S5-D16 at base 16
# channels, from scratch, 600 iterations of batch 4 (random 128x128 crops of
# the tiles resized to 512x512), slide inference, seeds 0-2. Held-out part:
# fold 0 of the converter's 5-fold split of the 30 training tiles in
# ../shared/data (24 train / 6 test), set in
# ../_base_/datasets/monuseg_cpu.py: the same for every variant and seed. It
# is NOT the official MoNuSeg test set (not in ../shared/data).
#   python tools/dataset_converters/monuseg.py ../shared/data/monuseg-train \
#       -o data/monuseg
#   python tools/study.py configs/studies/monuseg_cpu.py
_suffix = '_unet-s5-d16-w16_1xb4-600_monuseg-512x512.py'
variants = {
    'sgdc': '../sgdc/sgdc' + _suffix,
    'pool': '../sgdc/sgdc-pool' + _suffix,
    'self': '../sgdc/sgdc-self' + _suffix,
    'fcn-unet': '../sgdc/fcn' + _suffix,
}
seeds = [0, 1, 2]
work_dir = 'work_dirs/studies/monuseg_cpu'
# NucleiMetric: per-image Dice, IoU, AJI, PQ; the study's tables take the
# instances as connected components of the predicted mask (keys nuclei/...).
# The SGDC configs' tests also score the SGE split (keys nuclei_sge/..., in
# each run's summary.json and per_image_nuclei_sge_metrics.csv);
# the `sge_split` row below puts it into the report.
metrics = 'nuclei'
compare = [('sgdc', 'pool'), ('sgdc', 'self'), ('sgdc', 'fcn-unet')]
description = (
    'MoNuSeg, fold 0 of the 30 training tiles in ../shared/data (24 train '
    '-> 6 held out; not the official test set), tiles resized to 512x512, '
    'UNet-S5-D16 at base 16, from scratch, 600 iterations of batch 4 on '
    'random 128x128 crops, AdamW, slide inference; metrics on the original '
    '1000x1000 masks; AJI/PQ with instances = connected components, and '
    '(row `sge_split`) with touching nuclei split by the SGE edge map.')
# AJI/PQ with the SGE-based instance separation: the SGDC configs' test
# (StructureEncoderDecoder + NucleiMetric(pred_instances='sge',
# prefix='nuclei_sge')) already scores every finished seed of the variants
# that have an SGE that way (split_instances: seeds = foreground with
# boundary probability below 0.5, then a watershed); this row reads those
# nuclei_sge/... keys from each run's own test, nothing is re-tested.
# fcn-unet has no SGE and is not in this row.
external = dict(
    sge_split=dict(metric_prefix='nuclei_sge',
                   variants=['sgdc', 'pool', 'self']))
