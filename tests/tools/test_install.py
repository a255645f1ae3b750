"""tools/install.py picks torch and mmcv without ever requiring both mmcvs."""
import importlib.util
import os.path as osp

import pytest

from helpers import REPO_ROOT


@pytest.fixture
def site_dir(tmp_path):
    """Stands in for the interpreter's site-packages (never the real one)."""
    path = tmp_path / 'site-packages'
    path.mkdir()
    return path


@pytest.fixture
def install(monkeypatch, site_dir):
    spec = importlib.util.spec_from_file_location(
        'sgdc_install', osp.join(REPO_ROOT, 'tools', 'install.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module.startup_hook, 'default_site_dir',
                        lambda: str(site_dir))
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


def _run_main(monkeypatch, install, *argv):
    """main() with pip and the check recorded, not run."""
    calls = []
    monkeypatch.setattr(install, '_installed',
                        {'torch': '2.13.0', 'mmcv-lite': '2.1.0'}.get)
    monkeypatch.setattr(install.subprocess, 'check_call',
                        lambda cmd, cwd=None: calls.append(cmd))
    monkeypatch.setattr(install.sys, 'argv', ['install.py', *argv])
    install.main()
    return calls


def test_extras_flag_reaches_pip(monkeypatch, install):
    calls = _run_main(monkeypatch, install, '--extras', 'onnx')
    assert calls[0][-2:] == ['-e', '.[tests,onnx]']
    calls = _run_main(monkeypatch, install, '--extras', 'tensorboard',
                      'onnx')
    assert calls[0][-2:] == ['-e', '.[tests,onnx,tensorboard]']


def test_startup_hook_installed_and_checked_mmseg_first(
        monkeypatch, install, site_dir, capsys):
    calls = _run_main(monkeypatch, install)
    hook = install.startup_hook
    pth = site_dir / hook.PTH_NAME
    module = site_dir / (hook.MODULE_NAME + '.py')
    assert pth.read_text() == hook.PTH_TEXT
    assert module.read_text() == hook.MODULE_TEXT
    out = capsys.readouterr().out
    assert f'[install] start-up hook installed: {module}, {pth}' in out
    # the final check imports mmseg before sgdc_mmseg: it needs the hook
    assert calls[-1][2].startswith('import mmseg.models, sgdc_mmseg;')
    _run_main(monkeypatch, install)  # idempotent
    assert '[install] start-up hook unchanged' in capsys.readouterr().out


def test_no_startup_hook_removes_ours(monkeypatch, install, site_dir,
                                      capsys):
    install.startup_hook.install_startup_hook(str(site_dir))
    calls = _run_main(monkeypatch, install, '--no-startup-hook')
    assert list(site_dir.iterdir()) == []
    assert '[install] start-up hook: removed ' in capsys.readouterr().out
    assert calls[-1][2].startswith('import sgdc_mmseg, mmseg.models;')
    _run_main(monkeypatch, install, '--no-startup-hook')
    assert 'not installed (--no-startup-hook)' in capsys.readouterr().out


def test_foreign_pth_stops_install_naming_it(monkeypatch, install,
                                            site_dir):
    foreign = site_dir / install.startup_hook.PTH_NAME
    foreign.write_text('import other\n')
    with pytest.raises(SystemExit, match=f'tools/install.py: {foreign} '
                       'exists and was not written by sgdc_mmseg'):
        _run_main(monkeypatch, install)
    assert foreign.read_text() == 'import other\n'


def test_setup_declares_the_onnx_extra():
    text = open(osp.join(REPO_ROOT, 'setup.py')).read()
    assert "'onnx': ['onnx', 'onnxruntime', 'onnxscript']" in text


def test_setup_declares_the_tensorboard_extra():
    text = open(osp.join(REPO_ROOT, 'setup.py')).read()
    assert "'tensorboard': ['tensorboard']" in text
