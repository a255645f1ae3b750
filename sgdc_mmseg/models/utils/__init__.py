"""Helpers shared by the heads."""
from .boundary import seg_to_boundary

__all__ = ['seg_to_boundary']
