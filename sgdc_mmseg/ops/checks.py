"""The input contract of :func:`sgdc_mmseg.ops.sgdc_aggregate`, shared by
every backend, and the form of a backend's ``can_run`` answer.

* :func:`check_aggregate_args`: ``kernel_size`` a positive odd int,
  ``num_heads`` a positive int dividing the channels, ``x`` ``[B, C, H, W]``
  and ``kernel_logits`` ``[B, num_heads * kernel_size**2, H, W]``
  (``ValueError`` naming the argument).
* :func:`promote_inputs`, the one dtype and device rule: ``x`` and
  ``kernel_logits`` on the same device (``ValueError``) and both floating
  point (``ValueError``); every backend computes in their promoted dtype
  (``torch.promote_types``, e.g. an fp32 ``x`` with bf16 logits under
  autocast gives fp32 output), and each gradient comes back in the dtype
  of its own input (autograd through the conversion).
* :class:`Verdict`: what a backend's ``can_run(device, dtype)`` returns for
  promoted inputs -- true, or false with the reason and the exception to
  raise when that backend was asked for anyway.
"""
import torch


def check_aggregate_args(x, kernel_logits, kernel_size, num_heads):
    """Validate the sizes of :func:`sgdc_aggregate`'s arguments with clear
    errors."""
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


def check_same_device(x, kernel_logits):
    """``ValueError`` unless ``x`` and ``kernel_logits`` share a device."""
    if x.device != kernel_logits.device:
        raise ValueError(
            f'x and kernel_logits must be on the same device, got '
            f'{x.device} and {kernel_logits.device}')


def promote_inputs(x, kernel_logits):
    """``x`` and ``kernel_logits`` in their promoted floating dtype, after
    checking that they are on one device and floating point."""
    check_same_device(x, kernel_logits)
    dtype = torch.promote_types(x.dtype, kernel_logits.dtype)
    if not dtype.is_floating_point:
        raise ValueError(
            f'x and kernel_logits must be floating point, got {x.dtype} '
            f'and {kernel_logits.dtype}')
    return x.to(dtype), kernel_logits.to(dtype)


class Verdict:
    """A backend's answer to "can you run on these inputs?": truthy when it
    can; falsy with ``reason`` (and the exception type ``error`` that
    :meth:`require` raises) when it cannot."""

    __slots__ = ('reason', 'error')

    def __init__(self, reason='', error=RuntimeError):
        self.reason = reason
        self.error = error

    def __bool__(self):
        return not self.reason

    def __repr__(self):
        return 'Verdict(ok)' if self else f'Verdict({self.reason!r})'

    def require(self):
        """Raise ``error(reason)`` unless the backend can run."""
        if not self:
            raise self.error(self.reason)


#: The verdict of a backend that can run.
CAN_RUN = Verdict()
