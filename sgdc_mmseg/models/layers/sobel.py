"""Fixed Sobel gradient magnitude used by the SGE of SGDC (MIDL 2026,
arXiv 2602.23496).

The paper's code stores each Sobel filter as a ``C x C x 3 x 3`` convolution
whose every (out, in) pair holds the same 3x3 kernel, i.e. every output
channel is the Sobel response of the sum over all input channels. The weight
is kept (as a buffer named ``weight``) so state dicts stay interchangeable
with the paper's code; it is never trained.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

SOBEL_X = ((1., 0., -1.), (2., 0., -2.), (1., 0., -1.))
SOBEL_Y = ((1., 2., 1.), (0., 0., 0.), (-1., -2., -1.))


class FixedSobel(nn.Module):
    """A ``channels -> channels`` 3x3 Sobel filter of the channel sum.

    Args:
        channels (int): input and output channels.
        axis (str): ``'x'`` (horizontal gradient) or ``'y'``.
    """

    def __init__(self, channels, axis):
        super().__init__()
        if axis not in ('x', 'y'):
            raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
        kernel = torch.tensor(SOBEL_X if axis == 'x' else SOBEL_Y)
        self.channels = channels
        self.axis = axis
        self.register_buffer(
            'weight', kernel.expand(channels, channels, 3, 3).clone())

    def forward(self, x):
        return F.conv2d(x, self.weight, padding=1)

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
    """``sigmoid(|grad x|) * x`` with the fixed Sobel filters."""
    return torch.sigmoid(safe_magnitude(sobel_x(x), sobel_y(x))) * x
