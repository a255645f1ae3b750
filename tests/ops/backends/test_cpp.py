"""The cpp backend's own machinery: parity with the formula on shapes that
reach its vector paths and their column tails, float32 and float64,
gradcheck, NaN propagation, what it accepts, and the fallback when the
extension cannot be built. Tests that need the built extension skip (not
fail) on a machine without a C++ compiler, as hardware-dependent tests do.
(Its parity over the shared size grid is in tests/ops/test_sgdc_aggregate.py.)
"""
import pytest
import torch

from sgdc_mmseg.ops import select_backend, sgdc_aggregate
from sgdc_mmseg.ops.backends import cpp

TOL = {torch.float32: dict(atol=2e-5, rtol=2e-5),
       torch.float64: dict(atol=1e-12, rtol=1e-12)}

needs_extension = pytest.mark.skipif(
    not cpp.extension_ready(),
    reason='the C++ extension of the cpp backend cannot be built here')


@needs_extension
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('k,heads,shape', [
    (7, 2, (1, 24, 11, 37)),   # 2 vector blocks + a 5-column tail (fp32)
    (5, 4, (2, 20, 6, 19)),    # channels per head 5: one block of 4 + 1
    (3, 1, (1, 8, 5, 40)),     # k=3, exact vector blocks in fp64
    (9, 3, (1, 9, 9, 33)),     # k=9: the generic (non-template) path
    (7, 1, (1, 70, 6, 16)),    # many channels per head
    (7, 4, (1, 8, 3, 5)),      # image smaller than the kernel, tail only
    (7, 2, (1, 8, 6, 300)),    # 3 column tiles of 100 (rings per tile)
    (3, 1, (2, 4, 5, 129)),    # 2 tiles of 65 and 64 columns
])
def test_matches_the_formula(dtype, k, heads, shape, naive_aggregate,
                             values_and_grads):
    gen = torch.Generator().manual_seed(k * 10 + heads)
    b, c, h, w = shape
    x = torch.randn(shape, generator=gen, dtype=dtype)
    logits = torch.randn(b, heads * k * k, h, w, generator=gen,
                         dtype=dtype) * 4
    g = torch.randn(shape, generator=gen, dtype=dtype)
    got = values_and_grads(
        lambda a, l: sgdc_aggregate(a, l, k, heads, backend='cpp'), x,
        logits, g)
    ref = values_and_grads(lambda a, l: naive_aggregate(a, l, k, heads), x,
                            logits, g)
    for a, r in zip(got, ref):
        assert a.dtype == dtype
        torch.testing.assert_close(a, r, **TOL[dtype])


@needs_extension
def test_softmax_is_exact_for_extreme_logits():
    # the float32 exp is a polynomial: one dominant tap (logit gap 200)
    # must give weight 1 exactly where the others underflow, and equal
    # logits must give equal weights.
    x = torch.ones(1, 1, 1, 1)
    logits = torch.full((1, 9, 1, 1), -100.0)
    logits[0, 4] = 100.0      # the centre tap
    assert sgdc_aggregate(x, logits, 3, 1, backend='cpp').item() == 1.0
    out, weights = cpp.forward(x, torch.zeros(1, 9, 1, 1), 3, 1)
    torch.testing.assert_close(weights, torch.full((1, 9, 1, 1), 1 / 9))
    assert out.item() == pytest.approx(1 / 9, rel=1e-6)


@needs_extension
def test_nan_logits_give_nan_not_a_silent_number():
    x = torch.randn(1, 2, 4, 4)
    logits = torch.randn(1, 9, 4, 4)
    logits[0, 3, 2, 2] = float('nan')
    out = sgdc_aggregate(x, logits, 3, 1, backend='cpp')
    assert out[0, :, 2, 2].isnan().all()
    assert not out[0, :, 0, 0].isnan().any()


@needs_extension
def test_gradcheck_float64():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4, 4, 5, dtype=torch.float64, generator=gen,
                    requires_grad=True)
    logits = torch.randn(1, 2 * 9, 4, 5, dtype=torch.float64, generator=gen,
                         requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, l: sgdc_aggregate(a, l, 3, 2, backend='cpp'), (x, logits))


@needs_extension
def test_only_the_gradients_asked_for():
    x = torch.randn(1, 4, 5, 18)
    logits = torch.randn(1, 2 * 25, 5, 18)
    g = torch.randn(1, 4, 5, 18)
    out, weights = cpp.forward(x, logits, 5, 2)
    gx, gl = cpp.backward(g, x, logits, weights, 5, 2, True, False)
    assert gx.shape == x.shape and gl.numel() == 0
    gx2, gl2 = cpp.backward(g, x, logits, weights, 5, 2, False, True)
    assert gx2.numel() == 0 and gl2.shape == logits.shape
    both = cpp.backward(g, x, logits, weights, 5, 2, True, True)
    torch.testing.assert_close(both[0], gx, atol=0, rtol=0)
    torch.testing.assert_close(both[1], gl2, atol=0, rtol=0)


@needs_extension
def test_auto_picks_cpp_for_cpu_float32_and_float64(monkeypatch):
    monkeypatch.delenv('SGDC_AGGREGATE_BACKEND', raising=False)
    assert select_backend(torch.zeros(1)) == 'cpp'
    assert select_backend(torch.zeros(1, dtype=torch.float64)) == 'cpp'
    # dtypes the kernel does not take fall back to shift
    assert select_backend(torch.zeros(1, dtype=torch.bfloat16)) == 'shift'


def test_can_run_reasons():
    meta = cpp.can_run(torch.device('meta'), torch.float32)
    assert not meta and 'needs CPU tensors, got tensors on meta' in \
        meta.reason
    half = cpp.can_run('cpu', torch.float16)
    assert not half and half.error is TypeError
    assert 'supports float32 and float64, got torch.float16' in half.reason
    with pytest.raises(TypeError, match='supports float32 and float64'):
        sgdc_aggregate(torch.zeros(1, 1, 2, 2, dtype=torch.float16),
                       torch.zeros(1, 9, 2, 2, dtype=torch.float16), 3, 1,
                       backend='cpp')


def test_a_failed_build_falls_back_to_shift(monkeypatch):
    """No compiler (simulated): can_run says why, one warning names the
    cause, 'auto' takes 'shift' and the results are still right."""
    from torch.utils import cpp_extension

    def no_compiler(*args, **kwargs):
        raise RuntimeError('Ninja is required to load C++ extensions')

    monkeypatch.setattr(cpp, '_state', {})
    monkeypatch.setattr(cpp_extension, 'load', no_compiler)
    monkeypatch.delenv('SGDC_AGGREGATE_BACKEND', raising=False)
    with pytest.warns(RuntimeWarning, match='could not be built .*Ninja is '
                      "required.*use the slower 'shift' backend"):
        verdict = cpp.can_run('cpu', torch.float32)
    assert not verdict and 'Ninja is required' in verdict.reason
    assert select_backend(torch.zeros(1)) == 'shift'
    with pytest.raises(RuntimeError, match='could not be built'):
        sgdc_aggregate(torch.zeros(1, 1, 2, 2), torch.zeros(1, 9, 2, 2), 3,
                       1, backend='cpp')


def test_disabled_by_environment(monkeypatch):
    monkeypatch.setattr(cpp, '_state', {})
    monkeypatch.setenv(cpp.BUILD_ENV, '0')
    monkeypatch.delenv('SGDC_AGGREGATE_BACKEND', raising=False)
    verdict = cpp.can_run('cpu', torch.float32)
    assert not verdict
    assert 'disabled by SGDC_AGGREGATE_CPP=0' in verdict.reason
    assert select_backend(torch.zeros(1)) == 'shift'


def test_extension_name_changes_with_the_source_and_flags(monkeypatch,
                                                          tmp_path):
    name = cpp.extension_name()
    assert name.startswith('sgdc_mmseg_aggregate_cpu_')
    src = tmp_path / 'k.cpp'
    src.write_bytes(open(cpp.SOURCE, 'rb').read() + b'\n// changed\n')
    monkeypatch.setattr(cpp, 'SOURCE', str(src))
    assert cpp.extension_name() != name
