"""Overlays, edge pictures and the PCA guidance picture."""
import numpy as np
import pytest
import torch

from sgdc_mmseg.visualization import (DEFAULT_COLORS, edge_to_uint8,
                                      foreground_ids, guidance_to_rgb,
                                      overlay_mask, resolve_palette)


def test_resolve_palette_and_foreground():
    classes, palette = resolve_palette(
        dict(classes=('background', 'lesion'),
             palette=[[0, 0, 0], [255, 0, 0]]), 2)
    assert classes == ['background', 'lesion']
    assert palette == [(0, 0, 0), (255, 0, 0)]
    assert foreground_ids(classes) == [1]
    # wrong length: generic names and default colours
    classes, palette = resolve_palette(dict(classes=('a', 'b', 'c')), 2)
    assert classes == ['class_0', 'class_1']
    assert palette == [DEFAULT_COLORS[0], DEFAULT_COLORS[1]]
    assert foreground_ids(classes) == [0, 1]
    # an invisible (black) foreground colour is replaced
    _, palette = resolve_palette(
        dict(classes=('background', 'lesion'),
             palette=[[0, 0, 0], [0, 0, 10]]), 2)
    assert palette == [(0, 0, 0), DEFAULT_COLORS[1]]


def test_overlay_mask_blends_and_outlines():
    image = np.full((20, 30, 3), 100, np.uint8)
    mask = np.zeros((20, 30), np.int64)
    mask[5:15, 10:20] = 1
    palette = [(0, 0, 0), (255, 0, 0)]  # RGB red
    out = overlay_mask(image, mask, palette, [1], alpha=0.5, contour=False)
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    # BGR: blue/green 100 -> 50, red 100 -> 178 (0.5 * 100 + 0.5 * 255)
    assert out[10, 15].tolist() == [50, 50, 178]
    assert (out[mask == 0] == 100).all()
    out = overlay_mask(image, mask, palette, [1], alpha=0.5)
    assert out[5, 15].tolist() == [0, 0, 255]  # outline in the class colour
    assert out[10, 15].tolist() == [50, 50, 178]  # inside untouched by it
    assert (out[0] == 100).all()
    # grey input, other dtypes
    grey = overlay_mask(np.zeros((20, 30), np.uint16), mask, palette, [1])
    assert grey.shape == (20, 30, 3)
    with pytest.raises(ValueError, match='mask shape'):
        overlay_mask(image, mask[:10], palette, [1])
    with pytest.raises(ValueError, match='alpha'):
        overlay_mask(image, mask, palette, [1], alpha=2)


def test_edge_to_uint8():
    prob = np.array([[0.0, 0.5], [1.0, 1.7]], np.float32)
    assert edge_to_uint8(prob).tolist() == [[0, 128], [255, 255]]


def test_guidance_pca_recovers_the_strongest_pattern():
    torch.manual_seed(0)
    h, w = 12, 16
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h),
                            torch.linspace(-1, 1, w), indexing='ij')
    patterns = torch.stack([3 * xx, 1.5 * yy, 0.5 * xx * yy])  # var order
    mixing = torch.linalg.qr(torch.randn(8, 3))[0]  # orthonormal columns
    guidance = torch.einsum('ck,khw->chw', mixing, patterns) + 5
    rgb = guidance_to_rgb(guidance)
    assert rgb.shape == (3, h, w) and rgb.dtype == torch.float32
    assert rgb.min() >= 0 and rgb.max() <= 1
    for i in range(3):
        corr = torch.corrcoef(torch.stack([rgb[i].flatten(),
                                           patterns[i].flatten()]))[0, 1]
        assert abs(corr) > 0.97, (i, corr)
    # deterministic, and blind to offset and scale of the guidance
    assert torch.equal(rgb, guidance_to_rgb(guidance.clone()))
    assert torch.allclose(rgb, guidance_to_rgb(2 * guidance - 7), atol=1e-4)


def test_guidance_few_channels_and_constant():
    g = torch.randn(2, 5, 6)
    rgb = guidance_to_rgb(g)
    assert rgb.shape == (3, 5, 6) and (rgb[2] == 0).all()
    assert (guidance_to_rgb(torch.ones(4, 3, 3)) == 0.5).all()
    with pytest.raises(ValueError, match=r'\[C, H, W\]'):
        guidance_to_rgb(torch.ones(1, 4, 3, 3))


def test_save_figure_palette_png(tmp_path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from PIL import Image

    from sgdc_mmseg.visualization import save_figure
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.imshow(np.random.RandomState(0).rand(20, 40), cmap='magma')
    full = save_figure(fig, str(tmp_path / 'a' / 'full.png'))
    small = save_figure(fig, str(tmp_path / 'small.png'), colors=16)
    with Image.open(full) as im:
        assert im.mode == 'RGBA' and im.size == (200, 100)
    with Image.open(small) as im:
        assert im.mode == 'P' and im.size == (200, 100)
        assert len(im.getcolors()) <= 16
    with pytest.raises(ValueError, match='colors must be 0 or in'):
        save_figure(fig, str(tmp_path / 'x.png'), colors=300)
    plt.close(fig)
