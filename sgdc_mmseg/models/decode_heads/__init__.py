"""Decode heads."""
from .sge_head import SGEHead
from .sgdc_head import SGDCHead

__all__ = ['SGEHead', 'SGDCHead']
