"""Building blocks of SGDC (one concept per file)."""
from .layer_norm_2d import LayerNorm2d
from .pooled_context_kernel import PooledContextKernel
from .sgdc import KERNEL_SOURCES, SGDC
from .sge import SGE, BottleneckRefiner, CxCSobelSGE
from .sobel import (FixedSobel, cxc_sobel_modulate, safe_magnitude,
                    sobel_modulate)

__all__ = ['SGE', 'SGDC', 'BottleneckRefiner', 'CxCSobelSGE', 'FixedSobel',
           'LayerNorm2d', 'PooledContextKernel', 'KERNEL_SOURCES',
           'cxc_sobel_modulate', 'safe_magnitude', 'sobel_modulate']
