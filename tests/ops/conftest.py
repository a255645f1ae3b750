"""Fixtures of the sgdc_aggregate tests: an independent formula of the
aggregation and the device the backends are tested on."""
import pytest
import torch
import torch.nn.functional as F


def _naive_aggregate(x, logits, k, heads):
    """out[b, c, i, j] = sum_t softmax(logits[b, head(c)*k*k + t, i, j])
    * xpad[b, c, i + dy_t, j + dx_t] with taps t in row-major order: a loop
    over shifted views, independent of every backend."""
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


def _values_and_grads(fn, x, logits, g):
    """``(out, grad x, grad logits)`` of ``fn(x, logits)`` for the output
    gradient ``g``, on fresh leaf copies of ``x`` and ``logits``."""
    x = x.detach().clone().requires_grad_()
    logits = logits.detach().clone().requires_grad_()
    out = fn(x, logits)
    gx, gl = torch.autograd.grad(out, (x, logits), g)
    return out, gx, gl


@pytest.fixture
def values_and_grads():
    """``f(fn, x, logits, g) -> (out, grad x, grad logits)``."""
    return _values_and_grads


@pytest.fixture
def naive_aggregate():
    """The independent formula, ``f(x, logits, k, heads)``."""
    return _naive_aggregate


@pytest.fixture
def device():
    """Where the backends are tested: the GPU if there is one, else the CPU
    (the Triton backend under Triton's interpreter, see tests/conftest.py).
    """
    return 'cuda' if torch.cuda.is_available() else 'cpu'
