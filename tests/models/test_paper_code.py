"""sgdc_mmseg.models.paper_code: executing the paper's files from a
checkout (patched in memory, never modified), missing files named."""
import sys

import pytest

from sgdc_mmseg.models.paper_code import (ensure_timm_droppath,
                                          load_paper_module, load_paper_sgdc)


def test_module_is_executed_with_the_patch_and_the_file_kept(tmp_path):
    path = tmp_path / 'sgdc.py'
    source = "PATTERN = 'b (hgt*wdt) c'\nNAME = __name__\n"
    path.write_text(source)
    module = load_paper_module(str(path), 'paper_x',
                               patch=('(hgt*wdt)', '(hgt wdt)'))
    assert module.PATTERN == 'b (hgt wdt) c'
    assert module.NAME == 'paper_x' and module.__file__ == str(path)
    assert 'paper_x' not in sys.modules
    assert path.read_text() == source  # read, not modified
    assert load_paper_sgdc(str(tmp_path)).PATTERN == 'b (hgt wdt) c'


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_paper_sgdc(str(tmp_path))
    assert str(err.value) == (
        f'{tmp_path}/sgdc.py not found (pass the folder of a checkout of '
        'github solstice0621/SGDC)')


def test_timm_droppath_is_importable():
    ensure_timm_droppath()
    from timm.models.layers import DropPath
    assert DropPath(0.1)
