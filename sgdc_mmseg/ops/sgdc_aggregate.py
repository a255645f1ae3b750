"""Per-pixel dynamic-kernel aggregation of SGDC (Structure-Guided Dynamic
Convolution, MIDL 2026, arXiv 2602.23496).

For every pixel and head, a softmax over ``kernel_size**2`` logits gives a
kernel that is shared by the channels of that head and weights the pixel's
zero-padded ``k x k`` neighbourhood. This module knows nothing of mmseg.

Backends behind :func:`sgdc_aggregate`:

* ``'reference'``: the unfold form of the paper's code. It writes a
  ``C * k**2 * H * W`` tensor and is kept for checking and export. It is
  plain PyTorch (differentiable to any order) and is also the form the
  operator decomposes into (:mod:`sgdc_mmseg.ops.export`).
* ``'shift'``: accumulates the ``k * k`` shifted views of the zero-padded
  input, weighted by the softmaxed kernels, in place, with its own backward
  (the same accumulation run in reverse), a few rows at a time so each
  chunk is reused from cache by all taps. It keeps the input, the logits
  and the softmaxed kernels: ``O(C*H*W + heads*k*k*H*W)`` instead of
  ``O(C*k*k*H*W)``. Default (``'auto'``) on CPU, and on CUDA when Triton is
  missing.
* ``'triton'``: fused Triton kernels (softmax fused in, fp32 accumulation)
  for CUDA tensors in fp32, fp16 and bf16; see
  :mod:`sgdc_mmseg.ops.sgdc_aggregate_triton`. Default (``'auto'``) on CUDA
  when Triton is installed. Under ``TRITON_INTERPRET=1`` it also runs on CPU
  tensors (for testing only).

The ``'shift'`` and ``'triton'`` backends run behind one PyTorch operator,
registered with :func:`torch.library.custom_op`:

* ``torch.ops.sgdc_mmseg.sgdc_aggregate(x, kernel_logits, kernel_size,
  num_heads, backend) -> (out, saved)``: ``out`` is the aggregation and
  ``saved`` (not differentiable) what the backend's backward needs besides
  the inputs: for ``'shift'`` the softmaxed kernels (shape and dtype of
  ``kernel_logits``), for ``'triton'`` the per-pixel log-sum-exp of each
  head's logits (``[B, heads, H, W]`` in the accumulation dtype, see
  :func:`saved_spec`). ``backend`` is ``'shift'`` or ``'triton'``;
  ``x`` and ``kernel_logits`` must have the same dtype and device.
* ``torch.ops.sgdc_mmseg.sgdc_aggregate_backward(grad, x, kernel_logits,
  saved, kernel_size, num_heads, backend, need_x, need_logits) ->
  (grad_x, grad_logits)``: the backward, itself an operator (so a
  compiled or exported training graph keeps it as one node); a gradient
  that is not needed comes back as an empty tensor. Its own derivative
  (double backward) is computed with the differentiable reference form
  (``O(C*k*k*H*W)`` memory, only when a second derivative is asked for).

Both have fake (meta) implementations with symbolic shapes, so
``torch.compile(fullgraph=True)`` and ``torch.export`` with dynamic H and W
keep the operator as one node. :func:`sgdc_aggregate` resolves ``'auto'``
in Python before it calls the operator, so a compiled or exported graph
holds the backend chosen when it was traced (``'shift'`` for CPU tensors).
"""
import os

import torch
import torch.nn.functional as F

BACKENDS = ('reference', 'shift', 'triton')
# Overrides what backend='auto' picks, for every call (e.g. to fall back to
# 'shift' on a GPU where the Triton kernels fail, or to time backends).
BACKEND_ENV = 'SGDC_AGGREGATE_BACKEND'
#: Namespace of the operators registered by this module
#: (``torch.ops.sgdc_mmseg.*``).
OP_NAMESPACE = 'sgdc_mmseg'


def check_aggregate_args(x, kernel_logits, kernel_size, num_heads):
    """Validate the arguments of :func:`sgdc_aggregate` with clear errors."""
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(
            f'kernel_size must be a positive odd int, got {kernel_size!r}')
    if not isinstance(num_heads, int) or num_heads < 1:
        raise ValueError(f'num_heads must be a positive int, got {num_heads!r}')
    if x.dim() != 4:
        raise ValueError(f'x must be [B, C, H, W], got shape {tuple(x.shape)}')
    b, c, h, w = x.shape
    if c % num_heads != 0:
        raise ValueError(
            f'channels ({c}) must be divisible by num_heads ({num_heads})')
    expected = (b, num_heads * kernel_size**2, h, w)
    if tuple(kernel_logits.shape) != expected:
        raise ValueError(
            f'kernel_logits must have shape {expected} '
            f'(B, num_heads*kernel_size**2, H, W), got '
            f'{tuple(kernel_logits.shape)}')


def sgdc_aggregate_reference(x, kernel_logits, kernel_size, num_heads):
    """Unfold implementation (materialises the k*k neighbourhood copies)."""
    b, c, h, w = x.shape
    area = kernel_size * kernel_size
    patches = F.unfold(x, kernel_size=kernel_size, padding=kernel_size // 2)
    patches = patches.reshape(b, num_heads, c // num_heads, area, h * w)
    weights = kernel_logits.reshape(b, num_heads, area, h * w).softmax(dim=2)
    out = torch.einsum('bhckl,bhkl->bhcl', patches, weights)
    return out.reshape(b, c, h, w)


def saved_spec(x, kernel_logits, num_heads, backend):
    """``(shape, dtype)`` of the operator's second output, ``saved``: the
    softmaxed kernels for ``'shift'``; for ``'triton'`` the per-head
    log-sum-exp, in float64 for float64 inputs and float32 otherwise (the
    Triton kernels' accumulation dtype)."""
    if backend == 'triton':
        b, _, h, w = x.shape
        dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        return (b, num_heads, h, w), dtype
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


# --- shift backend ----------------------------------------------------------
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


def _shift_forward(x, kernel_logits, kernel_size, num_heads):
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


def _shift_backward(grad_out, x, kernel_logits, weights, kernel_size,
                    num_heads, need_x, need_logits):
    b, c, h, w = x.shape
    k, r = kernel_size, kernel_size // 2
    heads, cph = num_heads, c // num_heads
    weights = weights.view(b, heads, k * k, h, w)
    g = grad_out.to(x.dtype).contiguous().view(b, heads, cph, h, w)
    grad_x, grad_logits = _unused(x), _unused(kernel_logits)
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


def _unused(t):
    """The placeholder for a gradient that was not asked for."""
    return t.new_empty(0)


# --- the operators ------------------------------------------------------------


def _check_op_inputs(x, kernel_logits):
    """The operators' contract (the public functions promote first)."""
    if x.device != kernel_logits.device:
        raise ValueError(
            f'x and kernel_logits must be on the same device, got '
            f'{x.device} and {kernel_logits.device}')
    if x.dtype != kernel_logits.dtype or not x.dtype.is_floating_point:
        raise TypeError(
            f'{OP_NAMESPACE}::sgdc_aggregate needs x and kernel_logits of '
            f'the same floating dtype, got {x.dtype} and '
            f'{kernel_logits.dtype}; sgdc_aggregate() promotes them')


#: Backends that run behind the operator.
OP_BACKENDS = ('shift', 'triton')


def _check_op_backend(backend):
    if backend not in OP_BACKENDS:
        raise ValueError(
            f'{OP_NAMESPACE}::sgdc_aggregate: backend must be one of '
            f"{OP_BACKENDS}, got {backend!r} (sgdc_aggregate() resolves "
            "'auto' and runs 'reference' without the operator)")


@torch.library.custom_op(f'{OP_NAMESPACE}::sgdc_aggregate', mutates_args=())
def _aggregate_op(x: torch.Tensor, kernel_logits: torch.Tensor,
                  kernel_size: int, num_heads: int,
                  backend: str) -> tuple[torch.Tensor, torch.Tensor]:
    _check_op_inputs(x, kernel_logits)
    check_aggregate_args(x, kernel_logits, kernel_size, num_heads)
    _check_op_backend(backend)
    if backend == 'shift':
        return _shift_forward(x, kernel_logits, kernel_size, num_heads)
    from .sgdc_aggregate_triton import triton_forward
    return triton_forward(x, kernel_logits, kernel_size, num_heads)


@_aggregate_op.register_fake
def _aggregate_fake(x, kernel_logits, kernel_size, num_heads, backend):
    _check_op_backend(backend)
    shape, dtype = saved_spec(x, kernel_logits, num_heads, backend)
    return (torch.empty_like(x, memory_format=torch.contiguous_format),
            x.new_empty(shape, dtype=dtype))


@torch.library.custom_op(f'{OP_NAMESPACE}::sgdc_aggregate_backward',
                         mutates_args=())
def _aggregate_backward_op(grad: torch.Tensor, x: torch.Tensor,
                           kernel_logits: torch.Tensor, saved: torch.Tensor,
                           kernel_size: int, num_heads: int, backend: str,
                           need_x: bool, need_logits: bool
                           ) -> tuple[torch.Tensor, torch.Tensor]:
    _check_op_inputs(x, kernel_logits)
    _check_op_backend(backend)
    if backend == 'shift':
        return _shift_backward(grad, x, kernel_logits, saved, kernel_size,
                               num_heads, need_x, need_logits)
    from .sgdc_aggregate_triton import triton_backward
    return triton_backward(grad, x, kernel_logits, saved, kernel_size,
                           num_heads, need_x, need_logits)


@_aggregate_backward_op.register_fake
def _aggregate_backward_fake(grad, x, kernel_logits, saved, kernel_size,
                             num_heads, backend, need_x, need_logits):
    contiguous = torch.contiguous_format
    return (torch.empty_like(x, memory_format=contiguous)
            if need_x else _unused(x),
            torch.empty_like(kernel_logits, memory_format=contiguous)
            if need_logits else _unused(kernel_logits))


def _setup_context(ctx, inputs, output):
    x, kernel_logits, kernel_size, num_heads, backend = inputs
    ctx.mark_non_differentiable(output[1])
    ctx.save_for_backward(x, kernel_logits, output[1])
    ctx.op_args = (kernel_size, num_heads, backend)


def _backward(ctx, grad_out, _grad_saved):
    x, kernel_logits, saved = ctx.saved_tensors
    kernel_size, num_heads, backend = ctx.op_args
    need_x, need_logits = ctx.needs_input_grad[:2]
    grad_x, grad_logits = _aggregate_backward_op(
        grad_out, x, kernel_logits, saved, kernel_size, num_heads, backend,
        need_x, need_logits)
    return (grad_x if need_x else None,
            grad_logits if need_logits else None, None, None, None)


def _setup_backward_context(ctx, inputs, output):
    grad, x, kernel_logits, _, kernel_size, num_heads, _, need_x, \
        need_logits = inputs
    ctx.save_for_backward(grad, x, kernel_logits)
    ctx.op_args = (kernel_size, num_heads, need_x, need_logits)


def _backward_backward(ctx, grad_grad_x, grad_grad_logits):
    """Derivative of the backward, through the differentiable reference
    form: the vector-Jacobian product of ``(g, x, l) -> vjp_ref(x, l)(g)``."""
    grad, x, kernel_logits = ctx.saved_tensors
    kernel_size, num_heads, need_x, need_logits = ctx.op_args

    def reference_vjp(g, a, l):
        _, vjp = torch.func.vjp(
            lambda a_, l_: sgdc_aggregate_reference(a_, l_, kernel_size,
                                                    num_heads), a, l)
        return vjp(g)

    _, vjp2 = torch.func.vjp(reference_vjp, grad.to(x.dtype), x,
                             kernel_logits)
    cotangents = (
        grad_grad_x if need_x and grad_grad_x is not None
        else torch.zeros_like(x),
        grad_grad_logits if need_logits and grad_grad_logits is not None
        else torch.zeros_like(kernel_logits))
    d_grad, d_x, d_logits = vjp2(cotangents)
    return (d_grad.to(grad.dtype), d_x, d_logits, None, None, None, None,
            None, None)


torch.library.register_autograd(_aggregate_op, _backward,
                                setup_context=_setup_context)
torch.library.register_autograd(_aggregate_backward_op, _backward_backward,
                                setup_context=_setup_backward_context)


# --- public functions ---------------------------------------------------------


def _promote(x, kernel_logits):
    """``x`` and ``kernel_logits`` in their promoted floating dtype, on one
    device (the contract of the shift and reference backends)."""
    if x.device != kernel_logits.device:
        raise ValueError(
            f'x and kernel_logits must be on the same device, got '
            f'{x.device} and {kernel_logits.device}')
    dtype = torch.promote_types(x.dtype, kernel_logits.dtype)
    if not dtype.is_floating_point:
        raise ValueError(
            f'x and kernel_logits must be floating point, got {x.dtype} '
            f'and {kernel_logits.dtype}')
    return x.to(dtype), kernel_logits.to(dtype)


def sgdc_aggregate_shift(x, kernel_logits, kernel_size, num_heads):
    """Shift-and-accumulate implementation (no k*k copies of ``x``), through
    the ``sgdc_mmseg::sgdc_aggregate`` operator.

    ``x`` and ``kernel_logits`` are computed in their promoted floating
    dtype (e.g. an fp32 ``x`` with bf16 logits under autocast gives fp32).
    """
    check_aggregate_args(x, kernel_logits, kernel_size, num_heads)
    x, kernel_logits = _promote(x, kernel_logits)
    return _aggregate_op(x, kernel_logits, kernel_size, num_heads,
                         'shift')[0]


def select_backend(x):
    """The backend ``'auto'`` picks for ``x``: the one named by the
    environment variable ``SGDC_AGGREGATE_BACKEND`` when it is set, else
    ``'triton'`` for a CUDA tensor when Triton is importable and ``'shift'``
    otherwise."""
    forced = os.environ.get(BACKEND_ENV, '').strip()
    if forced:
        if forced not in BACKENDS:
            raise ValueError(f'environment variable {BACKEND_ENV}={forced!r}'
                             f' is not one of {BACKENDS}')
        return forced
    if x.is_cuda:
        from .sgdc_aggregate_triton import triton_available
        if triton_available():
            return 'triton'
    return 'shift'


def sgdc_aggregate(x, kernel_logits, kernel_size, num_heads, backend='auto'):
    """Aggregate each pixel's neighbourhood with per-pixel softmax kernels.

    Args:
        x (Tensor): features ``[B, C, H, W]`` (already layer-normed in SGDC).
        kernel_logits (Tensor): ``[B, num_heads * kernel_size**2, H, W]``,
            before the softmax; channel ``h * k*k + i`` is tap ``i``
            (row-major) of head ``h``.
        kernel_size (int): odd kernel size ``k``.
        num_heads (int): heads; head ``h`` owns channels
            ``[h*C/heads, (h+1)*C/heads)``.
        backend (str): ``'auto'`` (:func:`select_backend`) or one of
            :data:`BACKENDS`. ``'shift'`` and ``'triton'`` run the
            ``sgdc_mmseg::sgdc_aggregate`` operator, ``'reference'`` the
            plain-PyTorch unfold form.

    Returns:
        Tensor: ``[B, C, H, W]``.
    """
    check_aggregate_args(x, kernel_logits, kernel_size, num_heads)
    if backend != 'auto' and backend not in BACKENDS:
        raise ValueError(
            f'unknown backend {backend!r}; choose "auto" or one of {BACKENDS}')
    if backend == 'auto':
        backend = select_backend(x)
    if backend == 'reference':
        return sgdc_aggregate_reference(x, kernel_logits, kernel_size,
                                        num_heads)
    if backend == 'triton':
        from .sgdc_aggregate_triton import check_triton_inputs
        check_triton_inputs(x, kernel_logits)
        x, kernel_logits = x.contiguous(), kernel_logits.contiguous()
    else:
        x, kernel_logits = _promote(x, kernel_logits)
    return _aggregate_op(x, kernel_logits, kernel_size, num_heads,
                         backend)[0]
