"""Metrics registered in mmseg's METRICS registry."""
from .medical_metric import MedicalMetric

__all__ = ['MedicalMetric']
