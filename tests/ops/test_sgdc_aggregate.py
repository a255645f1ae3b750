"""sgdc_aggregate against an independent shift-and-sum formulation."""
import sys

import pytest
import torch
import torch.nn.functional as F

from sgdc_mmseg.ops import sgdc_aggregate

# Backends that run on any CPU; the Triton backend has its own test module.
CPU_BACKENDS = ('reference', 'shift')


def shift_reference(x, logits, k, heads):
    """out[b, c, i, j] = sum_t softmax(logits[b, head(c)*k*k + t, i, j])
    * xpad[b, c, i + dy_t, j + dx_t] with taps t in row-major order."""
    b, c, h, w = x.shape
    r = k // 2
    weights = logits.reshape(b, heads, k * k, h, w).softmax(2)
    xpad = F.pad(x, (r, r, r, r))
    out = torch.zeros_like(x).reshape(b, heads, c // heads, h, w)
    for t in range(k * k):
        dy, dx = divmod(t, k)
        shifted = xpad[:, :, dy:dy + h, dx:dx + w].reshape(
            b, heads, c // heads, h, w)
        out = out + shifted * weights[:, :, t:t + 1]
    return out.reshape(b, c, h, w)


@pytest.mark.parametrize('backend', CPU_BACKENDS)
@pytest.mark.parametrize('k,heads,shape', [(3, 1, (1, 4, 5, 6)),
                                           (5, 2, (2, 4, 7, 4)),
                                           (7, 4, (2, 8, 6, 9)),
                                           (9, 8, (1, 8, 3, 10))])
def test_matches_shift_reference(backend, k, heads, shape):
    torch.manual_seed(0)
    b, c, h, w = shape
    x = torch.randn(shape, requires_grad=True)
    logits = torch.randn(b, heads * k * k, h, w, requires_grad=True)
    out = sgdc_aggregate(x, logits, k, heads, backend=backend)
    ref = shift_reference(x, logits, k, heads)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(out)
    gx, gl = torch.autograd.grad(out, (x, logits), g)
    rx, rl = torch.autograd.grad(ref, (x, logits), g)
    torch.testing.assert_close(gx, rx, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(gl, rl, atol=1e-5, rtol=1e-5)


def test_one_hot_kernel_is_a_shift():
    # A kernel that puts all weight on the top-left tap reads x[i-1, j-1].
    x = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(1, 2, 3, 4)
    logits = torch.full((1, 9, 3, 4), -1e4)
    logits[:, 0] = 0
    out = sgdc_aggregate(x, logits, 3, 1)
    expected = torch.zeros_like(x)
    expected[..., 1:, 1:] = x[..., :-1, :-1]
    torch.testing.assert_close(out, expected)


def test_uniform_kernel_is_box_mean_with_zero_padding():
    x = torch.ones(1, 1, 3, 3)
    out = sgdc_aggregate(x, torch.zeros(1, 9, 3, 3), 3, 1)
    # corner sees 4 of 9 ones, edge 6, centre 9
    expected = torch.tensor([[4., 6., 4.], [6., 9., 6.], [4., 6., 4.]]) / 9
    torch.testing.assert_close(out[0, 0], expected)


@pytest.mark.parametrize('backend', CPU_BACKENDS)
def test_gradcheck_float64(backend):
    torch.manual_seed(0)
    x = torch.randn(1, 4, 4, 5, dtype=torch.float64, requires_grad=True)
    logits = torch.randn(1, 2 * 9, 4, 5, dtype=torch.float64,
                         requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: sgdc_aggregate(a, b, 3, 2, backend=backend), (x, logits))


@pytest.mark.parametrize('backend', CPU_BACKENDS)
def test_non_contiguous_inputs(backend):
    torch.manual_seed(0)
    x = torch.randn(2, 6, 5, 4).transpose(2, 3)  # [2, 6, 4, 5], strided
    logits = torch.randn(2, 5, 4, 18).permute(0, 3, 2, 1)  # [2, 18, 4, 5]
    out = sgdc_aggregate(x, logits, 3, 2, backend=backend)
    ref = shift_reference(x.contiguous(), logits.contiguous(), 3, 2)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('kwargs,match', [
    (dict(kernel_size=4), 'odd'),
    (dict(num_heads=3), 'divisible'),
    (dict(logits_channels=10), 'kernel_logits must have shape'),
    (dict(backend='cuda-magic'), 'unknown backend'),
])
def test_errors(kwargs, match):
    k = kwargs.get('kernel_size', 3)
    heads = kwargs.get('num_heads', 2)
    x = torch.randn(1, 4, 3, 3)
    logits = torch.randn(1, kwargs.get('logits_channels', 2 * 9), 3, 3)
    with pytest.raises(ValueError, match=match):
        sgdc_aggregate(x, logits, k, heads,
                       backend=kwargs.get('backend', 'auto'))


def test_backends_agree_and_shift_saves_no_unfolded_copy():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 12, 10, requires_grad=True)
    logits = torch.randn(2, 2 * 49, 12, 10, requires_grad=True)
    ref = sgdc_aggregate(x, logits, 7, 2, backend='reference')
    out = sgdc_aggregate(x, logits, 7, 2, backend='shift')
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    # The largest tensor autograd keeps for 'shift' is the padded input or
    # the kernel weights, never the C*k*k*H*W unfolded copy.
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(
            lambda t: saved.append(t.numel()) or t, lambda t: t):
        sgdc_aggregate(x, logits, 7, 2, backend='shift')
    padded = 2 * 16 * (12 + 6) * (10 + 6)
    assert max(saved) <= max(padded, logits.numel())
    assert max(saved) * 8 == x.numel() * 49  # unfold would keep 8x more


# --- shift backend: chunking, shapes, dtypes ------------------------------

# fp32 tolerance of every comparison below: 1e-5 absolute and relative (the
# sums have at most 81 terms of O(1) values).
FP32_TOL = dict(atol=1e-5, rtol=1e-5)


def _values_and_grads(fn, x, logits, g):
    x = x.detach().clone().requires_grad_()
    logits = logits.detach().clone().requires_grad_()
    out = fn(x, logits)
    gx, gl = torch.autograd.grad(out, (x, logits), g)
    return out, gx, gl


@pytest.mark.parametrize('chunk', [1, 50, 10**9])
@pytest.mark.parametrize('k,heads,shape', [
    (3, 1, (1, 3, 1, 1)),     # a single pixel
    (3, 2, (3, 4, 5, 5)),     # odd square, batch 3
    (5, 4, (2, 8, 6, 4)),     # even, non-square
    (7, 8, (1, 8, 7, 10)),    # odd x even, image smaller than the kernel
    (9, 2, (2, 2, 11, 3)),    # k=9, thin
    (5, 1, (4, 1, 4, 9)),     # one channel, batch 4
])
def test_shift_matches_independent_formula(monkeypatch, chunk, k, heads,
                                           shape):
    # chunk=1: one row of one sample per chunk; 50: several rows or samples
    # and a shorter last chunk; 10**9: the whole tensor in one chunk.
    monkeypatch.setattr(_agg_module(), 'SHIFT_CHUNK_ELEMENTS', chunk)
    gen = torch.Generator().manual_seed(k * 100 + heads)
    b, c, h, w = shape
    x = torch.randn(shape, generator=gen)
    logits = torch.randn(b, heads * k * k, h, w, generator=gen) * 3
    g = torch.randn(shape, generator=gen)
    got = _values_and_grads(
        lambda a, l: sgdc_aggregate(a, l, k, heads, backend='shift'), x,
        logits, g)
    ref = _values_and_grads(lambda a, l: shift_reference(a, l, k, heads), x,
                            logits, g)
    for a, r in zip(got, ref):
        torch.testing.assert_close(a, r, **FP32_TOL)


def _agg_module():
    import importlib
    return importlib.import_module('sgdc_mmseg.ops.sgdc_aggregate')


def test_chunks_cover_every_row_and_sample_once():
    chunks_of = _agg_module()._chunks
    for b, c, h, w, target in [(2, 3, 7, 5, 1), (2, 3, 7, 5, 31),
                               (2, 3, 7, 5, 40), (5, 2, 3, 4, 17),
                               (2, 3, 7, 5, 10**9), (0, 3, 7, 5, 8),
                               (2, 3, 0, 5, 8), (2, 3, 4, 0, 8)]:
        seen = torch.zeros(b, h, dtype=torch.int64)
        for bs, i0, i1 in chunks_of(b, c, h, w, target):
            assert i1 > i0
            seen[bs, i0:i1] += 1
        assert (seen == 1).all(), (b, c, h, w, target)


def test_shift_gradcheck_float64_across_chunks(monkeypatch):
    # a row of a sample (4 channels x 3) is 12 elements: 6 one-row chunks
    monkeypatch.setattr(_agg_module(), 'SHIFT_CHUNK_ELEMENTS', 20)
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    logits = torch.randn(2, 2 * 9, 3, 3, dtype=torch.float64,
                         requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: sgdc_aggregate(a, b, 3, 2, backend='shift'),
        (x, logits))


@pytest.mark.parametrize('which', ['x', 'logits'])
def test_shift_gradient_of_one_input_only(which):
    torch.manual_seed(0)
    x = torch.randn(1, 4, 5, 6, requires_grad=which == 'x')
    logits = torch.randn(1, 2 * 9, 5, 6, requires_grad=which == 'logits')
    g = torch.randn(1, 4, 5, 6)
    out = sgdc_aggregate(x, logits, 3, 2, backend='shift')
    (got, ) = torch.autograd.grad(out, x if which == 'x' else logits, g)
    xr, lr = x.detach().requires_grad_(), logits.detach().requires_grad_()
    gx, gl = torch.autograd.grad(shift_reference(xr, lr, 3, 2), (xr, lr), g)
    torch.testing.assert_close(got, gx if which == 'x' else gl, **FP32_TOL)


def test_shift_non_contiguous_grad_output():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 5, 6, requires_grad=True)
    logits = torch.randn(2, 2 * 9, 5, 6, requires_grad=True)
    g = torch.randn(6, 5, 4, 2).permute(3, 2, 1, 0)  # [2, 4, 5, 6], strided
    out = sgdc_aggregate(x, logits, 3, 2, backend='shift')
    got = torch.autograd.grad(out, (x, logits), g)
    ref = torch.autograd.grad(shift_reference(x, logits, 3, 2), (x, logits),
                              g.contiguous())
    for a, r in zip(got, ref):
        torch.testing.assert_close(a, r, **FP32_TOL)


def test_shift_promotes_mixed_dtypes():
    torch.manual_seed(0)
    x = torch.randn(1, 2, 4, 4, requires_grad=True)
    logits = torch.randn(1, 9, 4, 4, dtype=torch.float64, requires_grad=True)
    out = sgdc_aggregate(x, logits, 3, 1, backend='shift')
    assert out.dtype == torch.float64
    out.sum().backward()
    assert x.grad.dtype == torch.float32
    assert logits.grad.dtype == torch.float64
    ref = shift_reference(x.double(), logits, 3, 1)
    torch.testing.assert_close(out, ref)


def test_shift_rejects_mismatched_device_and_integer_inputs():
    x = torch.randn(1, 2, 3, 3)
    with pytest.raises(ValueError, match='same device'):
        sgdc_aggregate(x, torch.randn(1, 9, 3, 3, device='meta'), 3, 1,
                       backend='shift')
    with pytest.raises(ValueError, match='floating point'):
        sgdc_aggregate(x.long(), torch.zeros(1, 9, 3, 3, dtype=torch.long),
                       3, 1, backend='shift')


def test_shift_channels_last_inputs():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 5, 6).to(memory_format=torch.channels_last)
    logits = torch.randn(2, 18, 5, 6).to(memory_format=torch.channels_last)
    g = torch.randn(2, 4, 5, 6).to(memory_format=torch.channels_last)
    got = _values_and_grads(
        lambda a, l: sgdc_aggregate(a, l, 3, 2, backend='shift'), x, logits,
        g)
    ref = _values_and_grads(lambda a, l: shift_reference(a, l, 3, 2),
                            x.contiguous(), logits.contiguous(),
                            g.contiguous())
    for a, r in zip(got, ref):
        torch.testing.assert_close(a, r, **FP32_TOL)


def test_environment_variable_overrides_auto(monkeypatch):
    mod = sys.modules['sgdc_mmseg.ops.sgdc_aggregate']
    x = torch.randn(1, 4, 5, 6, dtype=torch.float64)
    logits = torch.randn(1, 2 * 9, 5, 6, dtype=torch.float64)
    monkeypatch.setenv('SGDC_AGGREGATE_BACKEND', 'reference')
    assert mod.select_backend(x) == 'reference'
    out_env = sgdc_aggregate(x, logits, 3, 2, backend='auto')
    monkeypatch.delenv('SGDC_AGGREGATE_BACKEND')
    assert mod.select_backend(x) == 'shift'
    out = sgdc_aggregate(x, logits, 3, 2, backend='reference')
    torch.testing.assert_close(out_env, out)
    monkeypatch.setenv('SGDC_AGGREGATE_BACKEND', 'fast')
    with pytest.raises(ValueError, match='SGDC_AGGREGATE_BACKEND'):
        sgdc_aggregate(x, logits, 3, 2, backend='auto')


# --- the torch.library operator: compile, double backward, contract ------

def _op_args(dtype=torch.float32, requires_grad=False, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 4, 5, 6, generator=gen, dtype=dtype)
    logits = torch.randn(2, 2 * 9, 5, 6, generator=gen, dtype=dtype)
    return (x.requires_grad_(requires_grad),
            logits.requires_grad_(requires_grad))


@pytest.mark.parametrize('op', ['sgdc_aggregate', 'sgdc_aggregate_backward'])
def test_operator_passes_opcheck(op):
    # schema, fake (meta) implementation, autograd registration and AOT
    # dispatch with dynamic shapes, as torch.library.opcheck checks them
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 2, 3, 4, generator=gen, requires_grad=True)
    logits = torch.randn(1, 9, 3, 4, generator=gen, requires_grad=True)
    if op == 'sgdc_aggregate':
        args = (x, logits, 3, 1, 'shift')
    else:
        _, weights = torch.ops.sgdc_mmseg.sgdc_aggregate(
            x.detach(), logits.detach(), 3, 1, 'shift')
        grad = torch.randn(1, 2, 3, 4, generator=gen, requires_grad=True)
        args = (grad, x, logits, weights, 3, 1, 'shift', True, True)
    torch.library.opcheck(getattr(torch.ops.sgdc_mmseg, op).default, args)


def test_operator_outputs_and_saved_weights():
    x, logits = _op_args()
    out, weights = torch.ops.sgdc_mmseg.sgdc_aggregate(x, logits, 3, 2,
                                                       'shift')
    torch.testing.assert_close(out, shift_reference(x, logits, 3, 2),
                               **FP32_TOL)
    expected = logits.reshape(2, 2, 9, 5, 6).softmax(2).reshape(2, 18, 5, 6)
    torch.testing.assert_close(weights, expected, **FP32_TOL)
    assert not weights.requires_grad


@pytest.mark.parametrize('backend,match', [('auto', "resolves 'auto'"),
                                           ('reference', 'without the op')])
def test_operator_rejects_unresolved_backends(backend, match):
    x, logits = _op_args()
    with pytest.raises(ValueError, match=match):
        torch.ops.sgdc_mmseg.sgdc_aggregate(x, logits, 3, 2, backend)


def test_operator_rejects_mixed_dtypes():
    x, logits = _op_args()
    with pytest.raises(TypeError, match='same floating dtype.*promotes'):
        torch.ops.sgdc_mmseg.sgdc_aggregate(x, logits.double(), 3, 2,
                                            'shift')


def test_shift_double_backward_float64():
    # the backward is itself an operator, differentiated through the
    # reference form: second derivatives are exact, not silently zero
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 2, 3, 4, generator=gen, dtype=torch.float64,
                    requires_grad=True)
    logits = torch.randn(1, 9, 3, 4, generator=gen, dtype=torch.float64,
                         requires_grad=True)
    assert torch.autograd.gradgradcheck(
        lambda a, b: sgdc_aggregate(a, b, 3, 1, backend='shift'),
        (x, logits))


def test_shift_double_backward_matches_reference():
    x, logits = _op_args(requires_grad=True)
    g = torch.randn(2, 4, 5, 6, generator=torch.Generator().manual_seed(1))

    def penalty(fn):
        gx, gl = torch.autograd.grad(fn(x, logits), (x, logits), g,
                                     create_graph=True)
        return torch.autograd.grad(gx.square().sum() + gl.square().sum(),
                                   (x, logits))

    got = penalty(lambda a, b: sgdc_aggregate(a, b, 3, 2, backend='shift'))
    ref = penalty(lambda a, b: shift_reference(a, b, 3, 2))
    for a, r in zip(got, ref):
        torch.testing.assert_close(a, r, atol=1e-4, rtol=1e-4)


def _tiny_sgdc(seed=0):
    from sgdc_mmseg.models.layers import SGDC
    torch.manual_seed(seed)
    # layer scale 0.5 so the aggregation branch matters in the gradients
    return SGDC(8, guide_channels=4, num_heads=2, kernel_size=3,
                mlp_ratio=1.0, layer_scale_init=0.5)


def _train_loss(block, x, guidance):
    return block(x, guidance).square().mean()


def _sgdc_inputs(b=2, h=6, w=7, seed=1, guide_scale=2):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(b, 8, h, w, generator=gen),
            torch.randn(b, 4, -(-h // guide_scale), -(-w // guide_scale),
                        generator=gen))


def _grads_after(loss_fn, block, *inputs):
    block.zero_grad()
    loss = loss_fn(block, *inputs)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in block.parameters()]


@pytest.mark.filterwarnings('ignore:Your compiler for AOTAutograd')
def test_compile_fullgraph_training_step_aot_eager():
    from torch._dynamo.testing import AotEagerAndRecordGraphs
    torch._dynamo.reset()
    block = _tiny_sgdc().train()
    inputs = _sgdc_inputs()
    loss_e, grads_e = _grads_after(_train_loss, block, *inputs)
    recorder = AotEagerAndRecordGraphs()
    compiled = torch.compile(_train_loss, fullgraph=True, backend=recorder)
    loss_c, grads_c = _grads_after(compiled, block, *inputs)
    torch.testing.assert_close(loss_c, loss_e)
    for gc, ge in zip(grads_c, grads_e):
        torch.testing.assert_close(gc, ge, atol=1e-6, rtol=1e-5)
    assert grads_c[0].abs().sum() > 0
    # forward and backward each hold our operator as one node
    fw = [n.target for g in recorder.fw_graphs for n in g.graph.nodes]
    bw = [n.target for g in recorder.bw_graphs for n in g.graph.nodes]
    assert fw.count(torch.ops.sgdc_mmseg.sgdc_aggregate.default) == 1
    assert bw.count(torch.ops.sgdc_mmseg.sgdc_aggregate_backward.default) \
        == 1


def test_compile_fullgraph_eval_forward_dynamic_sizes():
    from torch._dynamo.testing import CompileCounterWithBackend
    torch._dynamo.reset()
    block = _tiny_sgdc().eval()
    counter = CompileCounterWithBackend('aot_eager')
    compiled = torch.compile(block, fullgraph=True, dynamic=True,
                             backend=counter)
    frames = []
    with torch.no_grad():
        for h, w in [(6, 7), (9, 5)]:
            # guidance at the size of x: mmseg's bilinear resize of a
            # smaller guidance specializes its size (not our operator)
            inputs = _sgdc_inputs(h=h, w=w, guide_scale=1)
            torch.testing.assert_close(compiled(*inputs), block(*inputs))
            frames.append(counter.frame_count)
    assert frames[0] >= 1 and frames[1] == frames[0]  # no recompilation


def _cpp_compiler():
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler
        return get_cpp_compiler()
    except Exception:  # no working compiler found
        return None


@pytest.mark.skipif(_cpp_compiler() is None,
                    reason='Inductor needs a C++ compiler (none found)')
def test_compile_inductor_forward_and_backward():
    torch._dynamo.reset()

    def fn(a, b):
        return (sgdc_aggregate(a, b, 3, 2).sigmoid() * 2).sum()

    x, logits = _op_args(requires_grad=True)
    eager = torch.autograd.grad(fn(x, logits), (x, logits))
    got = torch.autograd.grad(
        torch.compile(fn, fullgraph=True, backend='inductor')(x, logits),
        (x, logits))
    for a, r in zip(got, eager):
        torch.testing.assert_close(a, r, **FP32_TOL)
