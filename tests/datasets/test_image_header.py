"""read_image_header: format, mode, size, bits per sample and EXIF
orientation, from the header only."""
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from sgdc_mmseg.datasets.image_header import read_image_header


def _png(arr):
    ok, buf = cv2.imencode('.png', arr)
    assert ok
    return buf.tobytes()


def _with_orientation(fmt, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.fromarray(np.zeros((6, 9, 3), np.uint8)).save(
        buf, fmt, exif=exif.tobytes())
    return buf.getvalue()


def test_plain_8_bit_png(tmp_path):
    path = tmp_path / 'm.png'
    path.write_bytes(_png(np.zeros((4, 7), np.uint8)))
    h = read_image_header(str(path))
    assert (h.format, h.mode, h.width, h.height, h.bits, h.orientation) == \
        ('PNG', 'L', 7, 4, 8, 1)
    assert h.shape_text == '4x7 (H x W)'


@pytest.mark.parametrize('arr,bits', [
    (np.zeros((3, 5), np.uint16), 16),
    (np.zeros((3, 5, 3), np.uint16), 16),  # 48-bit RGB: Pillow says 'RGB'
    (np.zeros((3, 5, 3), np.uint8), 8),
])
def test_bits_per_sample(arr, bits):
    h = read_image_header(_png(arr))
    assert h.bits == bits and (h.width, h.height) == (5, 3)


def test_tiff_16_bit_and_1_bit_png():
    buf = io.BytesIO()
    Image.fromarray(np.zeros((3, 5), np.uint16)).save(buf, 'TIFF')
    assert read_image_header(buf.getvalue()).bits == 16
    buf = io.BytesIO()
    Image.new('1', (5, 3)).save(buf, 'PNG')
    assert read_image_header(buf.getvalue()).bits == 1


@pytest.mark.parametrize('fmt', ['JPEG', 'PNG'])
def test_exif_orientation(fmt):
    assert read_image_header(_with_orientation(fmt, 6)).orientation == 6
    assert read_image_header(_with_orientation(fmt, 1)).orientation == 1
    h = read_image_header(_with_orientation(fmt, 8))
    assert h.orientation == 8 and (h.width, h.height) == (9, 6)  # as stored


def test_pixels_are_not_decoded():
    data = _png(np.arange(200, dtype=np.uint8).reshape(10, 20))
    h = read_image_header(data[:len(data) - 40])  # truncated pixel data
    assert (h.width, h.height, h.bits) == (20, 10, 8)


def test_unreadable_file_raises_naming_it(tmp_path):
    path = tmp_path / 'bad.png'
    path.write_bytes(b'not an image')
    with pytest.raises(OSError, match=r"cannot read the image header of "
                       r"'.*bad\.png'"):
        read_image_header(str(path))
    with pytest.raises(OSError, match=r"header of 'zip:x\.jpg'"):
        read_image_header(b'nothing', 'zip:x.jpg')
