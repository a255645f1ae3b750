"""converters/checks.py: degenerate sizes are refused with the file and its
shape (case 7)."""
import numpy as np
import pytest

from sgdc_mmseg.cli import convert_isic2016
from sgdc_mmseg.datasets.converters import ConversionError, isic2016, ph2

from .archives import encode, make_isic2016, make_ph2


@pytest.mark.parametrize('size', [(1, 5), (5, 1), (1, 1)])
def test_degenerate_sample_is_refused_with_its_shape(tmp_path, size):
    source = str(tmp_path / 'src')
    extra = {
        'IMD004/IMD004_Dermoscopic_Image/IMD004.bmp':
        encode('.bmp', np.full(size + (3, ), 90, np.uint8)),
        'IMD004/IMD004_lesion/IMD004_lesion.bmp':
        encode('.bmp', np.full(size, 255, np.uint8)),
    }
    make_ph2(source, cases={'IMD002': (20, 16)}, extra=extra)
    with pytest.raises(ConversionError) as err:
        ph2.convert(source, str(tmp_path / 'out'))
    msg = str(err.value)
    assert 'IMD004_lesion.bmp is ' f'{size[0]}x{size[1]} (H x W)' in msg
    assert 'at least 2x2' in msg and 'IMD002' not in msg


def test_size_below_2_is_refused(tmp_path, capsys):
    source = str(tmp_path / 'src')
    make_isic2016(source)
    with pytest.raises(ConversionError, match=r'integers >= 2'):
        isic2016.convert(source, str(tmp_path / 'out'), size=(1, 8))
    with pytest.raises(SystemExit):
        convert_isic2016.main([source, '-o', str(tmp_path / 'o'), '--size',
                               '1'])
    assert 'integers >= 2' in capsys.readouterr().err
