"""``sgdc_mmseg::`` config paths (sgdc_mmseg.compat.config_scope) from the
source tree; the wheel's ``.mim`` is tested in tests/test_packaging.py."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.config import utils as mm_config_utils

import sgdc_mmseg  # noqa: F401  (applies the compat layer)
from sgdc_mmseg.compat import config_scope

from helpers import REPO_ROOT


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_scope_is_registered_with_mmengine():
    assert mm_config_utils.MODULE2PACKAGE['sgdc_mmseg'] == 'sgdc_mmseg'
    assert mm_config_utils.MODULE2PACKAGE['mmseg'] == 'mmsegmentation'
    assert config_scope.package_dir() == osp.join(REPO_ROOT, 'sgdc_mmseg')
    # a source tree: no .mim, the tree's own configs/
    assert config_scope.mim_root() == REPO_ROOT


def test_base_and_full_configs_resolve_from_the_source_tree(tmp_path):
    path = _write(tmp_path / 'mine.py', (
        "_base_ = ['sgdc_mmseg::_base_/models/sgdc_r50.py',\n"
        "          'sgdc_mmseg::_base_/schedules/adamw_600it.py']\n"
        "model = dict(decode_head=dict(num_classes=5))\n"))
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.type == 'ResNetV1c'
    assert cfg.model.decode_head.num_classes == 5
    assert cfg.model.decode_head.channels == 256  # from the base
    assert cfg.train_cfg.max_iters == 600
    path = _write(tmp_path / 'full.py', (
        "_base_ = ['sgdc_mmseg::sgdc/"
        "sgdc_r18-tiny_1xb8-600_synthetic-lesion-128x128.py']\n"
        "train_cfg = dict(max_iters=7)\n"))
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.depth == 18 and cfg.train_cfg.max_iters == 7


def test_other_scopes_are_mmengines(tmp_path):
    path = _write(tmp_path / 'mm.py',
                  "_base_ = ['mmseg::_base_/models/upernet_r50.py']\n")
    assert Config.fromfile(path).model.pretrained == \
        'open-mmlab://resnet50_v1c'


def test_missing_config_names_the_file(tmp_path):
    path = _write(tmp_path / 'bad.py',
                  "_base_ = ['sgdc_mmseg::_base_/models/nope.py']\n")
    with pytest.raises(FileNotFoundError,
                       match=r'configs/_base_/models/nope\.py'):
        Config.fromfile(path)


def test_installed_package_with_mim_uses_mmengines_lookup(tmp_path):
    """A package folder with ``.mim`` (a wheel) is resolved by mmengine's
    own functions in that folder (what the wheel test runs end to end)."""
    pkg = tmp_path / 'sgdc_mmseg'
    (pkg / '.mim' / 'configs' / 'x').mkdir(parents=True)
    assert config_scope.mim_root(str(pkg)) == str(pkg / '.mim')
    (tmp_path / 'bare').mkdir()
    assert config_scope.mim_root(str(tmp_path / 'bare' / 'pkg')) is None
