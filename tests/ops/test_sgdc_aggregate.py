"""sgdc_aggregate against an independent shift-and-sum formulation."""
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
