"""Operators that know nothing of mmseg.

Importing this package registers the ``torch.ops.sgdc_mmseg`` operators
(``sgdc_aggregate`` and its backward); :mod:`.export` decomposes them for
ONNX.
"""
from .sgdc_aggregate import (BACKENDS, OP_BACKENDS, sgdc_aggregate,
                             sgdc_aggregate_reference, sgdc_aggregate_shift,
                             select_backend)

__all__ = ['BACKENDS', 'OP_BACKENDS', 'sgdc_aggregate',
           'sgdc_aggregate_reference', 'sgdc_aggregate_shift',
           'select_backend']
