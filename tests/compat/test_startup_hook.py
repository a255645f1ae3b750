"""The start-up hook (sgdc_mmseg.compat.startup_hook): mmseg's own imports
and tools work in a new process without importing sgdc_mmseg first.

The subprocess tests install the hook into a throw-away virtual environment
(``--system-site-packages``, so it sees torch, mmcv and mmseg) and start its
interpreter: the ``.pth`` file is processed by Python's real start-up.
"""
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from helpers import tool_env
from sgdc_mmseg.compat import has_compiled_ops, startup_hook
from sgdc_mmseg.compat.startup_hook import (MARKER, MODULE_NAME, PTH_NAME,
                                            StartupHookError,
                                            install_startup_hook,
                                            remove_startup_hook)

lite_only = pytest.mark.skipif(
    has_compiled_ops(), reason='full mmcv with compiled ops is installed')


# --- the installer (no subprocess) ---------------------------------------

def test_install_writes_both_files_once(tmp_path):
    action, paths = install_startup_hook(str(tmp_path))
    assert action == 'installed'
    assert paths == [str(tmp_path / (MODULE_NAME + '.py')),
                     str(tmp_path / PTH_NAME)]
    pth = (tmp_path / PTH_NAME).read_text()
    # Python runs only lines starting with "import": exactly one, trivial.
    assert [line for line in pth.splitlines()
            if not line.startswith('#')] == [f'import {MODULE_NAME}']
    module = (tmp_path / (MODULE_NAME + '.py')).read_text()
    assert module.startswith(MARKER) and 'mmcv.ops' in module
    compile(module, MODULE_NAME, 'exec')
    before = {p: os.stat(p).st_mtime_ns for p in paths}
    assert install_startup_hook(str(tmp_path)) == ('unchanged', paths)
    assert {p: os.stat(p).st_mtime_ns for p in paths} == before
    assert sorted(os.listdir(tmp_path)) == sorted(
        [MODULE_NAME + '.py', PTH_NAME])  # no temporary files left


def test_older_version_of_ours_is_updated(tmp_path):
    install_startup_hook(str(tmp_path))
    (tmp_path / (MODULE_NAME + '.py')).write_text(MARKER + '\n# old\n')
    action, _ = install_startup_hook(str(tmp_path))
    assert action == 'updated'
    assert (tmp_path / (MODULE_NAME + '.py')).read_text() == \
        startup_hook.MODULE_TEXT


def test_foreign_file_is_never_replaced(tmp_path):
    foreign = tmp_path / PTH_NAME
    foreign.write_text('import something_else\n')
    with pytest.raises(StartupHookError,
                       match=f'{foreign}.*not written by sgdc_mmseg'):
        install_startup_hook(str(tmp_path))
    assert foreign.read_text() == 'import something_else\n'
    assert not (tmp_path / (MODULE_NAME + '.py')).exists()
    with pytest.raises(StartupHookError, match=str(foreign)):
        remove_startup_hook(str(tmp_path))
    assert foreign.exists()


def test_missing_site_dir_is_an_error(tmp_path):
    with pytest.raises(StartupHookError, match=f'{tmp_path / "nope"}.*exist'):
        install_startup_hook(str(tmp_path / 'nope'))


def test_remove_deletes_only_our_files(tmp_path):
    _, paths = install_startup_hook(str(tmp_path))
    (tmp_path / 'other.pth').write_text('import x\n')
    cache = tmp_path / '__pycache__'
    cache.mkdir()
    (cache / 'other.cpython-311.pyc').write_bytes(b'x')
    pyc = importlib.util.cache_from_source(paths[0])
    with open(pyc, 'wb') as f:  # as Python caches the imported module
        f.write(b'x')
    assert sorted(remove_startup_hook(str(tmp_path))) == sorted(paths)
    assert sorted(os.listdir(tmp_path)) == ['__pycache__', 'other.pth']
    assert os.listdir(cache) == ['other.cpython-311.pyc']
    assert remove_startup_hook(str(tmp_path)) == []


# --- a real interpreter start-up ------------------------------------------

@pytest.fixture(scope='module')
def hooked_python(tmp_path_factory):
    """``(python, site_dir)`` of a fresh venv with the hook installed."""
    root = tmp_path_factory.mktemp('venv')
    proc = subprocess.run(
        [sys.executable, '-m', 'venv', '--without-pip',
         '--system-site-packages', str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        pytest.skip(f'cannot create a venv here: {proc.stdout[-500:]}')
    python = str(root / 'bin' / 'python')
    site_dir = subprocess.check_output(
        [python, '-c', 'import sysconfig; '
         'print(sysconfig.get_paths()["purelib"])'], text=True).strip()
    # What tools/install.py does in the active interpreter, done in the venv.
    subprocess.check_call(
        [python, '-c', 'import sys, importlib.util as u; '
         f's = u.spec_from_file_location("h", {startup_hook.__file__!r}); '
         'm = u.module_from_spec(s); s.loader.exec_module(m); '
         'print(m.install_startup_hook())'])
    assert os.path.isfile(osp.join(site_dir, PTH_NAME))
    return python, site_dir


def _env(**extra):
    env = tool_env()  # sgdc_mmseg importable, as after the README's set-up
    env['OMP_NUM_THREADS'] = '1'
    env.update(extra)
    return env


def _run(python, args, cwd, env=None, timeout=180):
    return subprocess.run([python] + list(args), cwd=str(cwd),
                          env=env or _env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def _json(proc):
    assert proc.returncode == 0, proc.stdout[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_start_up_imports_nothing_heavy(hooked_python, tmp_path):
    python, site_dir = hooked_python
    out = _json(_run(python, ['-c', textwrap.dedent(f'''
        import json, sys
        hook = sys.modules.get({MODULE_NAME!r})
        print(json.dumps(dict(
            hook_file=getattr(hook, '__file__', None),
            finder=any(getattr(f, '__name__', '') == 'SgdcMmsegStartupFinder'
                       for f in sys.meta_path),
            loaded=sorted(m for m in ('torch', 'mmcv', 'mmseg', 'mmengine',
                                      'sgdc_mmseg', 'numpy')
                          if m in sys.modules))))
        ''')], tmp_path))
    assert out['hook_file'] == osp.join(site_dir, MODULE_NAME + '.py')
    assert out['finder'] is True
    assert out['loaded'] == []


_INFER = '''
import json, sys
import numpy as np
import mmseg.models
import mmseg.utils
from mmseg.apis import MMSegInferencer
sgdc_first = 'sgdc_mmseg' in sys.modules
ext = sys.modules['mmcv._ext']
from mmengine.utils.dl_utils import mmcv_full_available
full = mmcv_full_available()
inferencer = MMSegInferencer(model={cfg!r}, weights=None, device='cpu')
img = np.random.RandomState(0).randint(0, 256, (32, 32, 3), dtype=np.uint8)
pred = inferencer(img, return_datasamples=True).pred_sem_seg.data
import sgdc_mmseg  # after mmseg: the stand-in must be reused
import sgdc_mmseg.compat as compat
import torch
from mmcv.ops import nms
try:
    nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
    caught = 'no error'
except compat.MissingMMCVOpError as exc:
    caught = str(exc)
print(json.dumps(dict(
    sgdc_first=sgdc_first, full=full, caught=caught,
    head=type(inferencer.model.decode_head).__name__,
    shape=list(pred.shape), values=sorted(set(pred.unique().tolist())),
    same_ext=sys.modules['mmcv._ext'] is ext,
    ext_class_of_package=type(ext) is compat.mmcv_ext._MissingExtModule,
    one_ext_module=sys.modules['sgdc_mmseg.compat.mmcv_ext']
    is compat.mmcv_ext,
    applied=compat._APPLIED)))
'''


@lite_only
def test_mmseg_first_then_inferencer_then_sgdc_mmseg(hooked_python, tmp_path,
                                                    tiny_config):
    python, _ = hooked_python
    cfg = tiny_config()
    out = _json(_run(python, ['-c', _INFER.format(cfg=cfg)], tmp_path))
    # mmseg.models/utils and mmseg.apis imported without the plugin ...
    assert out['sgdc_first'] is False
    assert out['full'] is False  # mmengine still sees mmcv-lite
    # ... MMSegInferencer ran our SGDC model on a 32x32 image ...
    assert out['head'] == 'SGDCHead'
    assert out['shape'] == [1, 32, 32]
    assert set(out['values']) <= {0, 1}
    # ... and importing sgdc_mmseg afterwards applied compat once: the
    # hook's stand-in is the package's, kept, not registered again.
    assert out['same_ext'] and out['ext_class_of_package']
    assert out['one_ext_module'] and out['applied']
    assert '"nms" is not available' in out['caught']


def _mmseg_tool(*parts):
    import mmseg
    path = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', *parts)
    if not osp.isfile(path):
        pytest.skip(f'the installed mmseg has no {path}')
    return path


def test_mmseg_browse_dataset_and_confusion_matrix(hooked_python, tmp_path,
                                                   tiny_config,
                                                   tiny_data_root):
    python, _ = hooked_python
    # our dataset class (METAINFO with classes, which confusion_matrix.py
    # reads from the class) on the tiny images/masks
    cfg = tiny_config(extra='''
        dataset = dict(
            type='LesionFolderDataset', data_root=data_root,
            data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
            img_suffix='.png')
        train_dataloader = dict(train_dataloader,
                                dataset=dict(dataset, pipeline=test_pipeline))
        test_dataloader = dict(test_dataloader,
                               dataset=dict(dataset, pipeline=test_pipeline))
        ''')
    names = sorted(os.listdir(osp.join(tiny_data_root, 'img_dir')))
    preds = tmp_path / 'pred'
    preds.mkdir()
    for name in names:  # label maps named like the images: the truth
        shutil.copy(osp.join(tiny_data_root, 'ann_dir', name), preds / name)
    shown, saved = tmp_path / 'browse', tmp_path / 'cm'
    browse = [_mmseg_tool('analysis_tools', 'browse_dataset.py'), cfg,
              '--output-dir', str(shown), '--not-show']
    confusion = [_mmseg_tool('analysis_tools', 'confusion_matrix.py'), cfg,
                 str(preds), str(saved)]
    # Both scripts as `python SCRIPT ARGS` would run them (runpy, as
    # __main__), one after the other in one new process to keep the test
    # short: browse_dataset.py first, it imports mmseg.utils at its top.
    # (confusion_matrix.py imports only mmseg.registry and never needed
    # the hook.)
    proc = _run(python, ['-c', textwrap.dedent(f'''
        import runpy, sys
        for argv in ({browse!r}, {confusion!r}):
            sys.argv = argv
            runpy.run_path(argv[0], run_name='__main__')
            print('\\nDONE', argv[0])
        ''')], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert proc.stdout.count('DONE') == 2

    assert sorted(os.listdir(shown)) == names
    img = cv2.imread(osp.join(tiny_data_root, 'img_dir', names[0]))
    mask = cv2.imread(osp.join(tiny_data_root, 'ann_dir', names[0]), 0)
    drawn = cv2.imread(str(shown / names[0]))
    assert drawn.shape == img.shape
    # the lesion is drawn in the dataset palette's red (BGR: last channel)
    red_gain = (drawn[..., 2].astype(int) - drawn[..., 0]) - \
        (img[..., 2].astype(int) - img[..., 0])
    assert np.median(red_gain[mask == 1]) > 100
    assert abs(red_gain[mask == 0].mean()) < 20

    assert f'{len(names)}/{len(names)}' in proc.stdout
    figure = cv2.imread(str(saved / 'confusion_matrix.png'))
    assert figure is not None and figure.shape[0] > 100


_FAKE_EXT = '''\
"""A fake compiled mmcv._ext (the test stands in for full mmcv)."""
IS_FAKE = True


def __getattr__(name):
    if name.startswith('__'):
        raise AttributeError(name)
    return lambda *args, **kwargs: None
'''


def test_full_mmcv_is_left_alone(hooked_python, tmp_path):
    python, _ = hooked_python
    fake = tmp_path / 'fake_mmcv'
    fake.mkdir()
    (fake / '_ext.py').write_text(_FAKE_EXT)
    out = _json(_run(python, ['-c', textwrap.dedent(f'''
        import json, sys
        import mmcv
        mmcv.__path__.append({str(fake)!r})  # mmcv._ext now exists
        import mmcv.ops
        finder = sys.modules[{MODULE_NAME!r}].SgdcMmsegStartupFinder
        print(json.dumps(dict(
            triggered=finder.triggered,
            fake=getattr(sys.modules['mmcv._ext'], 'IS_FAKE', False),
            loaded=sorted(m for m in sys.modules if m == 'sgdc_mmseg'
                          or m.startswith('sgdc_mmseg.')))))
        ''')], tmp_path))
    assert out == dict(triggered=True, fake=True, loaded=[])


@lite_only
@pytest.mark.parametrize('case', ['sgdc_mmseg uninstalled', 'turned off'])
def test_hook_silently_does_nothing(hooked_python, tmp_path, case):
    python, _ = hooked_python
    env = _env()
    code = 'import mmcv.ops'
    if case == 'turned off':
        env[startup_hook.DISABLE_ENV] = '0'
    else:  # what find_spec answers once sgdc_mmseg is gone
        code = 'import sys; sys.modules["sgdc_mmseg"] = None; ' + code
    proc = _run(python, ['-c', code], tmp_path, env=env)
    assert proc.returncode != 0
    assert "No module named 'mmcv._ext'" in proc.stdout
    assert 'start-up hook' not in proc.stdout
    assert 'Warning' not in proc.stdout


def test_failing_hook_warns_naming_the_files(hooked_python, tmp_path):
    python, site_dir = hooked_python
    fake = tmp_path / 'fake' / 'sgdc_mmseg' / 'compat'
    fake.mkdir(parents=True)
    (fake.parent / '__init__.py').write_text('')
    (fake / 'startup_hook.py').write_text(
        'def activate(package_dir):\n'
        '    raise RuntimeError("broken on purpose")\n')
    env = _env(PYTHONPATH=str(tmp_path / 'fake'))  # this sgdc_mmseg only
    proc = _run(python, ['-c', 'import sys, importlib.util; '
                         'importlib.util.find_spec("mmcv.ops"); '
                         'print("ext" , "mmcv._ext" in sys.modules)'],
                tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    hook = osp.join(site_dir, MODULE_NAME + '.py')
    assert (f'sgdc_mmseg start-up hook {hook} failed in '
            f'{fake / "startup_hook.py"}: RuntimeError(\'broken on purpose\')'
            '; import sgdc_mmseg before mmseg instead.') in proc.stdout
    assert proc.stdout.strip().endswith('ext False')
