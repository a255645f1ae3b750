"""The torch.library operators behind sgdc_aggregate: opcheck, the saved
output, the operator's own contract, double backward, full-graph compile."""
import pytest
import torch

from sgdc_mmseg.ops import sgdc_aggregate
from sgdc_mmseg.ops.aggregate_op import OP_BACKENDS, saved_spec
from sgdc_mmseg.ops.backends import can_run, get_backend
from sgdc_mmseg.ops.checks import Verdict

FP32_TOL = dict(atol=1e-5, rtol=1e-5)


def _op_args(dtype=torch.float32, requires_grad=False, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 4, 5, 6, generator=gen, dtype=dtype)
    logits = torch.randn(2, 2 * 9, 5, 6, generator=gen, dtype=dtype)
    return (x.requires_grad_(requires_grad),
            logits.requires_grad_(requires_grad))


@pytest.mark.parametrize('backend', OP_BACKENDS)
@pytest.mark.parametrize('op', ['sgdc_aggregate', 'sgdc_aggregate_backward'])
def test_operator_passes_opcheck(op, backend, device):
    # schema, fake (meta) implementation, autograd registration and AOT
    # dispatch with dynamic shapes, as torch.library.opcheck checks them
    verdict = can_run(backend, device, torch.float32)
    if not verdict:
        pytest.skip(f'{backend}: {verdict.reason}')
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 2, 3, 4, generator=gen).to(device).requires_grad_()
    logits = torch.randn(1, 9, 3, 4, generator=gen).to(
        device).requires_grad_()
    if op == 'sgdc_aggregate':
        args = (x, logits, 3, 1, backend)
    else:
        _, saved = torch.ops.sgdc_mmseg.sgdc_aggregate(
            x.detach(), logits.detach(), 3, 1, backend)
        grad = torch.randn(1, 2, 3, 4, generator=gen).to(
            device).requires_grad_()
        args = (grad, x, logits, saved, 3, 1, backend, True, True)
    torch.library.opcheck(getattr(torch.ops.sgdc_mmseg, op).default, args)


@pytest.mark.parametrize('backend', OP_BACKENDS)
def test_saved_output_matches_saved_spec(backend, device):
    verdict = can_run(backend, device, torch.float32)
    if not verdict:
        pytest.skip(f'{backend}: {verdict.reason}')
    x, logits = (t.to(device) for t in _op_args())
    _, saved = torch.ops.sgdc_mmseg.sgdc_aggregate(x, logits, 3, 2, backend)
    shape, dtype = saved_spec(x, logits, 2, backend)
    assert saved.shape == shape and saved.dtype == dtype
    assert not saved.requires_grad
    heads = logits.reshape(2, 2, 9, 5, 6)
    softmaxed = heads.softmax(2).reshape(2, 18, 5, 6)
    expected = {'shift': softmaxed, 'cpp': softmaxed,
                'triton': heads.logsumexp(2)}[backend]
    torch.testing.assert_close(saved, expected, **FP32_TOL)


def test_operator_output_is_the_aggregation(naive_aggregate):
    x, logits = _op_args()
    out, _ = torch.ops.sgdc_mmseg.sgdc_aggregate(x, logits, 3, 2, 'shift')
    torch.testing.assert_close(out, naive_aggregate(x, logits, 3, 2),
                               **FP32_TOL)


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


@pytest.mark.parametrize('op', ['sgdc_aggregate', 'sgdc_aggregate_backward'])
def test_operator_asks_the_backend_whether_it_can_run(op, monkeypatch):
    # a direct call of the operator gets the backend's reason too
    monkeypatch.setattr(get_backend('shift'), 'can_run',
                        lambda device, dtype: Verdict('shift refuses'))
    x, logits = _op_args()
    args = ((x, logits, 3, 2, 'shift') if op == 'sgdc_aggregate' else
            (torch.ones_like(x), x, logits, logits, 3, 2, 'shift', True,
             True))
    with pytest.raises(RuntimeError, match='^shift refuses$'):
        getattr(torch.ops.sgdc_mmseg, op)(*args)


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


def test_shift_double_backward_matches_reference(naive_aggregate):
    x, logits = _op_args(requires_grad=True)
    g = torch.randn(2, 4, 5, 6, generator=torch.Generator().manual_seed(1))

    def penalty(fn):
        gx, gl = torch.autograd.grad(fn(x, logits), (x, logits), g,
                                     create_graph=True)
        return torch.autograd.grad(gx.square().sum() + gl.square().sum(),
                                   (x, logits))

    got = penalty(lambda a, b: sgdc_aggregate(a, b, 3, 2, backend='shift'))
    ref = penalty(lambda a, b: naive_aggregate(a, b, 3, 2))
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
