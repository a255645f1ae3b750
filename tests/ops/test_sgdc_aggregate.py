"""sgdc_aggregate, the dispatcher: one parity harness over every backend
(values and gradients against an independent formula in fp32 and fp64,
gradcheck in fp64, one input contract), skipping a backend through its own
``can_run``; then 'auto', the environment override and argument errors.

Without CUDA the Triton backend runs on CPU tensors under Triton's
interpreter (tests/conftest.py sets TRITON_INTERPRET=1), hence the tiny
shapes; the backend-specific tests are in tests/ops/backends.
"""
import pytest
import torch

from sgdc_mmseg.ops import (BACKENDS, sgdc_aggregate, sgdc_aggregate_shift,
                            select_backend)
from sgdc_mmseg.ops.backends import OP_BACKEND_NAMES, can_run, get_backend
from sgdc_mmseg.ops.checks import Verdict

TOL = {torch.float32: dict(atol=1e-5, rtol=1e-5),
       torch.float64: dict(atol=1e-10, rtol=1e-10)}


def runnable(backend, device, dtype=torch.float32):
    """Skip, with the backend's reason, unless it can run here."""
    verdict = can_run(backend, device, dtype)
    if not verdict:
        pytest.skip(f'{backend}: {verdict.reason}')


def _inputs(shape, k, heads, dtype, device, seed=0, requires_grad=True):
    gen = torch.Generator().manual_seed(seed)
    b, c, h, w = shape
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    logits = 2 * torch.randn(b, heads * k * k, h, w, generator=gen,
                             dtype=torch.float64)
    return tuple(t.to(device, dtype).requires_grad_(requires_grad)
                 for t in (x, logits))


def _values_and_grads(fn, x, logits, grad):
    out = fn(x, logits)
    return (out, ) + torch.autograd.grad(out, (x, logits), grad)


def _fp64_copies(*tensors):
    return [t.detach().double().requires_grad_(t.requires_grad)
            for t in tensors]


# --- the parity harness -----------------------------------------------------

CASES = [((1, 4, 5, 6), 3, 1), ((2, 4, 7, 4), 5, 2), ((2, 8, 6, 9), 7, 4),
         ((1, 8, 3, 10), 9, 8)]


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('shape,k,heads', CASES)
def test_values_and_gradients_match_the_formula(backend, dtype, shape, k,
                                                heads, device,
                                                naive_aggregate):
    runnable(backend, device, dtype)
    x, logits = _inputs(shape, k, heads, dtype, device)
    grad = torch.randn(shape, dtype=torch.float64).to(device, dtype)
    got = _values_and_grads(
        lambda a, b: sgdc_aggregate(a, b, k, heads, backend=backend), x,
        logits, grad)
    ref = _values_and_grads(lambda a, b: naive_aggregate(a, b, k, heads),
                            *_fp64_copies(x, logits), grad.double())
    for name, a, r in zip(('out', 'grad x', 'grad logits'), got, ref):
        assert a.dtype == dtype, name
        torch.testing.assert_close(a.double(), r, **TOL[dtype], msg=name)


@pytest.mark.parametrize('backend', BACKENDS)
def test_gradcheck_float64(backend, device):
    runnable(backend, device, torch.float64)
    x, logits = _inputs((1, 4, 3, 4), 3, 2, torch.float64, device)
    # fast mode under Triton's interpreter: a full numerical Jacobian is
    # ~30 s there
    fast = backend == 'triton' and not x.is_cuda
    assert torch.autograd.gradcheck(
        lambda a, b: sgdc_aggregate(a, b, 3, 2, backend=backend),
        (x, logits), fast_mode=fast)


@pytest.mark.parametrize('backend', BACKENDS)
def test_one_hot_kernel_is_an_exact_shift(backend, device):
    runnable(backend, device)
    # all weight on tap (0, 2): out[i, j] = x[i - 1, j + 1]; -inf logits of
    # the other taps give exact zeros, not NaN
    x = torch.arange(2 * 4 * 5, dtype=torch.float32,
                     device=device).reshape(1, 2, 4, 5)
    logits = torch.full((1, 9, 4, 5), float('-inf'), device=device)
    logits[:, 2] = 3.0
    out = sgdc_aggregate(x, logits, 3, 1, backend=backend)
    expected = torch.zeros_like(x)
    expected[..., 1:, :-1] = x[..., :-1, 1:]
    torch.testing.assert_close(out, expected, atol=0, rtol=0)


@pytest.mark.parametrize('backend', BACKENDS)
def test_uniform_kernel_is_box_mean_with_zero_padding(backend, device):
    runnable(backend, device)
    x = torch.ones(1, 1, 3, 3, device=device)
    out = sgdc_aggregate(x, torch.zeros(1, 9, 3, 3, device=device), 3, 1,
                         backend=backend)
    # corner sees 4 of 9 ones, edge 6, centre 9
    expected = torch.tensor([[4., 6., 4.], [6., 9., 6.], [4., 6., 4.]]) / 9
    torch.testing.assert_close(out[0, 0].cpu(), expected)


@pytest.mark.parametrize('backend', BACKENDS)
def test_non_contiguous_inputs(backend, device, naive_aggregate):
    runnable(backend, device)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 6, 5, generator=gen).to(device).transpose(2, 3)
    logits = torch.randn(2, 6, 5, 18, generator=gen).to(device).permute(
        0, 3, 2, 1)  # [2, 18, 5, 6], strided
    assert not x.is_contiguous() and not logits.is_contiguous()
    x.requires_grad_(), logits.requires_grad_()
    grad = torch.randn(2, 4, 5, 6, generator=gen).to(device)
    got = _values_and_grads(
        lambda a, b: sgdc_aggregate(a, b, 3, 2, backend=backend), x, logits,
        grad)
    ref = _values_and_grads(lambda a, b: naive_aggregate(a, b, 3, 2),
                            *_fp64_copies(x, logits), grad.double())
    for a, r in zip(got, ref):
        torch.testing.assert_close(a.double(), r, **TOL[torch.float32])


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('which', [0, 1])
def test_gradient_of_one_input_only(backend, which, device, naive_aggregate):
    runnable(backend, device)
    x, logits = _inputs((1, 4, 5, 3), 3, 2, torch.float32, device,
                        requires_grad=False)
    (x, logits)[which].requires_grad_()
    grad = torch.randn(1, 4, 5, 3).to(device)
    out = sgdc_aggregate(x, logits, 3, 2, backend=backend)
    (got, ) = torch.autograd.grad(out, (x, logits)[which], grad)
    xr, lr = _fp64_copies(x, logits)
    (expected, ) = torch.autograd.grad(naive_aggregate(xr, lr, 3, 2),
                                       (xr, lr)[which], grad.double())
    torch.testing.assert_close(got.double(), expected, **TOL[torch.float32])


@pytest.mark.parametrize('backend', BACKENDS)
def test_empty_batch(backend, device):
    runnable(backend, device)
    x, logits = _inputs((0, 4, 3, 3), 3, 2, torch.float32, device)
    out = sgdc_aggregate(x, logits, 3, 2, backend=backend)
    assert out.shape == (0, 4, 3, 3)
    gx, gl = torch.autograd.grad(out.sum(), (x, logits))
    assert gx.shape == x.shape and gl.shape == logits.shape


# --- one input contract for every backend ------------------------------------


@pytest.mark.parametrize('backend', BACKENDS)
def test_mixed_dtypes_are_promoted(backend, device, naive_aggregate):
    # e.g. an fp32 x with lower-precision logits under autocast: computed
    # in the promoted dtype, each gradient in its input's dtype
    runnable(backend, device, torch.float64)
    x, _ = _inputs((1, 2, 4, 4), 3, 1, torch.float32, device)
    _, logits = _inputs((1, 2, 4, 4), 3, 1, torch.float64, device)
    out = sgdc_aggregate(x, logits, 3, 1, backend=backend)
    assert out.dtype == torch.float64
    out.sum().backward()
    assert x.grad.dtype == torch.float32
    assert logits.grad.dtype == torch.float64
    torch.testing.assert_close(
        out, naive_aggregate(x.detach().double(), logits.detach(), 3, 1),
        **TOL[torch.float64])


@pytest.mark.parametrize('backend', BACKENDS)
def test_rejects_two_devices_and_integer_inputs(backend):
    x = torch.randn(1, 2, 3, 3)
    with pytest.raises(ValueError, match='same device'):
        sgdc_aggregate(x, torch.randn(1, 9, 3, 3, device='meta'), 3, 1,
                       backend=backend)
    with pytest.raises(ValueError, match='must be floating point'):
        sgdc_aggregate(x.int(), torch.zeros(1, 9, 3, 3, dtype=torch.int32),
                       3, 1, backend=backend)


@pytest.mark.parametrize('backend', BACKENDS)
def test_a_backend_that_cannot_run_raises_its_reason(backend, monkeypatch):
    module = get_backend(backend)
    asked = []

    def refuse(device, dtype):
        asked.append((torch.device(device).type, dtype))
        return Verdict(f'{backend} refuses', TypeError)

    monkeypatch.setattr(module, 'can_run', refuse)
    x = torch.randn(1, 2, 3, 3)
    with pytest.raises(TypeError, match=f'^{backend} refuses$'):
        sgdc_aggregate(x, torch.randn(1, 9, 3, 3, dtype=torch.float64), 3,
                       1, backend=backend)
    # asked about the promoted inputs
    assert asked[-1] == ('cpu', torch.float64)


@pytest.mark.parametrize('backend', OP_BACKEND_NAMES)
def test_operator_backends_save_no_unfolded_copy(backend, device):
    runnable(backend, device)
    x, logits = _inputs((1, 8, 5, 4), 7, 2, torch.float32, device)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(
            lambda t: saved.append(t.numel()) or t, lambda t: t):
        sgdc_aggregate(x, logits, 7, 2, backend=backend)
    # x, the logits and the backend's saved output, never C*k*k*H*W
    shape, _ = get_backend(backend).saved_spec(x, logits, 2)
    assert sum(saved) == x.numel() + logits.numel() + torch.Size(
        shape).numel()
    assert max(saved) < x.numel() * 49


# --- the dispatcher ---------------------------------------------------------


def test_auto_on_cpu_is_cpp_when_it_builds_else_shift_never_triton():
    # never the Triton interpreter for CPU tensors; the C++ kernel when it
    # can run (float32/float64, built), shift otherwise
    x = torch.zeros(1, 1, 1, 1)
    cpp_ok = bool(can_run('cpp', 'cpu', torch.float32))
    assert select_backend(x) == ('cpp' if cpp_ok else 'shift')
    assert select_backend(x.half()) == 'shift'


def test_shift_function_is_the_shift_backend():
    x, logits = _inputs((2, 4, 5, 6), 3, 2, torch.float32, 'cpu',
                        requires_grad=False)
    assert torch.equal(sgdc_aggregate_shift(x, logits, 3, 2),
                       sgdc_aggregate(x, logits, 3, 2, backend='shift'))


def test_environment_variable_overrides_auto(monkeypatch):
    x, logits = _inputs((1, 4, 5, 6), 3, 2, torch.float64, 'cpu',
                        requires_grad=False)
    monkeypatch.setenv('SGDC_AGGREGATE_BACKEND', 'reference')
    assert select_backend(x) == 'reference'
    calls = []
    module = get_backend('reference')
    real = module.can_run
    monkeypatch.setattr(module, 'can_run',
                        lambda *a: calls.append(a) or real(*a))
    out_env = sgdc_aggregate(x, logits, 3, 2, backend='auto')
    assert calls == [(x.device, torch.float64)]
    monkeypatch.setenv('SGDC_AGGREGATE_BACKEND', 'shift')
    assert select_backend(x) == 'shift'
    torch.testing.assert_close(
        out_env, sgdc_aggregate(x, logits, 3, 2, backend='reference'))
    monkeypatch.setenv('SGDC_AGGREGATE_BACKEND', 'fast')
    with pytest.raises(ValueError, match='SGDC_AGGREGATE_BACKEND'):
        sgdc_aggregate(x, logits, 3, 2, backend='auto')


@pytest.mark.parametrize('kwargs,match', [
    (dict(kernel_size=4), 'odd'),
    (dict(num_heads=3), 'divisible'),
    (dict(logits_channels=10), 'kernel_logits must have shape'),
    (dict(backend='cuda-magic'), 'unknown backend'),
])
def test_argument_errors(kwargs, match):
    k = kwargs.get('kernel_size', 3)
    heads = kwargs.get('num_heads', 2)
    x = torch.randn(1, 4, 3, 3)
    logits = torch.randn(1, kwargs.get('logits_channels', 2 * 9), 3, 3)
    with pytest.raises(ValueError, match=match):
        sgdc_aggregate(x, logits, k, heads,
                       backend=kwargs.get('backend', 'auto'))
