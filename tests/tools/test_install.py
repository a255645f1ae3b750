"""tools/install.py picks torch and mmcv without ever requiring both mmcvs."""
import importlib.util
import os.path as osp

import pytest

from helpers import REPO_ROOT


@pytest.fixture
def install():
    spec = importlib.util.spec_from_file_location(
        'sgdc_install', osp.join(REPO_ROOT, 'tools', 'install.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake(monkeypatch, install, versions, has_ext):
    monkeypatch.setattr(install, '_installed', versions.get)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        install.importlib.util, 'find_spec',
        lambda name: (object() if has_ext else None)
        if name == 'mmcv._ext' else real(name))


def test_full_mmcv_is_kept(monkeypatch, install):
    fake(monkeypatch, install, {'mmcv': '2.1.0'}, has_ext=True)
    assert install.choose_mmcv() is None


def test_lite_when_no_mmcv(monkeypatch, install):
    fake(monkeypatch, install, {}, has_ext=False)
    assert install.choose_mmcv() == 'mmcv-lite==2.1.0'


def test_lite_already_there(monkeypatch, install):
    fake(monkeypatch, install, {'mmcv-lite': '2.1.0'}, has_ext=False)
    assert install.choose_mmcv() is None


def test_incompatible_full_mmcv_is_an_error(monkeypatch, install):
    fake(monkeypatch, install, {'mmcv': '2.2.0'}, has_ext=True)
    with pytest.raises(SystemExit, match='mmcv>=2.0.0,<2.2.0'):
        install.choose_mmcv()
