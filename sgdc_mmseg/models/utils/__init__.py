"""Helpers shared by the heads."""
from .arg_checks import (check_choice, check_divisible, check_int,
                         check_int_list, check_number)
from .boundary import seg_to_boundary

__all__ = ['seg_to_boundary', 'check_choice', 'check_divisible',
           'check_int', 'check_int_list', 'check_number']
