"""Metrics registered in mmseg's METRICS registry (never imports models)."""
from .functional import (average_symmetric_surface_distance,
                         hausdorff_distance_95, iou_dice, surface_distances)
from .metrics import MedicalMetric, NucleiMetric, VesselMetric

__all__ = [
    'MedicalMetric', 'average_symmetric_surface_distance',
    'hausdorff_distance_95', 'iou_dice', 'surface_distances',
    'NucleiMetric', 'VesselMetric'
]
