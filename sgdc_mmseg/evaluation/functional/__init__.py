"""Pure metric functions on numpy masks (no mmengine state)."""
from .instance_split import check_probability_map, split_instances
from .instances import (aggregated_jaccard_index, instance_counts,
                        instance_scores, instance_scores_from_counts,
                        label_components, overlap_table, panoptic_quality,
                        relabel, remove_pixels)
from .overlap import (has_valid_pixels, iou_dice, overlap_counts,
                      restrict_to_valid, scores_from_counts)
from .surface_distance import (average_symmetric_surface_distance,
                               hausdorff_distance_95, image_diagonal,
                               mask_surface, normalize_spacing,
                               surface_distances, surface_metrics)
from .topology import cldice, cldice_counts, cldice_from_counts, skeleton
from .vessel import (auc_from_table, confusion_counts, merge_score_tables,
                     roc_auc, score_table, scores_from_confusion,
                     valid_pixels, vessel_scores)

__all__ = [
    'has_valid_pixels', 'iou_dice', 'overlap_counts', 'restrict_to_valid',
    'scores_from_counts',
    'average_symmetric_surface_distance', 'hausdorff_distance_95',
    'image_diagonal', 'mask_surface', 'normalize_spacing',
    'surface_distances', 'surface_metrics',
    'check_probability_map', 'split_instances',
    'aggregated_jaccard_index', 'instance_counts', 'instance_scores',
    'instance_scores_from_counts', 'label_components', 'overlap_table',
    'panoptic_quality', 'relabel', 'remove_pixels',
    'cldice', 'cldice_counts', 'cldice_from_counts', 'skeleton',
    'auc_from_table', 'confusion_counts', 'merge_score_tables', 'roc_auc',
    'score_table', 'scores_from_confusion', 'valid_pixels', 'vessel_scores'
]
