"""The shift backend's own machinery: its row chunks, strided and
channels-last inputs and gradients, what autograd keeps. (Its parity with
the formula over sizes and dtypes is in tests/ops/test_sgdc_aggregate.py.)
"""
import pytest
import torch

from sgdc_mmseg.ops import sgdc_aggregate
from sgdc_mmseg.ops.backends import shift

# fp32 tolerance of every comparison below: 1e-5 absolute and relative (the
# sums have at most 81 terms of O(1) values).
FP32_TOL = dict(atol=1e-5, rtol=1e-5)


def _shift(k, heads):
    return lambda a, b: sgdc_aggregate(a, b, k, heads, backend='shift')


def test_can_run_anywhere():
    assert shift.can_run('cpu', torch.float32)
    assert shift.can_run(torch.device('meta'), torch.float16)


@pytest.mark.parametrize('chunk', [1, 50, 10**9])
@pytest.mark.parametrize('k,heads,shape', [
    (3, 1, (1, 3, 1, 1)),     # a single pixel
    (3, 2, (3, 4, 5, 5)),     # odd square, batch 3
    (5, 4, (2, 8, 6, 4)),     # even, non-square
    (7, 8, (1, 8, 7, 10)),    # odd x even, image smaller than the kernel
    (9, 2, (2, 2, 11, 3)),    # k=9, thin
    (5, 1, (4, 1, 4, 9)),     # one channel, batch 4
])
def test_matches_the_formula_across_chunk_sizes(monkeypatch, chunk, k, heads,
                                                shape, naive_aggregate,
                                                values_and_grads):
    # chunk=1: one row of one sample per chunk; 50: several rows or samples
    # and a shorter last chunk; 10**9: the whole tensor in one chunk.
    monkeypatch.setattr(shift, 'SHIFT_CHUNK_ELEMENTS', chunk)
    gen = torch.Generator().manual_seed(k * 100 + heads)
    b, c, h, w = shape
    x = torch.randn(shape, generator=gen)
    logits = torch.randn(b, heads * k * k, h, w, generator=gen) * 3
    g = torch.randn(shape, generator=gen)
    got = values_and_grads(_shift(k, heads), x, logits, g)
    ref = values_and_grads(lambda a, l: naive_aggregate(a, l, k, heads), x,
                            logits, g)
    for a, r in zip(got, ref):
        torch.testing.assert_close(a, r, **FP32_TOL)


def test_chunks_cover_every_row_and_sample_once():
    for b, c, h, w, target in [(2, 3, 7, 5, 1), (2, 3, 7, 5, 31),
                               (2, 3, 7, 5, 40), (5, 2, 3, 4, 17),
                               (2, 3, 7, 5, 10**9), (0, 3, 7, 5, 8),
                               (2, 3, 0, 5, 8), (2, 3, 4, 0, 8)]:
        seen = torch.zeros(b, h, dtype=torch.int64)
        for bs, i0, i1 in shift._chunks(b, c, h, w, target):
            assert i1 > i0
            seen[bs, i0:i1] += 1
        assert (seen == 1).all(), (b, c, h, w, target)


def test_gradcheck_float64_across_chunks(monkeypatch):
    # a row of a sample (4 channels x 3) is 12 elements: 6 one-row chunks
    monkeypatch.setattr(shift, 'SHIFT_CHUNK_ELEMENTS', 20)
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    logits = torch.randn(2, 2 * 9, 3, 3, dtype=torch.float64,
                         requires_grad=True)
    assert torch.autograd.gradcheck(_shift(3, 2), (x, logits))


def test_non_contiguous_grad_output(naive_aggregate):
    torch.manual_seed(0)
    x = torch.randn(2, 4, 5, 6, requires_grad=True)
    logits = torch.randn(2, 2 * 9, 5, 6, requires_grad=True)
    g = torch.randn(6, 5, 4, 2).permute(3, 2, 1, 0)  # [2, 4, 5, 6], strided
    got = torch.autograd.grad(_shift(3, 2)(x, logits), (x, logits), g)
    ref = torch.autograd.grad(naive_aggregate(x, logits, 3, 2), (x, logits),
                              g.contiguous())
    for a, r in zip(got, ref):
        torch.testing.assert_close(a, r, **FP32_TOL)


def test_channels_last_inputs(naive_aggregate, values_and_grads):
    torch.manual_seed(0)
    x = torch.randn(2, 4, 5, 6).to(memory_format=torch.channels_last)
    logits = torch.randn(2, 18, 5, 6).to(memory_format=torch.channels_last)
    g = torch.randn(2, 4, 5, 6).to(memory_format=torch.channels_last)
    got = values_and_grads(_shift(3, 2), x, logits, g)
    ref = values_and_grads(lambda a, l: naive_aggregate(a, l, 3, 2),
                            x.contiguous(), logits.contiguous(),
                            g.contiguous())
    for a, r in zip(got, ref):
        torch.testing.assert_close(a, r, **FP32_TOL)


def test_keeps_the_softmaxed_kernels_not_the_unfolded_copy():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 12, 10, requires_grad=True)
    logits = torch.randn(2, 2 * 49, 12, 10, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(
            lambda t: saved.append(t.numel()) or t, lambda t: t):
        _shift(7, 2)(x, logits)
    # x, the logits and the softmaxed kernels (shape of the logits)
    assert saved == [x.numel(), logits.numel(), logits.numel()]
    assert max(saved) * 8 == x.numel() * 49  # unfold would keep 8x more
