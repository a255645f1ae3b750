"""The ``aggregate`` cases: :func:`sgdc_mmseg.ops.sgdc_aggregate` with one
backend (``case['impl']``: ``'reference'``, ``'shift'``, ``'cpp'`` -- a
:class:`~..harness.SkipCase` naming the reason when its C++ kernel cannot
run here -- or ``'triton'``), forward under ``no_grad`` or forward+backward
(gradients of ``x`` and the logits), and the bytes a fused kernel moves
(the effective bandwidth of the CUDA table)."""
import torch

from ..harness import SkipCase


def triton_backend_usable(device):
    """Whether the ``'triton'`` backend runs on ``device``: a CUDA device
    for which the op's own dispatcher (``backend='auto'``) picks Triton,
    i.e. Triton imports (or ``SGDC_AGGREGATE_BACKEND=triton`` forces
    it)."""
    device = torch.device(device)
    if device.type != 'cuda' or not torch.cuda.is_available():
        return False
    from sgdc_mmseg.ops import select_backend
    return select_backend(torch.empty(0, device=device)) == 'triton'


def aggregate_bytes(case, itemsize):
    """Bytes the three fused kernels must move if each reads each input once
    and writes each output once (forward: ``x``, logits in; output, fp32
    log-sum-exp out; backward, grad-x kernel: ``g``, logits, log-sum-exp in,
    grad ``x`` out; grad-logits kernel: ``g``, ``x``, logits, log-sum-exp
    in, grad logits out); the forward's alone for ``pass_='fwd'``."""
    b, c, h, w, k, heads = (case[n] for n in ('B', 'C', 'H', 'W', 'k',
                                              'heads'))
    x = b * c * h * w * itemsize
    logits = b * heads * k * k * h * w * itemsize
    lse = b * heads * h * w * 4
    fwd = x + logits + x + lse
    if case['pass_'] == 'fwd':
        return fwd
    grad_x = x + logits + lse + x
    grad_logits = x + x + logits + lse + logits
    return fwd + grad_x + grad_logits


def build_aggregate(case, device):
    """Random ``x [B, C, H, W]`` and logits ``[B, heads*k*k, H, W]`` in
    ``case['dtype']``; ``extra``: ``bytes`` (:func:`aggregate_bytes`).
    :class:`SkipCase` for ``'triton'`` without Triton and for ``'cpp'``
    when ``cpp.can_run(device, dtype)`` is false (its reason)."""
    from sgdc_mmseg.ops import sgdc_aggregate
    impl = case['impl']
    if impl == 'triton' and not triton_backend_usable(device):
        raise SkipCase('Triton is not importable')
    dtype = getattr(torch, case['dtype'])
    if impl == 'cpp':
        from sgdc_mmseg.ops.backends import cpp
        verdict = cpp.can_run(device, dtype)
        if not verdict:
            raise SkipCase(verdict.reason)
    b, c, h, w, k, heads = (case[n] for n in ('B', 'C', 'H', 'W', 'k',
                                              'heads'))
    x = torch.randn(b, c, h, w, device=device, dtype=dtype)
    logits = torch.randn(b, heads * k * k, h, w, device=device, dtype=dtype)
    if case['pass_'] == 'fwd':
        def step():
            with torch.no_grad():
                return sgdc_aggregate(x, logits, k, heads, backend=impl)
    else:
        x.requires_grad_()
        logits.requires_grad_()
        grad = torch.randn_like(x)

        def step():
            out = sgdc_aggregate(x, logits, k, heads, backend=impl)
            return torch.autograd.grad(out, (x, logits), grad)

    extra = dict(bytes=aggregate_bytes(case, x.element_size()))
    return step, lambda: None, extra
