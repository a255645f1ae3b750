"""mmengine's FLOP counter counts sgdc_aggregate as B*C*k^2*H*W multiply-adds."""
import unittest.mock

import pytest
import torch
from mmengine.analysis import ActivationAnalyzer, FlopAnalyzer
from mmengine.analysis import complexity_analysis

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.compat import flops as sgdc_flops
from sgdc_mmseg.ops import sgdc_aggregate


class _Aggregate(torch.nn.Module):

    def __init__(self, k, heads, backend='auto'):
        super().__init__()
        self.k, self.heads, self.backend = k, heads, backend

    def forward(self, x, logits):
        return sgdc_aggregate(x, logits, self.k, self.heads,
                              backend=self.backend)


def _count(module, inputs):
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.unsupported_ops_warnings(False)
    return analyzer


@pytest.fixture
def registered(monkeypatch):
    """Our handles in copies of mmengine's default tables (restored after)."""
    monkeypatch.setattr(complexity_analysis, '_DEFAULT_SUPPORTED_FLOP_OPS',
                        dict(complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS))
    monkeypatch.setattr(complexity_analysis, '_DEFAULT_SUPPORTED_ACT_OPS',
                        dict(complexity_analysis._DEFAULT_SUPPORTED_ACT_OPS))
    assert sgdc_flops.register_flop_handles() == [
        'sgdc_mmseg::sgdc_aggregate']


@pytest.mark.parametrize('b,c,h,w,k,heads', [(2, 8, 5, 7, 3, 2),
                                             (1, 4, 6, 6, 7, 4)])
def test_aggregate_counts_hand_count(registered, b, c, h, w, k, heads):
    x = torch.randn(b, c, h, w)
    logits = torch.randn(b, heads * k * k, h, w)
    analyzer = _count(_Aggregate(k, heads), (x, logits))
    # hand count: every one of the B*C*H*W outputs sums k*k weighted
    # neighbours -> k*k multiply-adds (mmengine's conv convention)
    assert analyzer.total() == b * c * k * k * h * w
    assert analyzer.by_operator() == {'sgdc_aggregate': b * c * k * k * h * w}
    assert not analyzer.unsupported_ops()
    assert ActivationAnalyzer(_Aggregate(k, heads), (x, logits)).total() \
        == b * c * h * w


def test_same_convention_as_mmengine_conv(registered):
    # a depthwise k x k convolution does the same multiply-adds per output
    # (C * k*k * H * W) as the aggregation with one kernel per channel
    b, c, h, w, k = 2, 4, 6, 5, 3
    conv = torch.nn.Conv2d(c, c, k, padding=1, groups=c, bias=False)
    x = torch.randn(b, c, h, w)
    conv_count = _count(conv, (x, )).total()
    agg_count = _count(_Aggregate(k, c), (x, torch.randn(b, c * 9, h, w)))
    assert agg_count.total() == conv_count == b * c * k * k * h * w


def test_sgdc_block_counts_its_aggregation(registered):
    from sgdc_mmseg.models.layers import SGDC
    block = SGDC(8, guide_channels=4, num_heads=2, kernel_size=5,
                 mlp_ratio=1.0).eval()
    x, g = torch.randn(1, 8, 6, 7), torch.randn(1, 4, 6, 7)
    analyzer = _count(block, (x, g))
    assert analyzer.by_operator()['sgdc_aggregate'] == 8 * 25 * 6 * 7
    # attn: 1x1 conv 8 -> 2*8 + 2*25 channels; proj_guidance 4 -> 8
    assert analyzer.by_operator()['conv'] >= (8 * 66 + 4 * 8) * 6 * 7
    assert 'sgdc_mmseg::sgdc_aggregate' not in analyzer.unsupported_ops()


def test_without_registration_the_op_counts_zero(monkeypatch):
    # what mmengine does on its own: the operator is "unsupported", 0 FLOPs
    monkeypatch.setattr(complexity_analysis, '_DEFAULT_SUPPORTED_FLOP_OPS',
                        dict(complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS))
    complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS.pop(
        'sgdc_mmseg::sgdc_aggregate', None)
    analyzer = _count(_Aggregate(3, 2),
                      (torch.randn(1, 4, 3, 3), torch.randn(1, 18, 3, 3)))
    assert analyzer.total() == 0
    assert analyzer.unsupported_ops() == {'sgdc_mmseg::sgdc_aggregate': 1}


def test_register_is_idempotent(registered):
    table = complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS
    before = dict(table)
    sgdc_flops.register_flop_handles()
    assert table == before


def test_missing_private_table_is_a_clear_error(monkeypatch):
    monkeypatch.delattr(complexity_analysis, '_DEFAULT_SUPPORTED_FLOP_OPS')
    with pytest.raises(RuntimeError, match='set_op_handle'):
        sgdc_flops.register_flop_handles()


@pytest.mark.parametrize('shape,expected', [([64], (64, 64)),
                                            ([32, 48], (32, 48))])
def test_parse_shape(shape, expected):
    assert sgdc_flops.parse_shape(shape) == expected


@pytest.mark.parametrize('shape', [[], [1, 2, 3], [0, 5], [-4]])
def test_parse_shape_errors(shape):
    with pytest.raises(ValueError, match='--shape'):
        sgdc_flops.parse_shape(shape)


def test_model_complexity_counts_the_sgdc_blocks(registered, tiny_config):
    from sgdc_mmseg.models.layers import SGDC
    cfg = tiny_config()
    seen = []

    def hook(module, args, output):
        # (under torch.jit.trace the sizes are tensors)
        seen.append((tuple(int(s) for s in args[0].shape),
                     module.kernel_size))

    import mmseg.apis
    real_init = mmseg.apis.init_model

    def init_with_hook(*args, **kwargs):
        model = real_init(*args, **kwargs)
        for m in model.modules():
            if isinstance(m, SGDC):
                m.register_forward_hook(hook)
        return model

    with unittest.mock.patch.object(mmseg.apis, 'init_model',
                                    init_with_hook):
        result = sgdc_flops.model_complexity(cfg, [32, 48])
    assert result['input_shape'] == (1, 3, 32, 48)
    # the trace runs the forward once per analysis; all calls are the same
    assert seen and len(set(seen)) == 1
    (b, c, h, w), k = seen[0]
    assert result['by_operator']['sgdc_aggregate'] == b * c * k * k * h * w
    assert result['flops'] == sum(result['by_operator'].values())
    assert result['params'] > 0 and result['activations'] > 0
    assert 'sgdc_mmseg::sgdc_aggregate' not in result['uncounted']


def test_model_complexity_missing_config(tmp_path):
    missing = tmp_path / 'nope.py'
    with pytest.raises(FileNotFoundError, match='nope.py'):
        sgdc_flops.model_complexity(str(missing), [32])
