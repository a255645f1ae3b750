"""A start-up hook that lets mmseg import on ``mmcv-lite`` in every process.

``import sgdc_mmseg`` registers a stand-in for ``mmcv._ext``
(:mod:`.mmcv_ext`), but a new Python process that imports mmseg first
(``python -c "import mmseg.models"``, mmseg's own ``tools/*.py``,
``from mmseg.apis import MMSegInferencer``) fails with ``No module named
'mmcv._ext'`` before any config can import the plugin. ``tools/install.py``
therefore writes two small files into the active interpreter's
site-packages (:func:`install_startup_hook`):

* ``sgdc_mmseg_startup.pth`` with the single line ``import
  sgdc_mmseg_startup`` (Python runs it at start-up; an editable, PEP 660
  install does not install ``.pth`` files of a wheel, hence this way);
* ``sgdc_mmseg_startup.py`` (:data:`MODULE_TEXT`, standard library only),
  which puts a meta-path finder first in ``sys.meta_path`` and does nothing
  else at start-up: no torch, mmcv, mmseg or sgdc_mmseg import.

The finder never finds a module. It reacts once, when ``mmcv.ops`` (the only
importer of ``mmcv._ext``) is first requested:

1. if ``mmcv._ext`` is importable (full mmcv with compiled ops) or already
   imported, it does nothing;
2. if the environment variable ``SGDC_MMSEG_STARTUP_HOOK`` is ``0``, or
   sgdc_mmseg is not installed (any more), it does nothing, silently;
3. otherwise it locates the sgdc_mmseg package with
   ``importlib.util.find_spec`` (which does not import it), loads this file
   by path and calls :func:`activate`, which loads :mod:`.mmcv_ext` by path
   under its own name ``sgdc_mmseg.compat.mmcv_ext`` (so a later
   ``import sgdc_mmseg`` reuses that module: one stand-in, one
   ``MissingMMCVOpError`` class) and registers the stand-in. The package's
   ``__init__`` (torch, mmseg, the registries) is not run. An unexpected
   failure there is reported as a warning naming this file; the import of
   ``mmcv.ops`` then continues as without the hook.

It acts on the request for ``mmcv.ops``, not on the request for
``mmcv._ext`` itself, so that ``importlib.util.find_spec('mmcv._ext')`` and
``pkgutil.find_loader('mmcv._ext')`` (mmengine's ``mmcv_full_available()``)
keep answering "no compiled ops" on mmcv-lite: a finder that answered
``mmcv._ext`` would have to return a loader, and those checks read any
loader as "full mmcv".

Installing is idempotent (files with the same text are left as they are,
older versions of ours are replaced) and never replaces a file of the same
name that sgdc_mmseg did not write (:class:`StartupHookError` names it).
:func:`remove_startup_hook` deletes only our files.
"""
import importlib.util
import os
import os.path as osp
import sys
import sysconfig

#: Name of the ``.pth`` file and of the module it imports at start-up.
PTH_NAME = 'sgdc_mmseg_startup.pth'
MODULE_NAME = 'sgdc_mmseg_startup'
#: Environment variable: ``0`` turns the installed hook off.
DISABLE_ENV = 'SGDC_MMSEG_STARTUP_HOOK'
#: First line of both files; only files starting with it are ours.
MARKER = '# Written by sgdc_mmseg (sgdc_mmseg/compat/startup_hook.py).'
#: The module whose first request triggers the hook.
TRIGGER = 'mmcv.ops'
EXT_MODULE = 'sgdc_mmseg.compat.mmcv_ext'
HOOK_MODULE = 'sgdc_mmseg.compat.startup_hook'

PTH_TEXT = f'''{MARKER}
# Lets mmseg import on mmcv-lite without importing sgdc_mmseg first; see
# {MODULE_NAME}.py next to this file.
import {MODULE_NAME}
'''

MODULE_TEXT = f'''{MARKER}
# Remove: `python tools/install.py --no-startup-hook`, or delete this file
# and {PTH_NAME}. Off for one process: {DISABLE_ENV}=0.
"""Start-up hook of sgdc_mmseg: mmseg imports on mmcv-lite in any process.

Imports nothing at start-up. On the first request for ``{TRIGGER}``, if
mmcv has no compiled ``mmcv._ext``, runs ``compat/startup_hook.py`` of the
installed sgdc_mmseg (without importing the sgdc_mmseg package), which
registers sgdc_mmseg's stand-in for ``mmcv._ext``. Does nothing with full
mmcv, without sgdc_mmseg, or when {DISABLE_ENV}=0.
"""
import sys


class SgdcMmsegStartupFinder:
    """Finds nothing; reacts once to the first request for ``{TRIGGER}``."""

    triggered = False

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == {TRIGGER!r} and not cls.triggered:
            cls.triggered = True
            cls.on_trigger()
        return None

    @staticmethod
    def on_trigger():
        import importlib.util
        import os
        if os.environ.get({DISABLE_ENV!r}) == '0':
            return
        if 'mmcv._ext' in sys.modules or \\
                importlib.util.find_spec('mmcv._ext') is not None:
            return  # full mmcv, or a stand-in is already in place
        try:
            spec = importlib.util.find_spec('sgdc_mmseg')
        except (ImportError, ValueError):
            spec = None
        hook = None
        for folder in (spec.submodule_search_locations or ()) if spec else ():
            path = os.path.join(folder, 'compat', 'startup_hook.py')
            if os.path.isfile(path):
                hook = path
                break
        if hook is None:
            return  # sgdc_mmseg is not installed (any more)
        try:
            module = sys.modules.get({HOOK_MODULE!r})
            if module is None:
                spec = importlib.util.spec_from_file_location(
                    {HOOK_MODULE!r}, hook)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                sys.modules[{HOOK_MODULE!r}] = module
            module.activate(os.path.dirname(os.path.dirname(hook)))
        except Exception as exc:
            import warnings
            warnings.warn(
                f'sgdc_mmseg start-up hook {{__file__}} failed in {{hook}}: '
                f'{{exc!r}}; import sgdc_mmseg before mmseg instead.')


if SgdcMmsegStartupFinder not in sys.meta_path:
    sys.meta_path.insert(0, SgdcMmsegStartupFinder)
'''


class StartupHookError(RuntimeError):
    """The start-up hook cannot be written or removed (names the path)."""


def activate(package_dir):
    """Register sgdc_mmseg's ``mmcv._ext`` stand-in without importing the
    sgdc_mmseg package (what the installed hook calls).

    Args:
        package_dir (str): The ``sgdc_mmseg`` package folder.

    Returns:
        bool: True when the stand-in is (now) in use, False with full mmcv
        (as :func:`~.mmcv_ext.install_missing_ext`).
    """
    module = sys.modules.get(EXT_MODULE)
    if module is None:
        path = osp.join(package_dir, 'compat', 'mmcv_ext.py')
        spec = importlib.util.spec_from_file_location(EXT_MODULE, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[EXT_MODULE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[EXT_MODULE]
            raise
    return module.install_missing_ext()


def default_site_dir():
    """The active interpreter's site-packages (``purelib``): where pip
    installs, also inside a virtual environment."""
    return sysconfig.get_paths()['purelib']


def hook_files(site_dir):
    """``{path: text}`` of the two files the hook consists of, module first
    (written before the ``.pth`` that imports it)."""
    return {osp.join(site_dir, MODULE_NAME + '.py'): MODULE_TEXT,
            osp.join(site_dir, PTH_NAME): PTH_TEXT}


def _read(path):
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StartupHookError(f'cannot read {path}: {exc}') from exc


def _check_ours(path, text):
    if text is not None and not text.startswith(MARKER):
        raise StartupHookError(
            f'{path} exists and was not written by sgdc_mmseg; leaving it '
            'untouched. Remove or rename it, or pass --no-startup-hook to '
            'tools/install.py.')


def install_startup_hook(site_dir=None):
    """Write (or bring up to date) the start-up hook in ``site_dir``.

    Args:
        site_dir (str, optional): Default: :func:`default_site_dir`.

    Returns:
        tuple[str, list[str]]: ``('installed' | 'updated' | 'unchanged',
        paths of the two files)``.

    Raises:
        StartupHookError: ``site_dir`` is missing or not writable, or a file
            of the same name was not written by sgdc_mmseg.
    """
    site_dir = site_dir or default_site_dir()
    if not osp.isdir(site_dir):
        raise StartupHookError(f'site-packages folder {site_dir} does not '
                               'exist')
    files = hook_files(site_dir)
    current = {path: _read(path) for path in files}
    for path, text in current.items():
        _check_ours(path, text)
    changed = [path for path, text in files.items() if current[path] != text]
    for path in changed:
        tmp = f'{path}.{os.getpid()}.tmp'
        try:
            with open(tmp, 'w', encoding='utf-8') as f:
                f.write(files[path])
            os.replace(tmp, path)
        except OSError as exc:
            if osp.exists(tmp):
                os.remove(tmp)
            raise StartupHookError(
                f'cannot write {path}: {exc}. Run with permission to write '
                f'to {site_dir}, or pass --no-startup-hook to '
                'tools/install.py.') from exc
    if not changed:
        action = 'unchanged'
    elif all(text is None for text in current.values()):
        action = 'installed'
    else:
        action = 'updated'
    return action, list(files)


def remove_startup_hook(site_dir=None):
    """Delete the hook's files from ``site_dir`` (only files sgdc_mmseg
    wrote, ``.pth`` first, and the module's cached byte code); returns the
    removed paths (without the byte code)."""
    site_dir = site_dir or default_site_dir()
    files = list(hook_files(site_dir))[::-1]
    current = {path: _read(path) for path in files}
    for path, text in current.items():
        _check_ours(path, text)
    removed = []
    for path in files:
        if current[path] is not None:
            try:
                os.remove(path)
            except OSError as exc:
                raise StartupHookError(f'cannot remove {path}: {exc}') from exc
            removed.append(path)
    # the byte code Python cached for the module (ignored without it anyway)
    cached = importlib.util.cache_from_source(
        osp.join(site_dir, MODULE_NAME + '.py'))
    if osp.isfile(cached):
        os.remove(cached)
    return removed
