"""converters/output.py: writes that resolve into SOURCE (or into an input
outside it) are refused before anything is written (case 8)."""
import os
import os.path as osp
import shutil
import zipfile

import pytest

from sgdc_mmseg.datasets.converters import ConversionError, isic2016, ph2

from .archives import (ISIC2016, PH2_ROOT, make_isic2016, make_ph2,
                       snapshot)

TRAIN_MASKS = ISIC2016['train'][1]


@pytest.mark.parametrize('entry', ['masks', 'images', 'splits'])
def test_output_entry_linked_into_source_is_refused(tmp_path, entry):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source)
    isic2016.convert(source, out)
    target = osp.join(source, TRAIN_MASKS)
    path = osp.join(out, entry)
    shutil.rmtree(path)
    os.symlink(target, path)
    before = snapshot(source)
    for kwargs in ({}, {'overwrite': True}, {'size': 12}):
        with pytest.raises(ConversionError) as err:
            isic2016.convert(source, out, **kwargs)
        msg = str(err.value)
        assert repr(path) in msg and osp.realpath(target) in msg
        assert 'lies inside SOURCE' in msg and 'nothing was written' in msg
        assert snapshot(source) == before
    assert os.readlink(path) == target


def test_output_linked_into_an_input_outside_source_is_refused(tmp_path):
    """SOURCE's ground-truth folder is itself a link to a folder elsewhere,
    and OUT/masks links there too."""
    real = str(tmp_path / 'real')
    make_isic2016(real)
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    os.makedirs(source)
    for folders in ISIC2016.values():
        for folder in folders:
            os.symlink(osp.join(real, folder), osp.join(source, folder))
    os.makedirs(out)
    os.symlink(osp.join(real, TRAIN_MASKS), osp.join(out, 'masks'))
    before = snapshot(real)
    with pytest.raises(ConversionError, match='lies inside SOURCE'):
        isic2016.convert(source, out, overwrite=True)
    assert snapshot(real) == before
    # PH2's SOURCE may be a zip file: OUT next to it is not inside it
    make_ph2(str(tmp_path / 'ph2'), 'zip')
    zip_path = str(tmp_path / 'ph2' / (PH2_ROOT + '.zip'))
    assert zipfile.is_zipfile(zip_path)
    record = ph2.convert(zip_path, str(tmp_path / 'ph2' / 'out'))
    assert record['counts'] == {'all': 3}
