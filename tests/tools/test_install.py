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


@pytest.mark.parametrize('tests,extras,target', [
    (True, [], '.[tests]'),
    (False, [], '.'),
    (True, ['onnx'], '.[tests,onnx]'),
    (False, ['onnx', 'onnx'], '.[onnx]'),
])
def test_pip_target_with_extras(install, tests, extras, target):
    assert install.pip_target(tests, extras) == target


def test_unknown_extra_is_an_error(install):
    with pytest.raises(ValueError, match=r"unknown extra\(s\) \['gpu'\]"):
        install.pip_target(True, ['gpu'])


def test_extras_flag_reaches_pip(monkeypatch, install):
    calls = []
    monkeypatch.setattr(install, '_installed',
                        {'torch': '2.13.0', 'mmcv-lite': '2.1.0'}.get)
    monkeypatch.setattr(install.subprocess, 'check_call',
                        lambda cmd, cwd=None: calls.append(cmd))
    monkeypatch.setattr(install.sys, 'argv',
                        ['install.py', '--extras', 'onnx'])
    install.main()
    assert calls[0][-2:] == ['-e', '.[tests,onnx]']


def test_setup_declares_the_onnx_extra():
    text = open(osp.join(REPO_ROOT, 'setup.py')).read()
    assert "'onnx': ['onnx', 'onnxruntime', 'onnxscript']" in text
