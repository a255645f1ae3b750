"""Overlays, edge maps and guidance pictures.

* :func:`overlay_mask` blends a class-id mask over an image (a translucent
  fill plus the outline of every region) in the dataset palette.
* :func:`edge_to_uint8` turns an SGE boundary probability map into an 8-bit
  picture whose value / 255 is the probability.
* :func:`guidance_to_rgb` shows the SGE guidance map (``guide_channels``
  channels) as colour: its first three principal components (PCA over the
  pixels of one image) become red, green and blue, each stretched between
  its 1st and 99th percentile. Pixels of similar colour carry similar
  guidance; colours are per image (not comparable across images), and the
  sign of each component is fixed so that its largest channel loading is
  positive (deterministic output). PCA was chosen over a per-channel norm
  because a norm keeps only "how strong" and loses "which kind" of structure.
"""
import cv2
import numpy as np
import torch

#: RGB colours for classes without a usable palette entry (tab10-like).
DEFAULT_COLORS = (
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48),
    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60),
    (250, 190, 212), (0, 128, 128), (220, 190, 255), (170, 110, 40))

_BACKGROUND_NAMES = ('background', 'bg', '_background_', 'backgroud')


def resolve_palette(dataset_meta, num_classes):
    """Class names and RGB colours for ``num_classes`` classes.

    Uses ``dataset_meta['classes']``/``['palette']`` when they fit
    ``num_classes``; otherwise names ``class_<i>`` and :data:`DEFAULT_COLORS`.
    A foreground colour that is (almost) black would be invisible in an
    overlay and is replaced by a default colour.

    Returns:
        tuple[list[str], list[tuple[int, int, int]]]: names and RGB colours.
    """
    meta = dataset_meta or {}
    classes = meta.get('classes', None)
    if classes is None or len(classes) != num_classes:
        classes = [f'class_{i}' for i in range(num_classes)]
    classes = [str(c) for c in classes]
    palette = meta.get('palette', None)
    if palette is None or len(palette) != num_classes:
        palette = [DEFAULT_COLORS[i % len(DEFAULT_COLORS)]
                   for i in range(num_classes)]
    palette = [tuple(int(v) for v in color) for color in palette]
    fg = set(foreground_ids(classes))
    for i, color in enumerate(palette):
        if i in fg and max(color) < 40:
            palette[i] = DEFAULT_COLORS[i % len(DEFAULT_COLORS)]
    return classes, palette


def foreground_ids(classes):
    """Ids of the classes to draw: all but one named like ``background``
    (every class when none is)."""
    ids = [i for i, name in enumerate(classes)
           if str(name).lower() not in _BACKGROUND_NAMES]
    return ids


def _as_bgr_uint8(image):
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = image.astype(np.float64)
        lo, hi = float(image.min()), float(image.max())
        image = (image - lo) * (255.0 / (hi - lo)) if hi > lo else \
            np.zeros_like(image)
        image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = cv2.cvtColor(image[..., 0], cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise ValueError('image must be HxW, HxWx1, HxWx3 or HxWx4, got '
                         f'shape {image.shape}')
    return np.ascontiguousarray(image)


def _check_mask(mask, image):
    mask = np.asarray(mask)
    if mask.shape != image.shape[:2]:
        raise ValueError(f'mask shape {mask.shape} differs from the image '
                         f'size {image.shape[:2]}')
    return mask


def default_line_width(shape):
    """Outline width in pixels: 1 up to 256 px, growing with the image."""
    return max(1, int(round(max(shape[:2]) / 256)))


def draw_contours(image, mask, class_ids, palette, width=None):
    """Draw the outline of every region of ``class_ids`` (in place).

    Args:
        image (np.ndarray): BGR uint8 ``HxWx3`` (modified and returned).
        mask (np.ndarray): class ids ``HxW``.
        class_ids (Iterable[int]): classes to outline.
        palette (Sequence): RGB colour per class id.
        width (int, optional): line width; default grows with the image.
    """
    mask = _check_mask(mask, image)
    width = width or default_line_width(mask.shape)
    for c in class_ids:
        region = (mask == c).astype(np.uint8)
        if not region.any():
            continue
        contours, _ = cv2.findContours(region, cv2.RETR_LIST,
                                       cv2.CHAIN_APPROX_SIMPLE)
        color = tuple(int(v) for v in palette[c][::-1])  # RGB -> BGR
        cv2.drawContours(image, contours, -1, color, width)
    return image


def overlay_mask(image, mask, palette, class_ids, alpha=0.4, contour=True,
                 width=None):
    """Blend the regions of ``class_ids`` over ``image``.

    Args:
        image (np.ndarray): BGR image (any dtype; grey or BGRA accepted).
        mask (np.ndarray): class ids ``HxW`` of the same size.
        palette (Sequence): RGB colour per class id.
        class_ids (Iterable[int]): classes to draw (e.g.
            :func:`foreground_ids`); others leave the image as is.
        alpha (float): opacity of the fill in [0, 1].
        contour (bool): also outline the regions.
        width (int, optional): outline width.

    Returns:
        np.ndarray: BGR uint8 ``HxWx3``.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    out = _as_bgr_uint8(image).copy()
    mask = _check_mask(mask, out)
    class_ids = list(class_ids)
    blended = out.astype(np.float32)
    for c in class_ids:
        region = mask == c
        if region.any():
            color = np.array(palette[c][::-1], dtype=np.float32)
            blended[region] = (1 - alpha) * blended[region] + alpha * color
    out = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    if contour:
        draw_contours(out, mask, class_ids, palette, width)
    return out


def edge_to_uint8(prob):
    """Boundary probability ``HxW`` in [0, 1] -> uint8 (value / 255 = p)."""
    prob = np.asarray(prob, dtype=np.float32)
    return np.round(np.clip(prob, 0, 1) * 255).astype(np.uint8)


def guidance_to_rgb(guidance, low=0.01, high=0.99):
    """First three principal components of a guidance map as RGB.

    Args:
        guidance (Tensor): ``[C, H, W]`` guidance of one image.
        low, high (float): quantiles mapped to 0 and 1 per component.

    Returns:
        Tensor: ``[3, H, W]`` float32 in [0, 1] on the input's device;
        with fewer than 3 channels the missing components are 0.
    """
    if not isinstance(guidance, torch.Tensor) or guidance.dim() != 3:
        raise ValueError('guidance must be a [C, H, W] tensor, got '
                         f'{getattr(guidance, "shape", type(guidance))}')
    c, h, w = guidance.shape
    x = guidance.detach().reshape(c, -1).double()
    x = x - x.mean(dim=1, keepdim=True)
    cov = x @ x.T / max(x.shape[1] - 1, 1)
    _, vecs = torch.linalg.eigh(cov)  # ascending eigenvalues
    k = min(3, c)
    vecs = vecs[:, -k:].flip(dims=(1, ))  # [C, k], largest first
    # deterministic sign: largest-magnitude loading positive
    idx = vecs.abs().argmax(dim=0)
    signs = torch.sign(vecs[idx, torch.arange(k, device=vecs.device)])
    vecs = vecs * torch.where(signs == 0, torch.ones_like(signs), signs)
    comps = vecs.T @ x  # [k, H*W]
    out = torch.zeros(3, h * w, dtype=torch.float64, device=x.device)
    for i in range(k):
        comp = comps[i]
        if comp.numel() > 1:
            lo, hi = torch.quantile(
                comp, torch.tensor([low, high], dtype=comp.dtype,
                                   device=comp.device))
        else:
            lo = hi = comp[0]
        if hi - lo > 1e-12:
            out[i] = ((comp - lo) / (hi - lo)).clamp(0, 1)
        else:
            out[i] = 0.5
    return out.reshape(3, h, w).float()


def save_figure(fig, path, dpi=100, colors=0):
    """Save a matplotlib figure as PNG (creating the folder).

    Args:
        colors (int): 0 keeps full colour; 2..256 stores a palette PNG with
            that many colours (Pillow's fast octree, no dithering): several
            times smaller, e.g. for figures committed to a repository.
    """
    import io
    import os
    import os.path as osp

    if colors and not 2 <= colors <= 256:
        raise ValueError(f'colors must be 0 or in [2, 256], got {colors}')
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if not colors:
        fig.savefig(path, dpi=dpi)
        return path
    from PIL import Image
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format='png')
    buf.seek(0)
    image = Image.open(buf).convert('RGB')
    image.quantize(colors, method=Image.Quantize.FASTOCTREE,
                   dither=Image.Dither.NONE).save(path, optimize=True)
    return path
