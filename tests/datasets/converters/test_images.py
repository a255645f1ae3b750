"""converters/images.py: every image and mask is decoded in full, also a
JPEG that is copied byte for byte (case 4: corrupt sources are refused)."""
import json
import os.path as osp
import shutil

import numpy as np
import pytest

from sgdc_mmseg.datasets.converters import ConversionError, isic2016
from sgdc_mmseg.datasets.converters.images import check_decodes

from .archives import ISIC2016, encode, make_isic2016, write_folder

TRAIN_IMAGES = ISIC2016['train'][0]


@pytest.mark.parametrize('mode', ['dir', 'zip'])
def test_truncated_isic_jpeg_is_refused_naming_it(tmp_path, mode):
    """The JPEG is copied byte for byte; it used to be copied without being
    decoded, so training failed later on the output copy."""
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2016(source, 'dir')
    jpeg = written['train']['ISIC_0000001'][0]
    files = {f'{n}.jpg': j for n, (j, _) in written['train'].items()}
    files['ISIC_0000001.jpg'] = jpeg[:len(jpeg) - 40]  # header intact
    if mode == 'zip':
        shutil.rmtree(osp.join(source, TRAIN_IMAGES))
    write_folder(source, TRAIN_IMAGES, files, mode)
    with pytest.raises(ConversionError) as err:
        isic2016.convert(source, out)
    msg = str(err.value)
    assert '1 of 5 sample(s) failed' in msg
    assert 'cannot decode the image' in msg and 'truncated' in msg
    assert 'ISIC_0000001.jpg' in msg and 'ISIC_0000002' not in msg
    assert not osp.exists(osp.join(out, 'conversion.json'))
    assert not osp.exists(osp.join(out, 'images', 'ISIC_0000001.jpg'))


def test_truncated_or_garbage_files_are_refused_by_check_decodes():
    rng = np.random.default_rng(0)
    png = encode('.png', rng.integers(0, 256, (30, 40), dtype=np.uint8))
    with pytest.raises(ConversionError, match=r'cannot decode the mask '
                       r'a/m\.png \(truncated or corrupt\?\)'):
        check_decodes(png[:len(png) // 2], 'a/m.png', 'mask')
    with pytest.raises(ConversionError, match='cannot decode the image x'):
        check_decodes(b'garbage', 'x')
    check_decodes(png, 'fine.png')  # no error
