"""Checking, decoding, resizing and encoding images and masks.

* :func:`check_decodes` decodes an image or mask once in full with Pillow
  (a truncated or corrupt file is an error naming it, also for JPEGs that
  are then copied byte for byte);
* :func:`decode_mask` / :func:`binary_mask` accept only single-channel (or
  3 equal channels) 8-bit 0/255 masks; :func:`decode_color` decodes an
  image as OpenCV (and so mmseg) loads it;
* :func:`jpeg_header` reads a JPEG's size and EXIF orientation from its
  header;
* :func:`resize_image` / :func:`resize_nearest` and :func:`encode_png`
  produce the outputs.

Every error is a :class:`~.checks.ConversionError` naming the file.
"""
import io

import cv2
import numpy as np

from ..image_header import read_image_header
from .checks import ConversionError, Size, check_min_side


def check_decodes(data: bytes, where: str, what: str = 'image') -> None:
    """Decode ``data`` once in full with Pillow, which, unlike OpenCV,
    always fails on a truncated file.

    Raises:
        ConversionError: Naming the file, if it is not an image Pillow can
            read, or is truncated or corrupt.
    """
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    except (OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError) as e:
        raise ConversionError(
            f'cannot decode the {what} {where} (truncated or corrupt?): '
            f'{e}') from None


def decode_mask(data: bytes, where: str) -> np.ndarray:
    """Decode a mask file as stored (no colour conversion) into a 2-D uint8
    array. A 3-channel mask is accepted when its channels are equal. The
    file is first decoded in full by :func:`check_decodes`."""
    check_decodes(data, where, 'mask')
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ConversionError(f'cannot decode the mask {where}.')
    if arr.ndim == 3:
        if arr.shape[2] == 3:
            if not ((arr[..., 0] == arr[..., 1]).all()
                    and (arr[..., 0] == arr[..., 2]).all()):
                raise ConversionError(
                    f'mask {where} is a 3-channel image whose channels '
                    'differ; expected a grey mask (one channel, or three '
                    'equal channels).')
            arr = arr[..., 0]
        elif arr.shape[2] == 1:
            arr = arr[..., 0]
        else:
            raise ConversionError(
                f'mask {where} has {arr.shape[2]} channels; expected one '
                '(or three equal channels).')
    if arr.dtype != np.uint8:
        raise ConversionError(
            f'mask {where} is {arr.dtype}; expected 8-bit values 0 and 255.')
    check_min_side(arr.shape, f'mask {where}')
    return np.ascontiguousarray(arr)


def binary_mask(mask: np.ndarray, where: str) -> np.ndarray:
    """Map a 0/255 mask to 0/1 (uint8).

    Raises:
        ConversionError: Naming the file and the values, if the mask holds
            anything but 0 and 255 (e.g. JPEG damage, or a mask already
            converted to 0/1).
    """
    bad = (mask != 0) & (mask != 255)
    if bad.any():
        values = np.unique(mask[bad])
        shown = ', '.join(str(v) for v in values[:8])
        raise ConversionError(
            f'mask {where} holds value(s) {shown}'
            f'{" ..." if len(values) > 8 else ""} in {int(bad.sum())} '
            'pixel(s); expected only 0 (background) and 255 (lesion).')
    return (mask == 255).astype(np.uint8)


def decode_color(data: bytes, where: str) -> np.ndarray:
    """Decode an image into a BGR uint8 array (as OpenCV and mmcv load it,
    but ignoring any EXIF orientation), after :func:`check_decodes`."""
    check_decodes(data, where, 'image')
    arr = cv2.imdecode(np.frombuffer(data, np.uint8),
                       cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if arr is None:
        raise ConversionError(f'cannot decode the image {where}.')
    return arr


def jpeg_header(data: bytes, where: str) -> Size:
    """``(width, height)`` of an RGB JPEG, read from its header only (with
    :func:`~sgdc_mmseg.datasets.image_header.read_image_header`, as the
    folder datasets do).

    Raises:
        ConversionError: If the file is not an RGB JPEG, or if its EXIF
            orientation is not 1: OpenCV (and so mmseg) would rotate it on
            loading, so a byte-for-byte copy would not line up with its mask.
    """
    try:
        header = read_image_header(data, where)
    except OSError as e:
        raise ConversionError(
            f'cannot read the image {where}: {e}') from None
    fmt, mode, orientation = header.format, header.mode, header.orientation
    size = (header.width, header.height)
    if fmt != 'JPEG':
        raise ConversionError(
            f'image {where} is {fmt}, not JPEG; expected the official JPEG.')
    if mode != 'RGB':
        raise ConversionError(
            f'image {where} is a {mode} JPEG; expected RGB.')
    if orientation not in (None, 1):
        raise ConversionError(
            f'image {where} has EXIF orientation {orientation}: OpenCV and '
            'mmseg would rotate it when loading it, so it would no longer '
            'line up with its mask. Re-save it without the orientation tag '
            '(or apply the orientation to the image and its mask alike, '
            'e.g. PIL.ImageOps.exif_transpose) before converting.')
    return int(size[0]), int(size[1])


def resize_image(img: np.ndarray, size: Size) -> np.ndarray:
    """Resize to ``size`` (W, H): area averaging when shrinking in both
    directions, bilinear otherwise."""
    w, h = size
    shrink = w <= img.shape[1] and h <= img.shape[0]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA
                      if shrink else cv2.INTER_LINEAR)


def resize_nearest(label: np.ndarray, size: Size) -> np.ndarray:
    """Resize a label map (any integer dtype) to ``size`` (W, H), nearest."""
    return cv2.resize(label, tuple(size), interpolation=cv2.INTER_NEAREST)


def encode_png(arr: np.ndarray, where: str) -> bytes:
    ok, buf = cv2.imencode('.png', arr)
    if not ok:
        raise ConversionError(f'cannot encode {where} as PNG.')
    return buf.tobytes()
