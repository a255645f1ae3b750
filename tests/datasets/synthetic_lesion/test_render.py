"""synthetic_lesion/render.py: one sample, deterministic per
(seed, split, index), with sane masks and optional hairs."""
import cv2
import numpy as np

from sgdc_mmseg.datasets.synthetic_lesion import render_synthetic_lesion


def test_render_shapes_and_values():
    img, mask = render_synthetic_lesion(seed=0, split='train', index=0,
                                        size=(48, 64))
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    assert mask.shape == (48, 64) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) == {0, 1}


def test_render_deterministic_and_seed_dependent():
    a = render_synthetic_lesion(3, 'train', 5, (64, 64))
    b = render_synthetic_lesion(3, 'train', 5, (64, 64))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    for other in (render_synthetic_lesion(4, 'train', 5, (64, 64)),
                  render_synthetic_lesion(3, 'val', 5, (64, 64)),
                  render_synthetic_lesion(3, 'train', 6, (64, 64))):
        assert not np.array_equal(a[0], other[0])
        assert not np.array_equal(a[1], other[1])


def test_lesion_area_fraction_is_sane():
    fractions = []
    for i in range(40):
        _, mask = render_synthetic_lesion(0, 'train', i, (64, 64))
        assert set(np.unique(mask).tolist()) <= {0, 1}
        fractions.append(mask.mean())
    fractions = np.array(fractions)
    assert fractions.min() > 0.01 and fractions.max() < 0.6
    assert 0.08 < fractions.mean() < 0.35
    assert fractions.std() > 0.03  # sizes vary


def test_lesion_darker_than_skin_on_average():
    diffs = []
    for i in range(20):
        img, mask = render_synthetic_lesion(1, 'train', i, (64, 64))
        grey = img.astype(np.float32).mean(-1)
        diffs.append(grey[mask == 0].mean() - grey[mask == 1].mean())
    assert min(diffs) > 0
    assert np.median(diffs) > 15
    assert min(diffs) < np.median(diffs) / 2  # some low-contrast cases


def test_hair_does_not_change_mask():
    hairy_seen = 0
    for i in range(10):
        img_h, mask_h, layers = render_synthetic_lesion(
            0, 'train', i, (64, 64), hair=True, return_layers=True)
        img_n, mask_n = render_synthetic_lesion(0, 'train', i, (64, 64),
                                                hair=False)
        np.testing.assert_array_equal(mask_h, mask_n)
        hair = layers['hair'] > 0.5
        if hair.any():
            hairy_seen += 1
            # hairs are dark and drawn over the image, skin and lesion
            diff = img_n.astype(int) - img_h.astype(int)
            assert diff[hair].mean() > 20
            # away from hairs (beyond the final slight blur) nothing changes
            near = cv2.dilate((layers['hair'] > 0).astype(np.uint8),
                              np.ones((7, 7), np.uint8)) > 0
            np.testing.assert_array_equal(img_h[~near], img_n[~near])
            if (hair & (mask_h == 1)).any():
                assert mask_h[hair].max() == 1
        else:
            np.testing.assert_array_equal(img_h, img_n)
    assert hairy_seen >= 3
