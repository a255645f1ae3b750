"""Operators that know nothing of mmseg."""
from .sgdc_aggregate import (BACKENDS, sgdc_aggregate,
                             sgdc_aggregate_reference, sgdc_aggregate_shift,
                             select_backend)

__all__ = ['BACKENDS', 'sgdc_aggregate', 'sgdc_aggregate_reference',
           'sgdc_aggregate_shift', 'select_backend']
