"""mmseg's SegLocalVisualizer draws on images that are not C-contiguous
(sgdc_mmseg.compat.seg_visualizer; upstream mmsegmentation#3405)."""
import numpy as np
import torch

import sgdc_mmseg  # noqa: F401  (first: mmseg imports need the compat layer)
from mmengine.structures import PixelData  # noqa: I001
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer
from sgdc_mmseg.compat.seg_visualizer import install_contiguous_drawing


def _sample():
    label = torch.zeros(1, 32, 32, dtype=torch.long)
    label[:, 8:20, 4:24] = 1
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=label)
    return sample


def test_browse_dataset_layout_draws_like_a_contiguous_image(tmp_path):
    chw = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
    # exactly what mmseg's tools/analysis_tools/browse_dataset.py passes
    image = chw.permute(1, 2, 0).numpy()[..., [2, 1, 0]]
    assert not image.flags['C_CONTIGUOUS']
    vis = SegLocalVisualizer(
        name='test_seg_visualizer', save_dir=str(tmp_path),
        vis_backends=[dict(type='LocalVisBackend')], alpha=0.5)
    vis.dataset_meta = dict(classes=('background', 'lesion'),
                            palette=[[0, 0, 0], [255, 0, 0]])
    drawn = vis._draw_sem_seg(image, _sample().gt_sem_seg,
                              vis.dataset_meta['classes'],
                              vis.dataset_meta['palette'])
    expected = vis._draw_sem_seg(np.ascontiguousarray(image),
                                 _sample().gt_sem_seg,
                                 vis.dataset_meta['classes'],
                                 vis.dataset_meta['palette'])
    np.testing.assert_array_equal(drawn, expected)
    out = tmp_path / 'x.png'
    vis.add_datasample('x', image, _sample(), draw_pred=False,
                       out_file=str(out))
    assert out.is_file()


def test_wrapped_once():
    first = SegLocalVisualizer._draw_sem_seg
    assert install_contiguous_drawing() is True
    assert SegLocalVisualizer._draw_sem_seg is first
    assert first.sgdc_mmseg_contiguous
