"""converters/runner.py: a failed sample stops no other, and the records of
the samples that passed survive the failed run (a rerun skips them)."""
import json
import os.path as osp

import numpy as np
import pytest

from sgdc_mmseg.datasets.converters import ConversionError, isic2016

from .archives import ISIC2016, SIZE, encode, make_isic2016


def _summary(capsys):
    return capsys.readouterr().out


def test_records_of_passed_samples_survive_a_failed_run(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2016(source)
    good = encode('.png', written['test']['ISIC_0000101'][1])
    bad = osp.join(source, ISIC2016['test'][1],
                   'ISIC_0000101_Segmentation.png')
    with open(bad, 'wb') as f:
        f.write(encode('.png', np.full(SIZE[::-1], 3, np.uint8)))
    with pytest.raises(ConversionError):
        isic2016.convert(source, out)
    with open(osp.join(out, '.conversion_pending.json')) as f:
        pending = json.load(f)
    assert sorted(pending['sample_files']) == [
        'ISIC_0000000', 'ISIC_0000001', 'ISIC_0000002', 'ISIC_0000100']
    with open(bad, 'wb') as f:
        f.write(good)
    _summary(capsys)
    isic2016.convert(source, out)
    assert '(1 written, 4 already there' in _summary(capsys)
