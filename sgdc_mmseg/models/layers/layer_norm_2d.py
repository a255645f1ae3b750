"""Channel LayerNorm for ``[B, C, H, W]`` maps, as used by SGDC (MIDL 2026,
arXiv 2602.23496) with ``eps=1e-6``."""
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channel dimension of a ``[B, C, H, W]`` tensor.

    Parameters are named ``weight`` and ``bias`` like :class:`nn.LayerNorm`.
    """

    def __init__(self, num_channels, eps=1e-6):
        super().__init__(num_channels, eps=eps)

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)
