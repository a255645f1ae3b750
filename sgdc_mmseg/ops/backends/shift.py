"""The ``'shift'`` backend of :func:`sgdc_mmseg.ops.sgdc_aggregate`:
shift and accumulate, run as a branch of the ``sgdc_mmseg::sgdc_aggregate``
operator (:mod:`sgdc_mmseg.ops.aggregate_op`).

It accumulates the ``k * k`` shifted views of the zero-padded input,
weighted by the softmaxed kernels, in place, with its own backward (the
same accumulation run in reverse), a few rows at a time so each chunk is
reused from cache by all taps. It keeps the input, the logits and the
softmaxed kernels: ``O(C*H*W + heads*k*k*H*W)`` instead of
``O(C*k*k*H*W)``. Plain PyTorch ops, so it runs on any device and floating
dtype; ``'auto'`` picks it on CPU, and on CUDA when the Triton backend
cannot run.

Interface of an operator backend (also :mod:`.triton`): :func:`can_run`,
:func:`saved_spec`, :func:`forward`, :func:`backward`.
"""
import torch
import torch.nn.functional as F

from ..checks import CAN_RUN

NAME = 'shift'
#: Whether the operator needs contiguous inputs (it does not: strided and
#: channels-last inputs are read as they are).
CONTIGUOUS_INPUTS = False


def can_run(device, dtype):
    """Always (any device, any floating dtype: plain PyTorch ops)."""
    return CAN_RUN


def saved_spec(x, kernel_logits, num_heads):
    """``(shape, dtype)`` of what :func:`forward` saves for the backward:
    the softmaxed kernels, like ``kernel_logits``."""
    return tuple(kernel_logits.shape), kernel_logits.dtype


#: Elements of ``x`` (all channels) per chunk of the shift backend's loops:
#: 1 Mi values (4 MiB in fp32), so that a chunk of the input, the output and
#: the gradient stay in the last-level cache for all ``k*k`` taps while each
#: of the ``k*k`` per-tap operations stays large enough to be split over the
#: threads without its start-up cost dominating. Measured on 2 cores
#: (B=2, C=256, 128x128, k=7, fp32): forward+backward 1.6x faster than one
#: chunk (whole tensors); 4x smaller or 2x larger chunks were slower.
SHIFT_CHUNK_ELEMENTS = 1 << 20


def _chunks(b, c, h, w, target=None):
    """``(batch slice, row start, row end)`` chunks of ``[b, c, h, w]`` with
    about ``target`` elements each: several rows of all samples and
    channels, or, when that is too large, one row of as many samples as
    fit (at least one)."""
    target = SHIFT_CHUNK_ELEMENTS if target is None else target
    row = c * w
    if b * row <= target:
        per_batch, rows = max(1, b), max(1, target // max(1, b * row))
    else:
        per_batch, rows = max(1, target // row), 1
    for b0 in range(0, b, per_batch):
        for i0 in range(0, h, rows):
            yield slice(b0, min(b, b0 + per_batch)), i0, min(h, i0 + rows)


# --- the loops ---------------------------------------------------------------
# Every loop runs over chunks of a few rows (:func:`_chunks`) and, inside a
# chunk, over the ``k*k`` taps, so the chunk's data is reused from cache by
# all taps instead of streaming the whole tensor ``k*k`` times.
#
# * forward: ``out[c, p] = sum_t w_t[p] * xpad[c, p + t]`` (``mul`` for the
#   first tap, ``addcmul_`` for the others).
# * grad x: the transposed accumulation, ``gpad[c, p + t] += w_t[p] *
#   g[c, p]``, into a zero-padded buffer that is cropped at the end.
# * grad weights: ``gw_t[p] = sum_{c in head} g[c, p] * xpad[c, p + t]``
#   through one chunk-sized buffer; then the softmax backward, in place.
#
# The backward pads the input again (only when the logits need a gradient);
# its temporaries are ``O(C*H*W + heads*k*k*H*W)`` (padded input, padded
# gradient, kernel gradient) plus one chunk.


def _pad(x, num_heads, r):
    """Zero-padded ``x`` as ``[B, heads, C/heads, H+2r, W+2r]``."""
    b, c, h, w = x.shape
    # contiguous: a channels-last x would give a channels-last padded copy,
    # whose shifted row slices are slow to read
    return F.pad(x, (r, r, r, r)).contiguous().view(
        b, num_heads, c // num_heads, h + 2 * r, w + 2 * r)


def forward(x, kernel_logits, kernel_size, num_heads):
    """``(out, weights)``: the aggregation and the softmaxed kernels (shape
    and dtype of ``kernel_logits``), saved for :func:`backward`."""
    b, c, h, w = x.shape
    k, r = kernel_size, kernel_size // 2
    logits = kernel_logits.reshape(b, num_heads, k * k, h, w)
    # softmax over the taps (on 2 cores, 20% faster than Tensor.softmax
    # over this inner dimension)
    weights = (logits - logits.amax(dim=2, keepdim=True)).exp_()
    weights.div_(weights.sum(dim=2, keepdim=True))
    padded = _pad(x, num_heads, r)
    out = x.new_empty(b, num_heads, c // num_heads, h, w)
    for bs, i0, i1 in _chunks(b, c, h, w):
        acc = out[bs, :, :, i0:i1]
        # [b, heads, 1, k*k, rows, w]: tap t broadcasts over channels
        wt = weights[bs, :, :, i0:i1].unsqueeze(2)
        for tap in range(k * k):
            dy, dx = divmod(tap, k)
            src = padded[bs, :, :, i0 + dy:i1 + dy, dx:dx + w]
            if tap == 0:
                torch.mul(src, wt[:, :, :, 0], out=acc)
            else:
                acc.addcmul_(src, wt[:, :, :, tap])
    return out.view(b, c, h, w), weights.view(kernel_logits.shape)


def backward(grad_out, x, kernel_logits, weights, kernel_size, num_heads,
             need_x, need_logits):
    """``(grad_x, grad_logits)``, an empty tensor for a gradient that is
    not needed."""
    b, c, h, w = x.shape
    k, r = kernel_size, kernel_size // 2
    heads, cph = num_heads, c // num_heads
    weights = weights.view(b, heads, k * k, h, w)
    g = grad_out.to(x.dtype).contiguous().view(b, heads, cph, h, w)
    grad_x, grad_logits = x.new_empty(0), kernel_logits.new_empty(0)
    if need_x:
        grad_padded = x.new_zeros(b, heads, cph, h + 2 * r, w + 2 * r)
    if need_logits:
        padded = _pad(x, heads, r)
        grad_w = torch.empty_like(weights)
        buf = None
    for bs, i0, i1 in _chunks(b, c, h, w):
        gc = g[bs, :, :, i0:i1]
        wt = weights[bs, :, :, i0:i1].unsqueeze(2)
        if need_logits:
            if buf is None:
                buf = torch.empty_like(gc)
            prod = buf[:gc.shape[0], :, :, :i1 - i0]
        for tap in range(k * k):
            dy, dx = divmod(tap, k)
            rows = slice(i0 + dy, i1 + dy)
            if need_x:
                grad_padded[bs, :, :, rows, dx:dx + w].addcmul_(
                    gc, wt[:, :, :, tap])
            if need_logits:
                torch.mul(gc, padded[bs, :, :, rows, dx:dx + w], out=prod)
                torch.sum(prod, dim=2, out=grad_w[bs, :, tap, i0:i1])
    if need_x:
        # contiguous, as the fake implementation promises
        grad_x = grad_padded[..., r:r + h, r:r + w].reshape(b, c, h, w)
        grad_x = grad_x.contiguous()
    if need_logits:
        # softmax backward over the taps, in place:
        # w * (gw - sum_s w_s gw_s)
        dot = (grad_w * weights).sum(dim=2, keepdim=True)
        grad_logits = grad_w.sub_(dot).mul_(weights).view(
            b, heads * k * k, h, w)
    return grad_x, grad_logits
