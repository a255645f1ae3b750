"""Metrics registered in mmseg's METRICS registry."""
from .medical_metric import MedicalMetric
from .nuclei_metric import NucleiMetric
from .vessel_metric import VesselMetric

__all__ = ['MedicalMetric', 'NucleiMetric', 'VesselMetric']
