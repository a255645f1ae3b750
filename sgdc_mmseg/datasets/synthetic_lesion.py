"""Deterministic synthetic dermoscopy-like images for demos and smoke tests.

Every sample is rendered from its own random stream seeded by
``(seed, split, index)``, so a sample does not depend on how many others are
generated or in which order.  A sample consists of

* skin: a skin tone with smooth illumination, blotchy colour variation,
  multi-scale texture noise and a few small freckles (not labelled);
* one lesion: an irregular blob with a smooth radial-harmonic contour,
  variable size, position, eccentricity and rotation, a brownish colour with
  internal texture, a second colour component, dark dots and a hard or
  soft border; its contrast against the skin varies and is sometimes low;
* hairs: thin dark curved lines drawn over skin and lesion alike; they do
  not change the mask;
* optionally a dermoscope-style vignette, slight blur and sensor noise.

:func:`generate_synthetic_lesions` writes a whole dataset in the layout read
by :class:`~sgdc_mmseg.datasets.LesionFolderDataset`, and
:class:`SyntheticLesionDataset` does so on first use.
"""
import json
import os
import os.path as osp
import shutil
import socket
import time
import zlib
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS

from .lesion_folder import LesionFolderDataset

#: Bump when the rendering changes, so existing data gets regenerated.
GENERATOR_VERSION = 1
SPLITS = ('train', 'val')
MARKER_NAME = '.synthetic_lesion_done.json'
OWNER_NAME = '.synthetic_lesion_owner'
LOCK_NAME = '.synthetic_lesion.lock'


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------
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
    n_dots = rng.poisson(6) if rng.uniform() < 0.6 else 0
    if n_dots:
        ys, xs = np.nonzero(mask)
        if len(xs):
            dots = np.zeros((h, w), np.float32)
            scale = min(h, w) / 128.0
            for i in rng.integers(len(xs), size=n_dots):
                r = max(1, int(round(rng.uniform(0.6, 1.8) * scale)))
                cv2.circle(dots, (int(xs[i]), int(ys[i])), r,
                           float(rng.uniform(0.3, 0.7)), -1, cv2.LINE_AA)
            col *= (1 - dots)[..., None]

    # Lesion pixels are a blend of skin and lesion colour.
    out = skin * (1 - contrast) + col * contrast
    return out, float(contrast)


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
    poly, r0 = _lesion_contour(rng_lesion, h, w)
    mask = _fill_polygon(poly, h, w)
    lesion, contrast = _lesion_colour(rng_lesion, skin, mask, r0)

    # Border: hard (about a pixel) or soft (a few percent of the radius).
    if rng_lesion.uniform() < 0.4:
        sigma = rng_lesion.uniform(0.4, 0.9)
    else:
        sigma = rng_lesion.uniform(0.06, 0.25) * r0
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
    img = skin * (1 - alpha[..., None]) + lesion * alpha[..., None]

    hair_alpha = _hair_layer(rng_hair, h, w)
    if hair and hair_alpha.any():
        hair_col = np.array([0.12, 0.08, 0.06], np.float32) * \
            rng_hair.uniform(0.4, 1.6)
        a = (hair_alpha * rng_hair.uniform(0.7, 0.95))[..., None]
        img = img * (1 - a) + hair_col * a
    elif not hair:
        hair_alpha = np.zeros_like(hair_alpha)

    # Illumination: smooth gain field plus a linear gradient.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy = (yy + 0.5) / h - 0.5
    xx = (xx + 0.5) / w - 0.5
    g = rng_post.normal(0, 0.15, 2)
    gain = 1 + 0.06 * _smooth_noise(rng_post, (h, w), 2) + g[0] * xx + \
        g[1] * yy
    img *= gain[..., None]

    # Dermoscope-like vignetting.
    if rng_post.uniform() < 0.5:
        r = np.sqrt(xx**2 + yy**2) * 2  # 1 at the edge midpoints
        r_in = rng_post.uniform(0.7, 1.05)
        strength = rng_post.uniform(0.3, 0.95)
        v = np.clip((r - r_in) / (1.42 - r_in), 0, 1)**2
        img *= (1 - strength * v)[..., None]

    if rng_post.uniform() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng_post.uniform(0.3, 0.7))
    img += rng_post.normal(0, 0.012, img.shape).astype(np.float32)

    image = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if return_layers:
        return image, mask, dict(hair=hair_alpha, contrast=contrast)
    return image, mask


# ---------------------------------------------------------------------------
# dataset generation on disk
# ---------------------------------------------------------------------------
def sample_name(split: str, index: int) -> str:
    return f'{split}_{index:05d}'


def _params(num_train: int, num_val: int, size: Sequence[int],
            seed: int) -> dict:
    return dict(
        generator='sgdc_mmseg.synthetic_lesion',
        version=GENERATOR_VERSION,
        num_train=int(num_train),
        num_val=int(num_val),
        size=[int(size[0]), int(size[1])],
        seed=int(seed),
        image_suffix='.png',
        mask_suffix='.png')


def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path, 'r', encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _is_complete(out_dir: str, params: dict) -> bool:
    """Marker matches ``params`` and all files are there."""
    if _read_json(osp.join(out_dir, MARKER_NAME)) != params:
        return False
    for split, num in zip(SPLITS, (params['num_train'], params['num_val'])):
        for sub in ('images', 'masks'):
            folder = osp.join(out_dir, split, sub)
            try:
                n = sum(1 for f in os.listdir(folder) if f.endswith('.png'))
            except OSError:
                return False
            if n != num:
                return False
    return True


def _write_json_atomic(path: str, data: dict) -> None:
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write('\n')
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class _DirLock:
    """Inter-process lock made of a file created with ``O_CREAT|O_EXCL``.

    Works across processes on one machine and on shared file systems. A
    lock left behind by a dead process (same host, pid gone) or not
    refreshed for ``stale_after`` seconds is broken.
    """

    def __init__(self, path: str, stale_after: float = 120.0) -> None:
        self.path = path
        self.stale_after = stale_after
        self.host = socket.gethostname()
        self.last_touch = 0.0

    def try_acquire(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        with os.fdopen(fd, 'w') as f:
            json.dump(dict(pid=os.getpid(), host=self.host), f)
        self.last_touch = time.time()
        return True

    def touch(self, min_interval: float = 2.0) -> None:
        now = time.time()
        if now - self.last_touch >= min_interval:
            try:
                os.utime(self.path)
            except OSError:
                pass
            self.last_touch = now

    def release(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass

    def break_if_stale(self) -> None:
        try:
            age = time.time() - os.stat(self.path).st_mtime
        except FileNotFoundError:
            return
        owner = _read_json(self.path) or {}
        stale = age > self.stale_after
        if not stale and owner.get('host') == self.host and 'pid' in owner:
            try:
                os.kill(int(owner['pid']), 0)
            except ProcessLookupError:
                stale = True
            except (PermissionError, OverflowError, ValueError):
                pass
        # Do not break a lock that was only just created and is still
        # being written (no owner info yet).
        if stale and (owner or age > 5.0):
            # Rename first so that two waiters cannot both remove a fresh
            # lock created in between.
            grave = f'{self.path}.stale.{os.getpid()}'
            try:
                os.replace(self.path, grave)
                os.remove(grave)
            except OSError:
                pass


def generate_synthetic_lesions(out_dir: str,
                               num_train: int = 400,
                               num_val: int = 100,
                               size: Tuple[int, int] = (128, 128),
                               seed: int = 0,
                               progress: bool = True,
                               timeout: float = 3600.0) -> bool:
    """Write a synthetic lesion dataset to ``out_dir`` unless it is there.

    Layout: ``out_dir/{train,val}/{images,masks}/<split>_<index>.png``
    (images RGB, masks single-channel 0/1). A marker file holding the
    generation parameters is written last; when it matches and all files
    are present the call does nothing. Otherwise (first call, interrupted
    run, changed parameters) the ``train`` and ``val`` folders are
    rebuilt. Only folders created by this function are ever deleted.

    Safe to call from several processes at once (e.g. all DDP ranks): one
    of them generates while the others wait for the marker.

    Args:
        out_dir (str): Dataset root.
        num_train (int): Number of training samples.
        num_val (int): Number of validation samples.
        size (tuple[int, int]): Image size ``(H, W)``.
        seed (int): Global seed.
        progress (bool): Show an mmengine progress bar.
        timeout (float): Seconds to wait for another process's generation.

    Returns:
        bool: Whether this call generated the data.
    """
    if len(size) != 2 or min(size) < 8:
        raise ValueError(f'size must be (H, W) with H, W >= 8, got {size!r}')
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0')
    params = _params(num_train, num_val, size, seed)
    if _is_complete(out_dir, params):
        return False

    os.makedirs(out_dir, exist_ok=True)
    lock = _DirLock(osp.join(out_dir, LOCK_NAME))
    deadline = time.time() + timeout
    while not lock.try_acquire():
        if _is_complete(out_dir, params):
            return False
        if time.time() > deadline:
            raise TimeoutError(
                f'Timed out after {timeout:.0f}s waiting for the lock '
                f'{lock.path!r} held by another process generating the '
                'synthetic lesion data; remove it if no process is running.')
        lock.break_if_stale()
        time.sleep(0.1)

    try:
        if _is_complete(out_dir, params):
            return False
        owner_file = osp.join(out_dir, OWNER_NAME)
        marker_file = osp.join(out_dir, MARKER_NAME)
        owned = osp.exists(owner_file) or osp.exists(marker_file)
        existing = [s for s in SPLITS if osp.lexists(osp.join(out_dir, s))]
        if existing and not owned:
            raise RuntimeError(
                f'{out_dir!r} already contains {existing} that were not '
                'made by generate_synthetic_lesions; refusing to overwrite '
                'them. Point data_root at an empty or new folder.')
        with open(owner_file, 'w', encoding='utf-8') as f:
            f.write('Created by sgdc_mmseg.datasets.synthetic_lesion; the '
                    'train/ and val/ folders here may be regenerated.\n')
        if osp.exists(marker_file):
            os.remove(marker_file)
        for split in existing:
            shutil.rmtree(osp.join(out_dir, split))

        jobs = [(s, i) for s, n in zip(SPLITS, (num_train, num_val))
                for i in range(n)]
        for split in SPLITS:
            for sub in ('images', 'masks'):
                os.makedirs(osp.join(out_dir, split, sub), exist_ok=True)
        bar = ProgressBar(len(jobs)) if progress and jobs else None
        png = [cv2.IMWRITE_PNG_COMPRESSION, 3]
        for split, index in jobs:
            image, mask = render_synthetic_lesion(seed, split, index, size)
            name = sample_name(split, index) + '.png'
            ok_img = cv2.imwrite(
                osp.join(out_dir, split, 'images', name),
                cv2.cvtColor(image, cv2.COLOR_RGB2BGR), png)
            ok_mask = cv2.imwrite(
                osp.join(out_dir, split, 'masks', name), mask, png)
            if not (ok_img and ok_mask):
                raise OSError(f'Failed to write {name} under {out_dir!r}')
            lock.touch()
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.file.write('\n')
            bar.file.flush()
        _write_json_atomic(marker_file, params)
    finally:
        lock.release()
    return True


@DATASETS.register_module()
class SyntheticLesionDataset(LesionFolderDataset):
    """:class:`LesionFolderDataset` over synthetic data generated under
    ``data_root`` on first use (see :func:`generate_synthetic_lesions`).

    Every dataset that shares a ``data_root`` (train and val) must use the
    same generation arguments, otherwise they regenerate each other's data.

    Args:
        data_root (str): Where the data is generated and read.
        num_train (int): Training samples. Defaults to 400.
        num_val (int): Validation samples. Defaults to 100.
        size (tuple[int, int]): ``(H, W)``. Defaults to ``(128, 128)``.
        seed (int): Generation seed. Defaults to 0.
        progress (bool): Show a progress bar while generating.
        **kwargs: Passed to :class:`LesionFolderDataset` (``data_prefix``,
            ``pipeline``, ``ann_file``, ...).
    """

    def __init__(self,
                 data_root: str = 'data/synthetic_lesion',
                 num_train: int = 400,
                 num_val: int = 100,
                 size: Tuple[int, int] = (128, 128),
                 seed: int = 0,
                 progress: bool = True,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        self.generation_args: Dict = dict(
            num_train=num_train, num_val=num_val, size=tuple(size),
            seed=seed)
        generate_synthetic_lesions(
            data_root, progress=progress, **self.generation_args)
        super().__init__(
            data_root=data_root,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)
