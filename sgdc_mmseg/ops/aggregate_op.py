"""The ``torch.library`` operators behind :func:`sgdc_mmseg.ops.sgdc_aggregate`
(registered when this module is imported):

* ``torch.ops.sgdc_mmseg.sgdc_aggregate(x, kernel_logits, kernel_size,
  num_heads, backend) -> (out, saved)``: ``out`` is the aggregation and
  ``saved`` (not differentiable) what the backend's backward needs besides
  the inputs (:func:`saved_spec`: for ``'shift'`` and ``'cpp'`` the
  softmaxed kernels,
  shape and dtype of ``kernel_logits``; for ``'triton'`` the per-pixel
  log-sum-exp of each head's logits, ``[B, heads, H, W]`` in the
  accumulation dtype). ``backend`` is one of :data:`OP_BACKENDS`; ``x`` and
  ``kernel_logits`` must have the same floating dtype and device (the
  dispatcher promotes them first, :func:`sgdc_mmseg.ops.checks.promote_inputs`)
  and the backend's ``can_run`` must accept them.
* ``torch.ops.sgdc_mmseg.sgdc_aggregate_backward(grad, x, kernel_logits,
  saved, kernel_size, num_heads, backend, need_x, need_logits) ->
  (grad_x, grad_logits)``: the backward, itself an operator (so a
  compiled or exported training graph keeps it as one node); a gradient
  that is not needed comes back as an empty tensor. Its own derivative
  (double backward) is computed with the differentiable reference form
  (``O(C*k*k*H*W)`` memory, only when a second derivative is asked for).

Both have fake (meta) implementations with symbolic shapes, so
``torch.compile(fullgraph=True)`` and ``torch.export`` with dynamic H and W
keep the operator as one node. The operator runs the backend module's
``forward`` / ``backward`` (:mod:`sgdc_mmseg.ops.backends`); it knows no
backend's internals.
"""
import torch

from .backends import OP_BACKEND_NAMES, get_backend
from .backends.reference import sgdc_aggregate_reference
from .checks import check_aggregate_args, check_same_device

#: Namespace of the operators registered by this module
#: (``torch.ops.sgdc_mmseg.*``).
OP_NAMESPACE = 'sgdc_mmseg'
#: Backends that run behind the operator.
OP_BACKENDS = OP_BACKEND_NAMES


def _check_op_backend(backend):
    if backend not in OP_BACKENDS:
        raise ValueError(
            f'{OP_NAMESPACE}::sgdc_aggregate: backend must be one of '
            f"{OP_BACKENDS}, got {backend!r} (sgdc_aggregate() resolves "
            "'auto' and runs 'reference' without the operator)")


def _check_op_inputs(x, kernel_logits, backend):
    """The operators' contract (the dispatcher promotes first); returns the
    backend module."""
    _check_op_backend(backend)
    check_same_device(x, kernel_logits)
    if x.dtype != kernel_logits.dtype or not x.dtype.is_floating_point:
        raise TypeError(
            f'{OP_NAMESPACE}::sgdc_aggregate needs x and kernel_logits of '
            f'the same floating dtype, got {x.dtype} and '
            f'{kernel_logits.dtype}; sgdc_aggregate() promotes them')
    module = get_backend(backend)
    module.can_run(x.device, x.dtype).require()
    return module


def saved_spec(x, kernel_logits, num_heads, backend):
    """``(shape, dtype)`` of the operator's second output, ``saved``, for
    ``backend`` (see the backend's ``saved_spec``)."""
    _check_op_backend(backend)
    return get_backend(backend).saved_spec(x, kernel_logits, num_heads)


def _unused(t):
    """The placeholder for a gradient that was not asked for."""
    return t.new_empty(0)


@torch.library.custom_op(f'{OP_NAMESPACE}::sgdc_aggregate', mutates_args=())
def _aggregate_op(x: torch.Tensor, kernel_logits: torch.Tensor,
                  kernel_size: int, num_heads: int,
                  backend: str) -> tuple[torch.Tensor, torch.Tensor]:
    module = _check_op_inputs(x, kernel_logits, backend)
    check_aggregate_args(x, kernel_logits, kernel_size, num_heads)
    return module.forward(x, kernel_logits, kernel_size, num_heads)


@_aggregate_op.register_fake
def _aggregate_fake(x, kernel_logits, kernel_size, num_heads, backend):
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
    module = _check_op_inputs(x, kernel_logits, backend)
    return module.backward(grad, x, kernel_logits, saved, kernel_size,
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


def run_aggregate_op(x, kernel_logits, kernel_size, num_heads, backend):
    """The aggregation ``out`` of ``torch.ops.sgdc_mmseg.sgdc_aggregate``
    (its ``saved`` output dropped)."""
    return _aggregate_op(x, kernel_logits, kernel_size, num_heads,
                         backend)[0]
