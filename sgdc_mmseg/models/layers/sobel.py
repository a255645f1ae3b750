"""Fixed Sobel gradient magnitude used by the SGE of SGDC (MIDL 2026,
arXiv 2602.23496).

The paper's code stores each Sobel filter as a ``C x C x 3 x 3`` convolution
whose every (out, in) pair holds the same 3x3 kernel, i.e. every output
channel is the Sobel response of the sum over all input channels. The weight
is kept (as a buffer named ``weight``) so state dicts stay interchangeable
with the paper's code; it is never trained.

Since every output channel is the same map, the filters are computed as one
channel sum and one single-channel 3x3 convolution (``C**2`` times fewer
multiply-adds); the 3x3 kernel is read from the buffer (``weight[0, 0]``), and
loading a state dict whose ``weight`` is not the same kernel for every
channel pair is refused, so the shortcut always equals the ``C x C``
convolution (up to floating-point summation order).
:func:`cxc_sobel_modulate` is that ``C x C`` form, kept as the reference the
shortcut is tested and benchmarked against.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

SOBEL_X = ((1., 0., -1.), (2., 0., -2.), (1., 0., -1.))
SOBEL_Y = ((1., 2., 1.), (0., 0., 0.), (-1., -2., -1.))


def _is_uniform(weight):
    """Whether every (out, in) pair of a ``[C, C, 3, 3]`` weight is equal."""
    return bool(torch.equal(weight, weight[:1, :1].expand_as(weight)))


class FixedSobel(nn.Module):
    """A ``channels -> channels`` 3x3 Sobel filter of the channel sum.

    ``forward(x)`` returns ``[B, channels, H, W]``: the single-channel
    response broadcast (expanded, not copied) to every channel, with the
    values of ``conv2d(x, weight, padding=1)``.

    Args:
        channels (int): input and output channels.
        axis (str): ``'x'`` (horizontal gradient) or ``'y'``.
    """

    def __init__(self, channels, axis):
        super().__init__()
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(
                f'FixedSobel: channels must be a positive int, got '
                f'{channels!r}')
        if axis not in ('x', 'y'):
            raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
        kernel = torch.tensor(SOBEL_X if axis == 'x' else SOBEL_Y)
        self.channels = channels
        self.axis = axis
        self.register_buffer(
            'weight', kernel.expand(channels, channels, 3, 3).clone())

    @property
    def kernel(self):
        """The shared 3x3 kernel as a ``[1, 1, 3, 3]`` view of ``weight``."""
        return self.weight[:1, :1]

    def check_input(self, x):
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f'FixedSobel: x must be [B, {self.channels}, H, W], got '
                f'{tuple(x.shape)}')

    def forward(self, x):
        self.check_input(x)
        response = F.conv2d(x.sum(1, keepdim=True), self.kernel, padding=1)
        return response.expand(-1, self.channels, -1, -1)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        weight = state_dict.get(prefix + 'weight')
        if (isinstance(weight, torch.Tensor)
                and weight.shape == self.weight.shape
                and not _is_uniform(weight)):
            error_msgs.append(
                f'{prefix}weight: FixedSobel needs the same 3x3 kernel for '
                'every (out, in) channel pair (it filters the channel sum), '
                'got a weight whose pairs differ')
            return
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self):
        return f'channels={self.channels}, axis={self.axis!r}'


def safe_magnitude(gx, gy):
    """``sqrt(gx**2 + gy**2)`` with a zero (not NaN) gradient where both are 0.

    The values are exactly those of ``torch.sqrt``; only the derivative at the
    origin (infinite for ``sqrt``, NaN after the chain rule) is set to 0.
    """
    sq = gx * gx + gy * gy
    positive = sq > 0
    safe_sq = torch.where(positive, sq, torch.ones_like(sq))
    return torch.where(positive, torch.sqrt(safe_sq), torch.zeros_like(sq))


def sobel_modulate(x, sobel_x, sobel_y):
    """``sigmoid(|grad x|) * x`` with the fixed Sobel filters.

    Both gradients come from one 2-output-channel convolution of the channel
    sum; the ``[B, 1, H, W]`` magnitude broadcasts over the channels.
    """
    sobel_x.check_input(x)
    sobel_y.check_input(x)
    kernels = torch.cat([sobel_x.kernel, sobel_y.kernel], dim=0)
    grads = F.conv2d(x.sum(1, keepdim=True), kernels, padding=1)
    magnitude = safe_magnitude(grads[:, :1], grads[:, 1:])
    return torch.sigmoid(magnitude) * x


def cxc_sobel_modulate(x, sobel_x, sobel_y):
    """:func:`sobel_modulate` in the paper's form: the reference.

    Two ``C x C x 3 x 3`` convolutions of ``x`` with the full ``weight``
    buffers (``C**2`` times the multiply-adds of the shortcut), then
    ``sigmoid(sqrt(gx**2 + gy**2)) * x`` with a 0 gradient where the
    magnitude is 0 -- written without :func:`safe_magnitude`, so that
    comparing the two also checks it. Equal to :func:`sobel_modulate` (up
    to summation order) because ``FixedSobel`` only ever holds the same
    kernel for every channel pair.
    """
    sobel_x.check_input(x)
    sobel_y.check_input(x)
    gx = F.conv2d(x, sobel_x.weight, padding=1)
    gy = F.conv2d(x, sobel_y.weight, padding=1)
    sq = gx * gx + gy * gy
    zero = (sq == 0).to(sq.dtype)
    magnitude = torch.sqrt(sq + zero) * (1 - zero)
    return torch.sigmoid(magnitude) * x
