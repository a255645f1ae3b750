"""mmseg's ``SegLocalVisualizer`` on images that are not C-contiguous.

mmseg 1.2.2's ``SegLocalVisualizer._draw_sem_seg`` writes the class names
with ``cv2.rectangle``/``cv2.putText`` into ``np.zeros_like(image)``, which
keeps the memory layout of ``image``. mmseg's own
``tools/analysis_tools/browse_dataset.py`` passes
``inputs.permute(1, 2, 0).numpy()[..., [2, 1, 0]]``, which is not
C-contiguous, and OpenCV refuses to draw into such an array ("Layout of the
output array img is incompatible with cv::Mat"; upstream issue
open-mmlab/mmsegmentation#3405, open), so that tool fails on every dataset.

:func:`install_contiguous_drawing` (applied once by
:func:`sgdc_mmseg.compat.apply_compat`) hands ``_draw_sem_seg`` a
C-contiguous array with the same pixels (``np.ascontiguousarray``: no copy
when the image already is contiguous). Nothing else changes.
"""
import functools

import numpy as np


def install_contiguous_drawing():
    """Wrap ``SegLocalVisualizer._draw_sem_seg`` once; later calls do
    nothing. Returns True when the wrapper is (now) in place."""
    from mmseg.visualization import SegLocalVisualizer
    original = SegLocalVisualizer._draw_sem_seg
    if getattr(original, 'sgdc_mmseg_contiguous', False):
        return True

    @functools.wraps(original)
    def _draw_sem_seg(self, image, *args, **kwargs):
        return original(self, np.ascontiguousarray(image), *args, **kwargs)

    _draw_sem_seg.sgdc_mmseg_contiguous = True
    SegLocalVisualizer._draw_sem_seg = _draw_sem_seg
    return True
