"""Operators that know nothing of mmseg.

* :mod:`.sgdc_aggregate`: :func:`sgdc_aggregate`, the dispatcher (shared
  checks, ``'auto'`` and ``SGDC_AGGREGATE_BACKEND``, each backend's
  ``can_run``);
* :mod:`.checks`: the shared argument, dtype and device checks;
* :mod:`.backends`: one module per backend (reference, shift, triton);
* :mod:`.aggregate_op`: the ``torch.ops.sgdc_mmseg`` operators
  (``sgdc_aggregate`` and its backward), registered when this package is
  imported;
* :mod:`.export`: their decomposition for ONNX.

Imports go one way: dispatcher -> operator -> backends -> checks.
"""
from .sgdc_aggregate import (BACKENDS, OP_BACKENDS, sgdc_aggregate,
                             sgdc_aggregate_reference, sgdc_aggregate_shift,
                             select_backend)

__all__ = ['BACKENDS', 'OP_BACKENDS', 'sgdc_aggregate',
           'sgdc_aggregate_reference', 'sgdc_aggregate_shift',
           'select_backend']
