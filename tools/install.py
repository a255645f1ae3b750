#!/usr/bin/env python
"""Install sgdc_mmseg and its dependencies into the active Python environment.

One command, no virtual environment of its own, a C++ compiler optional::

    python tools/install.py

* torch: an installed torch is kept; without one, ``torch==2.13.0`` (CPU) is
  installed (pass ``--torch SPEC`` to choose another).
* mmcv: an installed full mmcv (2.0.x-2.1.x, with compiled ops) is kept
  untouched; otherwise ``mmcv-lite==2.1.0`` is installed and sgdc_mmseg makes
  missing compiled ops fail only when called. Never both.
* sgdc_mmseg itself in editable mode, plus the test requirements (pytest,
  and triton on Linux so the Triton kernels are tested on the CPU).
* ``--extras onnx``: also the optional ``onnx``, ``onnxruntime`` and
  ``onnxscript`` (ONNX export of SGDC models and its tests; without them
  those tests skip). ``--extras tensorboard``: ``tensorboard`` for mmengine's
  ``TensorboardVisBackend`` (docs/mmseg_users.md).
* a start-up hook in the interpreter's site-packages
  (``sgdc_mmseg_startup.pth`` + ``sgdc_mmseg_startup.py``, see
  ``sgdc_mmseg/compat/startup_hook.py``): with mmcv-lite, mmseg's own
  imports and tools (``import mmseg.models``, ``MMSegInferencer``,
  ``browse_dataset.py``) then work without importing sgdc_mmseg first. It
  imports nothing at start-up and does nothing with full mmcv.
  ``--no-startup-hook`` skips it (and removes one installed before).
* the C++ kernel of the ``'cpp'`` aggregation backend (the fast CPU path,
  ``sgdc_mmseg/ops/backends/cpp.py``) is built once into PyTorch's
  extension cache when a C++ compiler is found (ninja is a dependency);
  without one the install still succeeds and CPU tensors use the
  ``'shift'`` backend (the reason is printed).
Extra arguments after ``--`` go to pip.
"""
import argparse
import importlib.util
import os
import subprocess
import sys
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_startup_hook():
    """``sgdc_mmseg/compat/startup_hook.py`` of this checkout, loaded by path:
    it needs only the standard library, and the package cannot be imported
    in this process (its dependencies may not be installed yet)."""
    path = os.path.join(ROOT, 'sgdc_mmseg', 'compat', 'startup_hook.py')
    spec = importlib.util.spec_from_file_location('sgdc_install_hook', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


startup_hook = _load_startup_hook()


def _installed(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def choose_mmcv():
    """Return the requirement to add for mmcv, or None to keep what exists."""
    full = _installed('mmcv')
    if full is not None:
        major_minor = tuple(int(p) for p in full.split('.')[:2])
        if not (2, 0) <= major_minor < (2, 2):
            sys.exit(f'tools/install.py: full mmcv {full} is installed, but '
                     'mmsegmentation 1.2.2 needs mmcv>=2.0.0,<2.2.0.')
        if importlib.util.find_spec('mmcv._ext') is None:
            print(f'[install] mmcv {full} is installed without compiled ops; '
                  'keeping it (missing ops fail when called).')
        else:
            print(f'[install] keeping full mmcv {full} (compiled ops found).')
        return None
    lite = _installed('mmcv-lite')
    if lite == '2.1.0':
        print('[install] mmcv-lite 2.1.0 already installed.')
        return None
    print('[install] no full mmcv found: installing mmcv-lite==2.1.0.')
    return 'mmcv-lite==2.1.0'


#: Optional extras of setup.py that ``--extras`` may add.
OPTIONAL_EXTRAS = ('onnx', 'tensorboard')


def pip_target(tests=True, extras=()):
    """The editable requirement for this package: ``.``, ``.[tests]`` or
    ``.[tests,onnx]`` (extras in a fixed order, each once)."""
    unknown = sorted(set(extras) - set(OPTIONAL_EXTRAS))
    if unknown:
        raise ValueError(f'unknown extra(s) {unknown}; choose from '
                         f'{list(OPTIONAL_EXTRAS)}')
    names = (['tests'] if tests else []) + [
        e for e in OPTIONAL_EXTRAS if e in extras]
    return '.[' + ','.join(names) + ']' if names else '.'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--torch', default='torch==2.13.0',
                        help='torch requirement used only when no torch is '
                        'installed (default: %(default)s)')
    parser.add_argument('--no-tests', action='store_true',
                        help='do not install the test requirements')
    parser.add_argument('--extras', nargs='+', default=[],
                        choices=OPTIONAL_EXTRAS,
                        help='optional extras to add (onnx: onnx, '
                        'onnxruntime and onnxscript for ONNX export; '
                        'tensorboard: TensorboardVisBackend)')
    parser.add_argument('--no-startup-hook', action='store_true',
                        help='do not install the start-up hook that lets '
                        'mmseg import on mmcv-lite without importing '
                        'sgdc_mmseg first (removes an installed one)')
    parser.add_argument('pip_args', nargs='*', help='passed to pip')
    args = parser.parse_args()

    reqs = []
    torch_version = _installed('torch')
    if torch_version is None:
        print(f'[install] no torch found: installing {args.torch}.')
        reqs.append(args.torch)
    else:
        print(f'[install] keeping torch {torch_version}.')
    mmcv_req = choose_mmcv()
    if mmcv_req:
        reqs.append(mmcv_req)
    target = pip_target(not args.no_tests, args.extras)
    cmd = [sys.executable, '-m', 'pip', 'install', *reqs, '-e', target,
           *args.pip_args]
    print('[install] ' + ' '.join(cmd))
    subprocess.check_call(cmd, cwd=ROOT)
    hook = not args.no_startup_hook
    try:
        if hook:
            action, paths = startup_hook.install_startup_hook()
            print(f'[install] start-up hook {action}: ' + ', '.join(paths)
                  + ' (mmseg imports on mmcv-lite without importing '
                  'sgdc_mmseg first; --no-startup-hook removes it)')
        else:
            removed = startup_hook.remove_startup_hook()
            print('[install] start-up hook: ' + (
                'removed ' + ', '.join(removed) if removed
                else 'not installed (--no-startup-hook)'))
    except startup_hook.StartupHookError as exc:
        sys.exit(f'tools/install.py: {exc}')
    # With the hook, mmseg is imported first: the check proves the hook.
    imports = ('mmseg.models, sgdc_mmseg' if hook
               else 'sgdc_mmseg, mmseg.models')
    subprocess.check_call(
        [sys.executable, '-c',
         f'import {imports}; '
         'from sgdc_mmseg.compat import has_compiled_ops; '
         'print("[install] sgdc_mmseg", sgdc_mmseg.__version__, "ready; '
         'mmcv compiled ops:", has_compiled_ops())'], cwd='/')
    # the 'cpp' backend's kernel: built now (cached) rather than on the
    # first CPU call; a failure is reported, not fatal
    subprocess.call(
        [sys.executable, '-W', 'ignore', '-c',
         'import time; from sgdc_mmseg.ops.backends import cpp; '
         't = time.time(); v = cpp.can_run("cpu", cpp.torch.float32); '
         'print("[install] cpp aggregation kernel: " + ("built or cached "'
         'f"in {time.time() - t:.0f} s ({cpp.extension_name()})" if v else '
         '"not available, CPU tensors use the shift backend: " + v.reason))'],
        cwd='/')


if __name__ == '__main__':
    main()
