"""The Triton backend's own cases: its tiling (several tiles and channel
blocks), fp16/bf16, its ``can_run`` reasons, and on a GPU the realistic
sizes and the 'auto' choice. (Its parity with the formula in fp32/fp64 and
gradcheck are in tests/ops/test_sgdc_aggregate.py.)

Without CUDA, ``tests/conftest.py`` sets ``TRITON_INTERPRET=1`` before
triton is imported, so the kernels run on CPU tensors under Triton's
interpreter; it is slow, hence the tiny shapes.
"""
import pytest
import torch

pytest.importorskip('triton', reason='triton is not installed '
                    '(pip install triton); the triton backend is optional')

from sgdc_mmseg.ops import sgdc_aggregate, select_backend  # noqa: E402
from sgdc_mmseg.ops.backends import triton as tri  # noqa: E402

HAS_CUDA = torch.cuda.is_available()
DEVICE = 'cuda' if HAS_CUDA else 'cpu'
needs_kernels = pytest.mark.skipif(
    not tri.can_run(DEVICE, torch.float32),
    reason=tri.can_run(DEVICE, torch.float32).reason)
cuda_only = pytest.mark.skipif(not HAS_CUDA, reason='needs a CUDA GPU')

FP32_TOL = dict(atol=1e-5, rtol=1e-5)
LOW_TOL = {torch.float16: dict(atol=3e-3, rtol=3e-3),
           torch.bfloat16: dict(atol=2e-2, rtol=2e-2)}


def check_against_formula(naive_aggregate, x, logits, k, heads,
                          dtype=torch.float32, tol=FP32_TOL):
    """Forward and both gradients of the triton backend on ``dtype`` copies
    of ``x`` and ``logits`` vs the formula in float64 on the same (rounded)
    values."""
    xl = x.to(DEVICE, dtype).requires_grad_()
    ll = logits.to(DEVICE, dtype).requires_grad_()
    xr = xl.detach().double().requires_grad_()
    lr = ll.detach().double().requires_grad_()
    out = sgdc_aggregate(xl, ll, k, heads, backend='triton')
    ref = naive_aggregate(xr, lr, k, heads)
    assert out.dtype == dtype and out.shape == x.shape
    torch.testing.assert_close(out.double(), ref, **tol)
    grad = torch.randn_like(ref).to(dtype)
    gx, gl = torch.autograd.grad(out, (xl, ll), grad)
    rx, rl = torch.autograd.grad(ref, (xr, lr), grad.double())
    assert gx.dtype == dtype and gl.dtype == dtype
    torch.testing.assert_close(gx.double(), rx, **tol)
    torch.testing.assert_close(gl.double(), rl, **tol)


# (B, C, H, W), k, heads. Under the interpreter the tiles shrink to the
# image: (1, 2, 9, 9) has two tiles along H, (1, 2, 3, 40) two along W and
# (1, 40, 3, 4) three channel blocks (16 + 16 + 8); k = 9 is larger than
# H or W.
TILING_CASES = [
    ((1, 2, 9, 9), 7, 1),
    ((1, 2, 4, 7), 9, 1),
    ((1, 4, 8, 3), 9, 2),
    ((1, 40, 3, 4), 3, 1),
    ((1, 2, 3, 40), 3, 1),
]


@needs_kernels
@pytest.mark.parametrize('shape,k,heads', TILING_CASES)
def test_tiles_and_channel_blocks_match_the_formula(shape, k, heads,
                                                   naive_aggregate):
    torch.manual_seed(0)
    b, c, h, w = shape
    check_against_formula(naive_aggregate, torch.randn(shape),
                          2 * torch.randn(b, heads * k * k, h, w), k, heads)


@needs_kernels
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_matches_the_formula(dtype, naive_aggregate):
    torch.manual_seed(0)
    check_against_formula(naive_aggregate, torch.randn(2, 4, 5, 6),
                          torch.randn(2, 2 * 9, 5, 6), 3, 2, dtype=dtype,
                          tol=LOW_TOL[dtype])


def _args():
    return torch.randn(1, 4, 3, 3), torch.randn(1, 2 * 9, 3, 3)


def test_cpu_tensors_without_the_interpreter(monkeypatch):
    monkeypatch.setattr(tri, 'kernels_interpreted', lambda: False)
    verdict = tri.can_run('cpu', torch.float32)
    assert not verdict and 'needs CUDA tensors' in verdict.reason
    with pytest.raises(RuntimeError,
                       match=r"needs CUDA tensors.*backend='shift'"):
        sgdc_aggregate(*_args(), 3, 2, backend='triton')


def test_missing_triton(monkeypatch):
    monkeypatch.setattr(tri, '_TRITON_IMPORT_ERROR',
                        ImportError('No module named triton'))
    assert not tri.triton_available()
    assert not tri.can_run('cuda', torch.float32)
    with pytest.raises(RuntimeError, match=r"pip install triton.*'shift'"):
        sgdc_aggregate(*_args(), 3, 2, backend='triton')


def test_unsupported_dtype(monkeypatch):
    monkeypatch.setattr(tri, 'SUPPORTED_DTYPES', (torch.float16, ))
    verdict = tri.can_run('cuda', torch.float32)
    assert not verdict and verdict.error is TypeError
    with pytest.raises(TypeError, match=r"got torch.float32; use "
                       r"backend='shift'"):
        sgdc_aggregate(*_args(), 3, 2, backend='triton')


def test_can_run_on_cuda_in_every_supported_dtype():
    for dtype in tri.SUPPORTED_DTYPES:
        assert bool(tri.can_run('cuda', dtype)) == tri.triton_available()


@cuda_only
@pytest.mark.parametrize('dtype', [torch.float32, torch.float16,
                                   torch.bfloat16])
def test_cuda_parity_realistic(dtype, naive_aggregate):
    torch.manual_seed(0)
    tol = FP32_TOL if dtype == torch.float32 else LOW_TOL[dtype]
    check_against_formula(naive_aggregate, torch.randn(2, 64, 33, 40),
                          torch.randn(2, 4 * 49, 33, 40), 7, 4,
                          dtype=dtype, tol=tol)


@cuda_only
def test_cuda_auto_selects_triton(naive_aggregate):
    torch.manual_seed(0)
    x = torch.randn(2, 8, 9, 10, device='cuda')
    logits = torch.randn(2, 2 * 25, 9, 10, device='cuda')
    assert select_backend(x) == 'triton'
    out = sgdc_aggregate(x, logits, 5, 2)  # backend='auto'
    torch.testing.assert_close(
        out.double(), naive_aggregate(x.double(), logits.double(), 5, 2),
        **FP32_TOL)
    assert torch.equal(out, sgdc_aggregate(x, logits, 5, 2,
                                           backend='triton'))


@cuda_only
def test_cuda_auto_falls_back_to_shift_when_triton_cannot_run(monkeypatch):
    monkeypatch.setattr(tri, 'SUPPORTED_DTYPES', ())
    assert select_backend(torch.zeros(1, 1, 1, 1, device='cuda')) == 'shift'


@needs_kernels
def test_compile_fullgraph_through_the_dispatcher(naive_aggregate):
    # the dispatcher's backend lookup and can_run are traced without a
    # graph break; the operator runs the kernels
    torch._dynamo.reset()
    x = torch.randn(1, 4, 5, 6, device=DEVICE, requires_grad=True)
    logits = torch.randn(1, 18, 5, 6, device=DEVICE, requires_grad=True)
    compiled = torch.compile(
        lambda a, b: sgdc_aggregate(a, b, 3, 2, backend='triton'),
        fullgraph=True, backend='aot_eager')
    out = compiled(x, logits)
    torch.testing.assert_close(out, naive_aggregate(x, logits, 3, 2),
                               **FP32_TOL)
    gx, gl = torch.autograd.grad(out.sum(), (x, logits))
    rx, rl = torch.autograd.grad(naive_aggregate(x, logits, 3, 2).sum(),
                                 (x, logits))
    torch.testing.assert_close(gx, rx, **FP32_TOL)
    torch.testing.assert_close(gl, rl, **FP32_TOL)
