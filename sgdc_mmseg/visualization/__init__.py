"""Pictures of predictions and of what the SGE sees (overlays, edge maps,
guidance maps). Plain NumPy/OpenCV/torch; no registry entries."""
from .maps import (DEFAULT_COLORS, default_line_width, draw_contours,
                   edge_to_uint8, foreground_ids, guidance_to_rgb,
                   overlay_mask, resolve_palette, save_figure)

__all__ = [
    'DEFAULT_COLORS', 'default_line_width', 'draw_contours', 'edge_to_uint8',
    'foreground_ids', 'guidance_to_rgb', 'overlay_mask', 'resolve_palette',
    'save_figure'
]
