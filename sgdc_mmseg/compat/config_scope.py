"""Teach mmengine the config scope ``sgdc_mmseg::``.

Like OpenMMLab projects, sgdc_mmseg ships its configs in the wheel under
``sgdc_mmseg/.mim/configs`` (with ``.mim/model-index.yml`` and
``.mim/tools``; see setup.py), so that other configs can inherit them as
``_base_ = ['sgdc_mmseg::_base_/models/sgdc_r50.py']`` or
``['sgdc_mmseg::sgdc/sgdc_r50_1xb8-20k_isic2016-256x256.py']``. mmengine
0.10.7 resolves ``PACKAGE::path`` as follows (``Config._get_cfg_path``):

1. ``_get_package_and_cfg_path`` asserts that ``PACKAGE`` is a key of its
   hard-coded table ``mmengine.config.utils.MODULE2PACKAGE`` (module name ->
   distribution name), which lists only OpenMMLab's own projects;
2. ``get_installed_path(distribution)`` finds the package folder: for an
   installed distribution ``<location>/<name>``, which for an editable
   (PEP 660) install is the site-packages folder holding the ``.dist-info``
   and has no ``sgdc_mmseg/`` in it;
3. the config is looked up in ``<folder>/.mim/model-index.yml`` and the
   metafiles it imports, and otherwise taken as
   ``<folder>/.mim/configs/<path>``.

:func:`install_config_scope` (run once by ``import sgdc_mmseg``, i.e. by our
tools and by every config's ``custom_imports``) adds
``'sgdc_mmseg': 'sgdc_mmseg'`` to ``MODULE2PACKAGE`` and replaces three
module-level names of ``mmengine.config.config``, each answering as mmengine
for every other package: ``get_installed_path`` answers the folder of the
imported ``sgdc_mmseg`` package; where that folder has a ``.mim`` (a wheel)
mmengine's own lookups run in it; in a source tree (an editable install, or
the repository on ``PYTHONPATH``: no ``.mim``) the config is
``<tree>/configs/<path>`` (:func:`mim_root`). A path that exists in neither
raises mmengine's ``FileNotFoundError`` naming the file looked for.
"""
import os.path as osp

__all__ = ['SCOPE', 'package_dir', 'mim_root', 'get_installed_path',
           'get_external_cfg_path', 'get_external_cfg_base_path',
           'install_config_scope']

SCOPE = 'sgdc_mmseg'
_INSTALLED = False


def package_dir():
    """The folder of the imported ``sgdc_mmseg`` package."""
    return osp.dirname(osp.dirname(osp.abspath(__file__)))


def mim_root(pkg_dir=None):
    """Where ``configs/``, ``tools/`` and ``model-index.yml`` are.

    ``<package>/.mim`` in an installed wheel; in a source tree (no
    ``.mim``), the folder above the package when it has ``configs/``;
    ``None`` otherwise.
    """
    pkg_dir = pkg_dir or package_dir()
    mim = osp.join(pkg_dir, '.mim')
    if osp.isdir(mim):
        return mim
    tree = osp.dirname(pkg_dir)
    if osp.isdir(osp.join(tree, 'configs')):
        return tree
    return None


def _is_ours(package_path):
    return osp.normpath(str(package_path)) == osp.normpath(package_dir())


def get_installed_path(package):
    """mmengine's ``get_installed_path``, answering the imported package's
    folder for ``sgdc_mmseg``."""
    if package == SCOPE:
        return package_dir()
    return _MM['get_installed_path'](package)


def get_external_cfg_path(package_path, cfg_file):
    """mmengine's ``_get_external_cfg_path`` (a config listed in the
    metafiles); in a source tree nothing is looked up there (``ValueError``,
    as for an unlisted config), so mmengine goes on with
    :func:`get_external_cfg_base_path`."""
    if _is_ours(package_path) and not _has_mim():
        raise ValueError(f'{cfg_file}: configs of a source tree are found '
                         'by their path')
    return _MM['_get_external_cfg_path'](package_path, cfg_file)


def get_external_cfg_base_path(package_path, cfg_name):
    """mmengine's ``_get_external_cfg_base_path``
    (``<package>/.mim/configs/<cfg_name>``); in a source tree
    ``<tree>/configs/<cfg_name>``."""
    if _is_ours(package_path) and not _has_mim():
        from mmengine.utils import check_file_exist
        root = mim_root()
        if root is None:
            raise FileNotFoundError(
                f'{SCOPE}::{cfg_name}: the {SCOPE} package in '
                f'"{package_dir()}" has no configs (neither .mim/configs '
                'nor a source tree\'s configs/ next to it)')
        path = osp.join(root, 'configs', cfg_name)
        check_file_exist(path)
        return path
    return _MM['_get_external_cfg_base_path'](package_path, cfg_name)


def _has_mim():
    return osp.isdir(osp.join(package_dir(), '.mim'))


_MM = {}


def install_config_scope():
    """Register the scope with mmengine (once; later calls do nothing)."""
    global _INSTALLED
    if _INSTALLED:
        return
    import mmengine.config.config as mm_config
    from mmengine.config import utils as mm_utils
    mm_utils.MODULE2PACKAGE.setdefault(SCOPE, SCOPE)
    for name, own in (('get_installed_path', get_installed_path),
                      ('_get_external_cfg_path', get_external_cfg_path),
                      ('_get_external_cfg_base_path',
                       get_external_cfg_base_path)):
        _MM[name] = getattr(mm_config, name)
        setattr(mm_config, name, own)
    _INSTALLED = True
