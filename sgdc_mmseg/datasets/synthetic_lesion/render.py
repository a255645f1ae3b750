"""Rendering one deterministic synthetic dermoscopy-like sample.

Every sample is rendered from its own random stream seeded by
``(seed, split, index)`` (:func:`sample_rng`), so a sample does not depend
on how many others are generated or in which order. The stream is split
into four (skin, lesion, hairs, camera) so that optional parts do not shift
the others. A sample consists of

* skin: a skin tone with smooth illumination, blotchy colour variation,
  multi-scale texture noise and a few small freckles (not labelled);
* one lesion: an irregular blob with a smooth radial-harmonic contour,
  variable size, position, eccentricity and rotation, a brownish colour with
  internal texture, a second colour component, dark dots and a hard or
  soft border; its contrast against the skin varies and is sometimes low;
* hairs: thin dark curved lines drawn over skin and lesion alike; they do
  not change the mask;
* optionally a dermoscope-style vignette, slight blur and sensor noise.

Pure functions of their arguments: nothing here touches the disk.
"""
import zlib
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np


def sample_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """Random stream of one sample, independent of generation order."""
    split_key = zlib.crc32(str(split).encode('utf-8'))
    return np.random.default_rng(
        np.random.SeedSequence([int(seed), split_key, int(index)]))


def _smooth_noise(rng: np.random.Generator, shape: Tuple[int, int],
                  cells: float, channels: int = 0) -> np.ndarray:
    """Zero-mean, roughly unit-variance noise smooth on the scale of
    ``shape / cells`` (bicubic upsampling of a coarse random grid)."""
    h, w = shape
    gh = max(2, int(round(cells * h / max(h, w))) + 1)
    gw = max(2, int(round(cells * w / max(h, w))) + 1)
    grid_shape = (gh, gw, channels) if channels else (gh, gw)
    grid = rng.standard_normal(grid_shape).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _fractal_noise(rng: np.random.Generator, shape: Tuple[int, int],
                   octaves: Sequence[float] = (3, 6, 12, 24),
                   decay: float = 0.6) -> np.ndarray:
    out = np.zeros(shape, np.float32)
    amp, total = 1.0, 0.0
    for cells in octaves:
        out += amp * _smooth_noise(rng, shape, cells)
        total += amp * amp
        amp *= decay
    return out / np.sqrt(total)


def _lesion_contour(rng: np.random.Generator, h: int, w: int,
                    ) -> Tuple[np.ndarray, float]:
    """Closed polygon (N x 2, float, x/y pixel coords) of a lesion and its
    mean radius in pixels."""
    n = 180
    phi = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    irregularity = rng.uniform(0.04, 0.28)
    radius = np.ones(n)
    for k in range(2, 10):
        amp = rng.normal(0.0, irregularity / k**1.1)
        radius += amp * np.cos(k * phi + rng.uniform(0, 2 * np.pi))
    radius = np.clip(radius, 0.35, None)

    # Target area fraction of the image, then the base radius from it.
    area_frac = float(np.exp(rng.uniform(np.log(0.04), np.log(0.38))))
    elong = rng.uniform(1.0, 1.9)
    ax, ay = np.sqrt(elong), 1.0 / np.sqrt(elong)
    r0 = np.sqrt(area_frac * h * w / np.pi / np.mean(radius**2))
    theta = rng.uniform(0, np.pi)
    x = r0 * ax * radius * np.cos(phi)
    y = r0 * ay * radius * np.sin(phi)
    ct, st = np.cos(theta), np.sin(theta)
    xr, yr = ct * x - st * y, st * x + ct * y
    # Lesions sit near the centre, as in dermoscopy, but may be cut off.
    cx = w / 2 + rng.normal(0, 0.12) * w
    cy = h / 2 + rng.normal(0, 0.12) * h
    cx = float(np.clip(cx, 0.2 * w, 0.8 * w))
    cy = float(np.clip(cy, 0.2 * h, 0.8 * h))
    return np.stack([xr + cx, yr + cy], axis=1), float(r0)


def _fill_polygon(poly: np.ndarray, h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    shift = 4  # sub-pixel vertex precision
    pts = np.round((poly - 0.5) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8, shift=shift)
    return mask


def _skin(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Skin background, float32 RGB in [0, 1]."""
    lightness = rng.uniform(0.6, 0.95)
    tone = np.array([1.0, rng.uniform(0.72, 0.84),
                     rng.uniform(0.58, 0.74)], np.float32)
    skin = np.empty((h, w, 3), np.float32)
    skin[:] = lightness * tone
    # Reddish blotches (less green/blue) and multi-scale texture.
    blotch = np.clip(_smooth_noise(rng, (h, w), 4), 0, None)
    skin[..., 1] *= 1 - 0.05 * blotch
    skin[..., 2] *= 1 - 0.06 * blotch
    texture = _fractal_noise(rng, (h, w), (4, 10, 24, 48))
    skin *= (1 + 0.035 * texture)[..., None]
    # A few small freckles far from anything labelled.
    n_freckles = rng.poisson(1.5)
    if n_freckles:
        spots = np.zeros((h, w), np.float32)
        scale = min(h, w) / 128.0
        for _ in range(n_freckles):
            c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
            r = max(1, int(round(rng.uniform(0.8, 2.2) * scale)))
            cv2.circle(spots, c, r, float(rng.uniform(0.2, 0.5)), -1,
                       cv2.LINE_AA)
        spots = cv2.GaussianBlur(spots, (0, 0), 0.8 * scale)
        skin *= (1 - spots[..., None] * np.array([0.45, 0.6, 0.65],
                                                 np.float32))
    return skin


def _lesion_colour(rng: np.random.Generator, skin: np.ndarray,
                   mask: np.ndarray, r0: float) -> Tuple[np.ndarray, float]:
    """Colour of the lesion everywhere (only used where the lesion alpha is
    non-zero) and its contrast."""
    h, w = mask.shape
    light_brown = np.array([0.62, 0.42, 0.30], np.float32)
    dark_brown = np.array([0.30, 0.17, 0.11], np.float32)
    t = rng.uniform(0, 1)
    primary = (1 - t) * light_brown + t * dark_brown
    primary *= rng.uniform(0.85, 1.15, 3).astype(np.float32)
    secondary_choices = (
        np.array([0.20, 0.12, 0.09], np.float32),  # very dark brown
        np.array([0.36, 0.35, 0.45], np.float32),  # blue-grey veil
        np.array([0.66, 0.32, 0.30], np.float32),  # reddish
        np.array([0.70, 0.55, 0.45], np.float32),  # pale regression area
    )
    secondary = secondary_choices[rng.integers(len(secondary_choices))]

    # Contrast: mostly clear, sometimes low.
    if rng.uniform() < 0.25:
        contrast = rng.uniform(0.28, 0.42)
    else:
        contrast = rng.uniform(0.42, 0.9)

    # Blend of the two colours driven by smooth noise.
    mix = _smooth_noise(rng, (h, w), rng.uniform(3, 7))
    mix = np.clip(0.5 * mix + rng.uniform(-0.5, 0.1), 0, 1)
    mix *= rng.uniform(0.3, 0.9)
    col = primary[None, None] * (1 - mix[..., None]) + \
        secondary[None, None] * mix[..., None]

    # Often darker toward the centre.
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    ramp = np.clip(dist / max(0.6 * r0, 1.0), 0, 1)
    col *= (1 - rng.uniform(0.0, 0.35) * ramp)[..., None]

    # Internal texture and dark dots / globules.
    tex = _fractal_noise(rng, (h, w), (6, 14, 30))
    col *= (1 + rng.uniform(0.05, 0.18) * tex)[..., None]
    dots = _dots_layer(rng, mask)
    if dots is not None:
        col *= (1 - dots)[..., None]

    # Lesion pixels are a blend of skin and lesion colour.
    out = skin * (1 - contrast) + col * contrast
    return out, float(contrast)


def _dots_layer(rng: np.random.Generator,
                mask: np.ndarray) -> Optional[np.ndarray]:
    """Darkening (float32, [0, 1]) of a few dark dots / globules inside the
    lesion, or None (most lesions have some)."""
    h, w = mask.shape
    n_dots = rng.poisson(6) if rng.uniform() < 0.6 else 0
    if not n_dots:
        return None
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    dots = np.zeros((h, w), np.float32)
    scale = min(h, w) / 128.0
    for i in rng.integers(len(xs), size=n_dots):
        r = max(1, int(round(rng.uniform(0.6, 1.8) * scale)))
        cv2.circle(dots, (int(xs[i]), int(ys[i])), r,
                   float(rng.uniform(0.3, 0.7)), -1, cv2.LINE_AA)
    return dots


def _hair_layer(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Alpha (float32, [0, 1]) of hair-like curved dark lines."""
    layer = np.zeros((h, w), np.uint8)
    if rng.uniform() < 0.3:
        return layer.astype(np.float32)
    n_hairs = 1 + rng.poisson(4)
    size = max(h, w)
    scale = min(h, w) / 128.0
    t = np.linspace(0, 1, 24)[:, None]
    for _ in range(n_hairs):
        p0 = np.array([rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h])
        ang = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(0.25, 0.9) * size
        d = np.array([np.cos(ang), np.sin(ang)])
        p2 = p0 + length * d
        bend = rng.normal(0, 0.18) * length
        p1 = (p0 + p2) / 2 + bend * np.array([-d[1], d[0]])
        pts = (1 - t)**2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
        thick = max(1, int(round(rng.uniform(0.6, 1.6) * scale)))
        value = int(rng.uniform(150, 255))
        cv2.polylines(layer, [np.round(pts * 16).astype(np.int32)], False,
                      value, thick, cv2.LINE_AA, shift=4)
    return layer.astype(np.float32) / 255.0


def _add_lesion(rng: np.random.Generator, skin: np.ndarray,
                ) -> Tuple[np.ndarray, np.ndarray, float]:
    """Draw the lesion over ``skin``; returns the image (float32 RGB), the
    mask (uint8 0/1) and the lesion contrast."""
    h, w = skin.shape[:2]
    poly, r0 = _lesion_contour(rng, h, w)
    mask = _fill_polygon(poly, h, w)
    lesion, contrast = _lesion_colour(rng, skin, mask, r0)

    # Border: hard (about a pixel) or soft (a few percent of the radius).
    if rng.uniform() < 0.4:
        sigma = rng.uniform(0.4, 0.9)
    else:
        sigma = rng.uniform(0.06, 0.25) * r0
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
    img = skin * (1 - alpha[..., None]) + lesion * alpha[..., None]
    return img, mask, contrast


def _add_hairs(rng: np.random.Generator, img: np.ndarray,
               hair: bool) -> Tuple[np.ndarray, np.ndarray]:
    """Draw hairs over ``img`` (unless ``hair`` is False); returns the
    image and the hair alpha (zero when not drawn). The layer is drawn
    either way, so the random stream is the same."""
    h, w = img.shape[:2]
    hair_alpha = _hair_layer(rng, h, w)
    if hair and hair_alpha.any():
        hair_col = np.array([0.12, 0.08, 0.06], np.float32) * \
            rng.uniform(0.4, 1.6)
        a = (hair_alpha * rng.uniform(0.7, 0.95))[..., None]
        img = img * (1 - a) + hair_col * a
    elif not hair:
        hair_alpha = np.zeros_like(hair_alpha)
    return img, hair_alpha


def _camera(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Illumination, dermoscope-like vignetting, slight blur and sensor
    noise; returns the uint8 image."""
    h, w = img.shape[:2]
    # Illumination: smooth gain field plus a linear gradient.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy = (yy + 0.5) / h - 0.5
    xx = (xx + 0.5) / w - 0.5
    g = rng.normal(0, 0.15, 2)
    gain = 1 + 0.06 * _smooth_noise(rng, (h, w), 2) + g[0] * xx + \
        g[1] * yy
    img *= gain[..., None]

    # Dermoscope-like vignetting.
    if rng.uniform() < 0.5:
        r = np.sqrt(xx**2 + yy**2) * 2  # 1 at the edge midpoints
        r_in = rng.uniform(0.7, 1.05)
        strength = rng.uniform(0.3, 0.95)
        v = np.clip((r - r_in) / (1.42 - r_in), 0, 1)**2
        img *= (1 - strength * v)[..., None]

    if rng.uniform() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.7))
    img += rng.normal(0, 0.012, img.shape).astype(np.float32)
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def render_synthetic_lesion(seed: int = 0,
                            split: str = 'train',
                            index: int = 0,
                            size: Tuple[int, int] = (128, 128),
                            hair: bool = True,
                            return_layers: bool = False):
    """Render one synthetic sample.

    Args:
        seed (int): Global seed.
        split (str): Split name, part of the per-sample seed.
        index (int): Sample index, part of the per-sample seed.
        size (tuple[int, int]): ``(H, W)``.
        hair (bool): Draw hairs. Switching hairs off changes neither the
            mask nor anything drawn before the hairs.
        return_layers (bool): Also return a dict with the hair alpha
            (``'hair'``, float32 HxW) and the lesion contrast.

    Returns:
        tuple: ``(image, mask)``: uint8 RGB ``HxWx3`` and uint8 ``HxW`` with
        values in {0, 1}; plus the layers dict when ``return_layers``.
    """
    h, w = int(size[0]), int(size[1])
    rng = sample_rng(seed, split, index)
    # Separate streams so that optional parts do not shift the others.
    rng_skin, rng_lesion, rng_hair, rng_post = rng.spawn(4)
    skin = _skin(rng_skin, h, w)
    img, mask, contrast = _add_lesion(rng_lesion, skin)
    img, hair_alpha = _add_hairs(rng_hair, img, hair)
    image = _camera(rng_post, img)
    if return_layers:
        return image, mask, dict(hair=hair_alpha, contrast=contrast)
    return image, mask
