"""FLOPs of SGDC models with mmengine's complexity analysis (mmengine 0.10.7).

mmengine counts FLOPs by tracing the model with ``torch.jit.trace`` and
looking each traced operator up in a table of handles; an operator without a
handle counts 0 and is only reported as "unsupported". The default tables
are private module dicts of ``mmengine.analysis.complexity_analysis``
(``_DEFAULT_SUPPORTED_FLOP_OPS`` and ``_DEFAULT_SUPPORTED_ACT_OPS``), copied
by every ``FlopAnalyzer`` / ``ActivationAnalyzer`` when it is built (so
also by ``get_model_complexity_info``). This module is the one place that
touches them: :func:`register_flop_handles` adds the handles of our
operators there.

Convention (mmengine's, for convolutions): one FLOP is one multiply-add
(``conv_flop_count`` = ``batch * prod(weight shape) * prod(output H, W)``;
"only multiplication is counted", bias and additions are not). Likewise

* ``sgdc_mmseg::sgdc_aggregate`` (the ``'shift'``, ``'cpp'`` and ``'triton'``
  backends): ``B * C * k**2 * H * W`` -- every output element is a weighted
  sum of ``k*k`` neighbours. The softmax over the taps is not counted
  (mmengine counts no softmax either). Activations: the output's
  ``B * C * H * W`` elements, as mmengine's ``generic_activation_jit``.

The ``'reference'`` backend is traced as plain PyTorch ops (unfold,
softmax, einsum) and counted by mmengine's own einsum handle, not by this
one.

:func:`model_complexity` is what mmseg 1.2.2's
``tools/analysis_tools/get_flops.py`` computes (it fails with mmengine
0.10.7, whose ``get_model_complexity_info`` rejects its ``input_shape`` and
``inputs`` given together; mmsegmentation issue #2958), plus the per-operator
counts and the operators that counted 0.
"""
import os.path as osp
from collections import Counter

#: Name of the aggregation operator in a ``torch.jit`` trace.
SGDC_AGGREGATE_OP = 'sgdc_mmseg::sgdc_aggregate'


def sgdc_aggregate_flop_jit(inputs, outputs):
    """mmengine FLOP handle of ``sgdc_mmseg::sgdc_aggregate``:
    ``B * C * k**2 * H * W`` multiply-adds, under the key
    ``'sgdc_aggregate'``."""
    from mmengine.analysis.jit_handles import get_shape
    b, c, h, w = get_shape(inputs[0])
    k = inputs[2].toIValue()
    return Counter({'sgdc_aggregate': b * c * k * k * h * w})


def sgdc_aggregate_activation_jit(inputs, outputs):
    """mmengine activation handle: the output's ``B * C * H * W``
    elements."""
    from mmengine.analysis.jit_handles import get_shape
    b, c, h, w = get_shape(outputs[0])
    return Counter({'sgdc_aggregate': b * c * h * w})


FLOP_HANDLES = {SGDC_AGGREGATE_OP: sgdc_aggregate_flop_jit}
ACTIVATION_HANDLES = {SGDC_AGGREGATE_OP: sgdc_aggregate_activation_jit}


def _default_tables():
    """mmengine's private default handle tables, with a clear error when a
    version moved them."""
    import mmengine
    from mmengine.analysis import complexity_analysis as ca
    tables = (getattr(ca, '_DEFAULT_SUPPORTED_FLOP_OPS', None),
              getattr(ca, '_DEFAULT_SUPPORTED_ACT_OPS', None))
    if not all(isinstance(t, dict) for t in tables):
        raise RuntimeError(
            'sgdc_mmseg.compat.flops: mmengine '
            f'{mmengine.__version__} has no dicts _DEFAULT_SUPPORTED_FLOP_OPS'
            ' / _DEFAULT_SUPPORTED_ACT_OPS in mmengine.analysis.'
            'complexity_analysis (written for mmengine 0.10.7); add the '
            'handles with FlopAnalyzer.set_op_handle(**FLOP_HANDLES) instead')
    return tables


def register_flop_handles():
    """Add the handles of our operators to mmengine's default tables, so
    every ``FlopAnalyzer``, ``ActivationAnalyzer`` and
    ``get_model_complexity_info`` built afterwards counts them. Idempotent;
    returns the operator names added."""
    flop_table, act_table = _default_tables()
    flop_table.update(FLOP_HANDLES)
    act_table.update(ACTIVATION_HANDLES)
    return sorted(FLOP_HANDLES)


def parse_shape(shape):
    """``(H, W)`` from ``[S]`` or ``[H, W]`` positive ints (``--shape``)."""
    shape = list(shape)
    if len(shape) == 1:
        shape = shape * 2
    if len(shape) != 2 or not all(
            isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(
            f'--shape must be one or two positive ints (H W), got {shape}')
    return tuple(shape)


def model_complexity(config, shape, cfg_options=None):
    """FLOPs, parameters and activations of the segmentor of ``config`` on
    one ``3 x H x W`` image, as mmseg's ``get_flops.py`` measures them: the
    model in eval mode without its auxiliary heads (they only train), SyncBN
    reverted to BN, the ``'tensor'`` forward (backbone, neck, decode head's
    logits before the final resize) of the data preprocessor's output (which
    may pad the image, e.g. to ``size``).

    Args:
        config (str | mmengine.Config): config file or loaded config.
        shape (sequence[int]): ``[S]`` or ``[H, W]``.
        cfg_options (dict, optional): merged into the config.

    Returns:
        dict: ``flops``, ``params``, ``activations`` (ints; FLOPs as
        multiply-adds), ``input_shape`` (the tensor fed to the model),
        ``by_operator`` (FLOPs per handle key, e.g. ``'conv'``,
        ``'sgdc_aggregate'``), ``uncounted`` (traced operator -> number of
        calls, counted 0) and ``table`` (mmengine's per-module table).
    """
    import torch
    from mmengine.analysis import (ActivationAnalyzer, FlopAnalyzer,
                                   parameter_count)
    from mmengine.analysis.print_helper import complexity_stats_table
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmseg.apis import init_model
    from mmseg.structures import SegDataSample

    h, w = parse_shape(shape)
    if not isinstance(config, Config):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(f'config "{config}" not found')
        config = Config.fromfile(str(config))
    if 'model' not in config:
        raise ValueError(f'config "{config.filename}" has no `model`')
    register_flop_handles()
    model = init_model(config, None, device='cpu', cfg_options=cfg_options)
    if getattr(model, 'auxiliary_head', None) is not None:
        model.auxiliary_head = None
    model = revert_sync_batchnorm(model).eval()
    meta = dict(ori_shape=(h, w), img_shape=(h, w), pad_shape=(h, w))
    data = model.data_preprocessor(
        dict(inputs=[torch.rand(3, h, w) * 255],
             data_samples=[SegDataSample(metainfo=meta)]), False)
    inputs = data['inputs']
    flops = FlopAnalyzer(model, inputs)
    acts = ActivationAnalyzer(model, inputs)
    for analyzer in (flops, acts):
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
    with torch.no_grad():
        total = flops.total()
        return dict(
            flops=total, params=parameter_count(model)[''],
            activations=acts.total(), input_shape=tuple(inputs.shape),
            by_operator=dict(flops.by_operator()),
            uncounted=dict(flops.unsupported_ops()),
            table=complexity_stats_table(flops=flops, activations=acts,
                                         show_param_shapes=False))
