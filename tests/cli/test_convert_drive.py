"""The command line of tools/dataset_converters/drive.py
(``sgdc_mmseg.cli.convert_drive``), in process: exit status, messages and
options reaching the converter."""
import os.path as osp
import sys

import pytest
from helpers import REPO_ROOT

from sgdc_mmseg.cli import convert_drive

sys.path.insert(0, osp.join(REPO_ROOT, 'tests', 'datasets'))
from converters.archives import read_lines  # noqa: E402
from converters.drive_archives import make_drive  # noqa: E402


def test_converts_with_folds_and_seed(tmp_path, capsys):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_drive(source, 'DRIVE.zip')
    assert convert_drive.main([source, '-o', out, '--folds', '2',
                               '--seed', '3']) == 0
    stdout = capsys.readouterr().out
    assert 'drive: 7 sample(s)' in stdout and 'fov/' in stdout
    assert len(read_lines(osp.join(out, 'splits', 'fold1_val.txt'))) in (2,
                                                                         3)
    assert not osp.exists(osp.join(out, 'splits', 'fold2_val.txt'))


def test_refused_input_exits_1_naming_the_file(tmp_path, capsys):
    source = str(tmp_path / 'src')
    make_drive(source, 'dir')
    bad = osp.join(source, 'DRIVE', 'test', 'mask', '01_test_mask.gif')
    with open(bad, 'wb') as f:
        f.write(b'GIF89a broken')
    assert convert_drive.main([source, '-o', str(tmp_path / 'out')]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: drive: 1 of 7 sample(s) failed')
    assert '01_test_mask.gif' in err


def test_bad_arguments_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        convert_drive.main([str(tmp_path), '-o', str(tmp_path / 'o'),
                            '--folds', '1'])
    assert e.value.code == 2
    assert '--folds must be 0 (no folds) or >= 2' in capsys.readouterr().err


def test_help_names_the_layout_and_the_outputs():
    text = convert_drive.build_parser().format_help()
    for word in ('1st_manual/NN_manual1.gif', 'fov/<stem>.png',
                 'masks_2nd/<stem>.png', 'Split protocol'):
        assert word in text, word
