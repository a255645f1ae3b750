"""Pure metric functions on numpy masks (no mmengine state)."""
from .overlap import (has_valid_pixels, iou_dice, overlap_counts,
                      restrict_to_valid, scores_from_counts)
from .surface_distance import (average_symmetric_surface_distance,
                               hausdorff_distance_95, image_diagonal,
                               mask_surface, normalize_spacing,
                               surface_distances, surface_metrics)

__all__ = [
    'has_valid_pixels', 'iou_dice', 'overlap_counts', 'restrict_to_valid',
    'scores_from_counts',
    'average_symmetric_surface_distance', 'hausdorff_distance_95',
    'image_diagonal', 'mask_surface', 'normalize_spacing',
    'surface_distances', 'surface_metrics'
]
