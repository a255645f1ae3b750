"""What an image file's header says, read with Pillow without decoding the
pixels: format, mode, size, bits per sample and EXIF orientation.

Used by the folder datasets (checked once per file when the dataset is
built) and by the converters, so that both refuse the same files:

* :attr:`ImageHeader.orientation` is the EXIF orientation tag (1 when there
  is none). OpenCV, and so mmcv / mmseg, rotate an image whose orientation
  is not 1 when loading it in colour, but not a mask loaded ``'unchanged'``,
  so such an image no longer lines up with its mask. For a PNG only an
  ``eXIf`` chunk before the pixel data is seen (Pillow would decode the
  whole file to find a later one).
* :attr:`ImageHeader.bits` is the number of bits per sample (1, 8, 16 or
  32). mmseg's ``LoadAnnotations`` casts every mask to ``uint8``, so a mask
  with more than 8 bits would silently lose its class ids >= 256 (256 -> 0).

:func:`read_image_header` raises :class:`OSError` naming the file when
Pillow cannot identify it; the pixels are not decoded, so a truncated file
whose header is intact passes (decoding it is the loader's job).
"""
import io
from dataclasses import dataclass
from typing import BinaryIO, Union

#: EXIF tag of the orientation.
ORIENTATION_TAG = 0x0112

_16_BIT_MODES = ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I;16S', 'I;16BS',
                 'I;16LS')


@dataclass(frozen=True)
class ImageHeader:
    """The header of one image file.

    Attributes:
        format (str): Pillow's format name (``'JPEG'``, ``'PNG'``, ...).
        mode (str): Pillow's mode (``'L'``, ``'RGB'``, ``'I;16'``, ...).
        width (int): Width in pixels.
        height (int): Height in pixels.
        bits (int): Bits per sample: 1, 8, 16 or 32.
        orientation (int): EXIF orientation, 1 when absent.
    """
    format: str
    mode: str
    width: int
    height: int
    bits: int
    orientation: int

    @property
    def shape_text(self) -> str:
        """``'<H>x<W> (H x W)'``."""
        return f'{self.height}x{self.width} (H x W)'


def _raw_mode(im) -> str:
    """The raw mode of the first tile (``'RGB;16B'`` for a 48-bit PNG)."""
    tile = getattr(im, 'tile', None) or []
    if not tile:
        return ''
    args = tile[0][3]
    if isinstance(args, str):
        return args
    if isinstance(args, tuple) and args and isinstance(args[0], str):
        return args[0]
    return ''


def bits_per_sample(im) -> int:
    """Bits per sample of an opened (not decoded) Pillow image."""
    if im.mode == '1':
        return 1
    if im.mode in _16_BIT_MODES or ';16' in _raw_mode(im):
        return 16
    if im.mode in ('I', 'F') or im.mode.startswith(('I;32', 'F;')):
        return 32
    return 8


def exif_orientation(im) -> int:
    """The EXIF orientation of an opened (not decoded) Pillow image, 1 when
    it has none."""
    from PIL import Image
    if im.format == 'PNG':
        # PngImageFile.getexif() decodes the file to look for an eXIf chunk
        # after the pixel data; read only the one before it.
        raw = im.info.get('exif')
        if not raw:
            return 1
        exif = Image.Exif()
        exif.load(raw)
    else:
        exif = im.getexif()
    value = exif.get(ORIENTATION_TAG, 1)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1


def read_image_header(file: Union[str, bytes, BinaryIO],
                      where: str = '') -> ImageHeader:
    """Read the header of ``file`` (a path, the file's bytes or an open
    binary file) without decoding its pixels.

    Args:
        file: What to read.
        where (str): How to name the file in an error (defaults to the path).

    Raises:
        OSError: If Pillow cannot identify or parse the file.
    """
    from PIL import Image, UnidentifiedImageError
    where = where or (file if isinstance(file, str) else '<bytes>')
    src = io.BytesIO(file) if isinstance(file, (bytes, bytearray)) else file
    try:
        with Image.open(src) as im:
            return ImageHeader(
                format=str(im.format), mode=im.mode, width=int(im.size[0]),
                height=int(im.size[1]), bits=bits_per_sample(im),
                orientation=exif_orientation(im))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise OSError(f'cannot read the image header of {where!r}: '
                      f'{e}') from None
