"""Pictures of predictions and of what the SGE sees (overlays, edge maps,
guidance maps), the worst-cases figure and training curves. Plain
NumPy/OpenCV/torch/matplotlib (imported when drawing); no registry
entries."""
from .curves import plot_curves
from .maps import (DEFAULT_COLORS, default_line_width, draw_contours,
                   edge_to_uint8, foreground_ids, guidance_to_rgb,
                   overlay_mask, resolve_palette, save_figure)
from .worst_cases import worst_cases_figure

__all__ = [
    'DEFAULT_COLORS', 'default_line_width', 'draw_contours', 'edge_to_uint8',
    'foreground_ids', 'guidance_to_rgb', 'overlay_mask', 'resolve_palette',
    'save_figure', 'plot_curves', 'worst_cases_figure'
]
