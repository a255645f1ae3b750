"""The Triton backend of sgdc_aggregate against an independent unfold form.

Without CUDA, ``tests/conftest.py`` sets ``TRITON_INTERPRET=1`` before triton
is imported, so the kernels run on CPU tensors under Triton's interpreter;
it is slow, hence the tiny shapes. On a GPU box the same tests run on CUDA,
plus the ``cuda_only`` parity tests at realistic sizes.
"""
import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('triton', reason='triton is not installed '
                    '(pip install triton); the triton backend is optional')

import sgdc_mmseg.ops.sgdc_aggregate_triton as tri  # noqa: E402
from sgdc_mmseg.ops import sgdc_aggregate, select_backend  # noqa: E402

HAS_CUDA = torch.cuda.is_available()
# Where the small tests run: on the GPU if there is one, else on the CPU
# under Triton's interpreter.
DEVICE = 'cuda' if HAS_CUDA else 'cpu'
needs_kernels = pytest.mark.skipif(
    not HAS_CUDA and not tri._is_interpreted(),
    reason='no CUDA and TRITON_INTERPRET=1 was not set before triton '
    'was imported (see tests/conftest.py)')
cuda_only = pytest.mark.skipif(not HAS_CUDA, reason='needs a CUDA GPU')

FP32_TOL = dict(atol=1e-5, rtol=1e-5)
LOW_TOL = {torch.float16: dict(atol=3e-3, rtol=3e-3),
           torch.bfloat16: dict(atol=2e-2, rtol=2e-2)}


def unfold_reference(x, logits, k, heads):
    """out[b, c, p] = sum_t softmax_t(logits[b, head(c)*k*k + t, p])
    * patch_t(x)[b, c, p], patches of the zero-padded input by F.unfold."""
    b, c, h, w = x.shape
    cols = F.unfold(x, k, padding=k // 2).view(b, heads, c // heads, k * k,
                                                h * w)
    soft = torch.softmax(logits.view(b, heads, k * k, h * w), dim=2)
    return torch.einsum('bgctp,bgtp->bgcp', cols, soft).reshape(b, c, h, w)


def run_triton(x, logits, k, heads):
    return tri.sgdc_aggregate_triton(x, logits, k, heads)


def check_against_reference(x, logits, k, heads, dtype=torch.float32,
                            tol=FP32_TOL):
    """Forward and both gradients of the triton backend on ``dtype`` copies
    of ``x`` and ``logits`` vs the unfold reference in float64 on the same
    (rounded) values."""
    xl = x.to(DEVICE, dtype).requires_grad_()
    ll = logits.to(DEVICE, dtype).requires_grad_()
    xr = xl.detach().double().requires_grad_()
    lr = ll.detach().double().requires_grad_()
    out = run_triton(xl, ll, k, heads)
    ref = unfold_reference(xr, lr, k, heads)
    assert out.dtype == dtype and out.shape == x.shape
    torch.testing.assert_close(out.double(), ref, **tol)
    grad = torch.randn_like(ref).to(dtype)
    gx, gl = torch.autograd.grad(out, (xl, ll), grad)
    rx, rl = torch.autograd.grad(ref, (xr, lr), grad.double())
    assert gx.dtype == dtype and gl.dtype == dtype
    torch.testing.assert_close(gx.double(), rx, **tol)
    torch.testing.assert_close(gl.double(), rl, **tol)


# (B, C, H, W), k, heads: odd/even/non-square sizes, k = 9 larger than H or
# W, batch 1 and 2. Under the interpreter the tiles shrink to the image:
# (1, 2, 9, 9) has two tiles along H, (1, 2, 3, 40) two along W and
# (1, 40, 3, 4) three channel blocks (16 + 16 + 8).
FP32_CASES = [
    ((1, 4, 5, 6), 3, 1),
    ((2, 4, 7, 4), 5, 2),
    ((1, 4, 6, 9), 7, 4),
    ((1, 2, 9, 9), 7, 1),
    ((1, 2, 4, 7), 9, 1),
    ((1, 4, 8, 3), 9, 2),
    ((1, 40, 3, 4), 3, 1),
    ((1, 2, 3, 40), 3, 1),
]


@needs_kernels
@pytest.mark.parametrize('shape,k,heads', FP32_CASES)
def test_fp32_matches_unfold(shape, k, heads):
    torch.manual_seed(0)
    b, c, h, w = shape
    check_against_reference(torch.randn(shape),
                            2 * torch.randn(b, heads * k * k, h, w), k, heads)


@needs_kernels
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_matches_fp32_reference(dtype):
    torch.manual_seed(0)
    check_against_reference(torch.randn(2, 4, 5, 6),
                            torch.randn(2, 2 * 9, 5, 6), 3, 2, dtype=dtype,
                            tol=LOW_TOL[dtype])


@needs_kernels
def test_gradcheck_float64():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 3, 4, dtype=torch.float64, device=DEVICE,
                    requires_grad=True)
    logits = torch.randn(1, 2 * 9, 3, 4, dtype=torch.float64, device=DEVICE,
                         requires_grad=True)
    # fast mode: a full numerical Jacobian is ~30 s under the interpreter
    assert torch.autograd.gradcheck(
        lambda a, b: run_triton(a, b, 3, 2), (x, logits), fast_mode=True)


@needs_kernels
def test_non_contiguous_inputs():
    torch.manual_seed(0)
    base_x = torch.randn(2, 4, 6, 5, device=DEVICE)
    base_l = torch.randn(2, 6, 5, 2 * 9, device=DEVICE)
    x = base_x.transpose(2, 3).requires_grad_()  # [2, 4, 5, 6], strided
    logits = base_l.permute(0, 3, 2, 1).requires_grad_()  # [2, 18, 5, 6]
    assert not x.is_contiguous() and not logits.is_contiguous()
    out = run_triton(x, logits, 3, 2)
    xr = x.detach().contiguous().requires_grad_()
    lr = logits.detach().contiguous().requires_grad_()
    ref = unfold_reference(xr, lr, 3, 2)
    torch.testing.assert_close(out, ref, **FP32_TOL)
    grad = torch.randn_like(ref)
    gx, gl = torch.autograd.grad(out, (x, logits), grad)
    rx, rl = torch.autograd.grad(ref, (xr, lr), grad)
    torch.testing.assert_close(gx, rx, **FP32_TOL)
    torch.testing.assert_close(gl, rl, **FP32_TOL)


@needs_kernels
@pytest.mark.parametrize('which', [0, 1])
def test_one_input_needs_grad(which):
    torch.manual_seed(0)
    x = torch.randn(1, 2, 4, 3, device=DEVICE, requires_grad=which == 0)
    logits = torch.randn(1, 9, 4, 3, device=DEVICE, requires_grad=which == 1)
    out = run_triton(x, logits, 3, 1)
    grad = torch.randn_like(out)
    (got,) = torch.autograd.grad(out, ((x, logits)[which],), grad)
    xr = x.detach().requires_grad_()
    lr = logits.detach().requires_grad_()
    expected = torch.autograd.grad(unfold_reference(xr, lr, 3, 1), (xr, lr),
                                   grad)[which]
    torch.testing.assert_close(got, expected, **FP32_TOL)


@needs_kernels
def test_one_hot_and_minus_inf_logits():
    # all weight on tap (0, 2): out[i, j] = x[i - 1, j + 1]; -inf logits of
    # the other taps must give exact zeros, not NaN
    x = torch.arange(2 * 4 * 5, dtype=torch.float32,
                     device=DEVICE).reshape(1, 2, 4, 5)
    logits = torch.full((1, 9, 4, 5), float('-inf'), device=DEVICE)
    logits[:, 2] = 3.0
    out = run_triton(x, logits, 3, 1)
    expected = torch.zeros_like(x)
    expected[..., 1:, :-1] = x[..., :-1, 1:]
    torch.testing.assert_close(out, expected, atol=0, rtol=0)


@needs_kernels
def test_saves_no_unfolded_copy():
    torch.manual_seed(0)
    x = torch.randn(1, 8, 5, 4, device=DEVICE, requires_grad=True)
    logits = torch.randn(1, 2 * 49, 5, 4, device=DEVICE, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(
            lambda t: saved.append(t.numel()) or t, lambda t: t):
        run_triton(x, logits, 7, 2)
    # x, the logits and a per-pixel log-sum-exp per head
    assert sum(saved) == x.numel() + logits.numel() + 2 * 5 * 4


@needs_kernels
def test_empty_batch():
    x = torch.randn(0, 4, 3, 3, device=DEVICE, requires_grad=True)
    logits = torch.randn(0, 18, 3, 3, device=DEVICE, requires_grad=True)
    out = run_triton(x, logits, 3, 2)
    assert out.shape == (0, 4, 3, 3)
    gx, gl = torch.autograd.grad(out.sum(), (x, logits))
    assert gx.shape == x.shape and gl.shape == logits.shape


@needs_kernels
def test_dispatcher_backend_triton():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 3, 5, device=DEVICE)
    logits = torch.randn(1, 2 * 9, 3, 5, device=DEVICE)
    out = sgdc_aggregate(x, logits, 3, 2, backend='triton')
    torch.testing.assert_close(out, unfold_reference(x, logits, 3, 2),
                               **FP32_TOL)


def test_auto_keeps_shift_on_cpu():
    assert select_backend(torch.zeros(1, 1, 1, 1)) == 'shift'


def test_triton_available():
    assert tri.triton_available() is True


def _args(**overrides):
    x = torch.randn(1, 4, 3, 3)
    logits = torch.randn(1, 2 * 9, 3, 3)
    args = dict(x=x, kernel_logits=logits, kernel_size=3, num_heads=2)
    args.update(overrides)
    return args


@pytest.mark.parametrize('overrides,error,match', [
    (dict(kernel_logits=torch.randn(1, 2 * 9, 3, 3, device='meta')),
     ValueError, 'same device'),
    (dict(kernel_logits=torch.randn(1, 2 * 9, 3, 3, dtype=torch.float64)),
     TypeError, 'same dtype'),
    (dict(x=torch.ones(1, 4, 3, 3, dtype=torch.int32),
          kernel_logits=torch.ones(1, 2 * 9, 3, 3, dtype=torch.int32)),
     TypeError, r"torch.int32; use backend='shift'"),
    (dict(kernel_size=4), ValueError, 'odd'),
    (dict(kernel_logits=torch.randn(1, 9, 3, 3)), ValueError,
     'kernel_logits must have shape'),
])
def test_argument_errors(overrides, error, match):
    with pytest.raises(error, match=match):
        tri.sgdc_aggregate_triton(**_args(**overrides))


def test_cpu_tensors_without_interpreter_error(monkeypatch):
    monkeypatch.setattr(tri, '_is_interpreted', lambda: False)
    with pytest.raises(RuntimeError,
                       match=r"needs CUDA tensors.*backend='shift'"):
        tri.sgdc_aggregate_triton(**_args())


def test_missing_triton_error(monkeypatch):
    monkeypatch.setattr(tri, '_TRITON_IMPORT_ERROR',
                        ImportError('No module named triton'))
    assert not tri.triton_available()
    with pytest.raises(RuntimeError, match=r"pip install triton.*'shift'"):
        tri.sgdc_aggregate_triton(**_args())


@cuda_only
@pytest.mark.parametrize('dtype', [torch.float32, torch.float16,
                                   torch.bfloat16])
def test_cuda_parity_realistic(dtype):
    torch.manual_seed(0)
    tol = FP32_TOL if dtype == torch.float32 else LOW_TOL[dtype]
    check_against_reference(torch.randn(2, 64, 33, 40),
                            torch.randn(2, 4 * 49, 33, 40), 7, 4,
                            dtype=dtype, tol=tol)


@cuda_only
def test_cuda_auto_selects_triton():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 9, 10, device='cuda')
    logits = torch.randn(2, 2 * 25, 9, 10, device='cuda')
    assert select_backend(x) == 'triton'
    out = sgdc_aggregate(x, logits, 5, 2)  # backend='auto'
    torch.testing.assert_close(
        out.double(), unfold_reference(x.double(), logits.double(), 5, 2),
        **FP32_TOL)
    assert torch.equal(out, tri.sgdc_aggregate_triton(x, logits, 5, 2))


@needs_kernels
def test_operator_opcheck_triton():
    # schema, fake implementation (the per-head log-sum-exp as the saved
    # output), autograd registration and AOT dispatch of the triton branch
    x = torch.randn(1, 2, 3, 4, device=DEVICE, requires_grad=True)
    logits = torch.randn(1, 9, 3, 4, device=DEVICE, requires_grad=True)
    out, lse = torch.ops.sgdc_mmseg.sgdc_aggregate(x, logits, 3, 1, 'triton')
    assert lse.shape == (1, 1, 3, 4) and lse.dtype == torch.float32
    torch.testing.assert_close(lse, logits.detach().logsumexp(1,
                                                              keepdim=True))
    torch.library.opcheck(torch.ops.sgdc_mmseg.sgdc_aggregate.default,
                          (x, logits, 3, 1, 'triton'))
