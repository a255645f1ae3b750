"""Former home of the Triton backend, kept so that existing imports keep
working (``tools/benchmark/benchmark_sgdc.py`` imports
:func:`triton_available` from here). The backend is
:mod:`sgdc_mmseg.ops.backends.triton`; new code calls
``sgdc_aggregate(..., backend='triton')``.
"""
from .backends.triton import SUPPORTED_DTYPES, triton_available
from .sgdc_aggregate import sgdc_aggregate

__all__ = ['SUPPORTED_DTYPES', 'sgdc_aggregate_triton',
           'triton_available']


def sgdc_aggregate_triton(x, kernel_logits, kernel_size, num_heads):
    """:func:`sgdc_mmseg.ops.sgdc_aggregate` with ``backend='triton'``."""
    return sgdc_aggregate(x, kernel_logits, kernel_size, num_heads,
                          backend='triton')
