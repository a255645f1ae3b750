"""Make mmseg importable on ``mmcv-lite`` (mmcv without compiled ops).

``mmcv-lite`` ships the same ``mmcv`` Python package as full mmcv but no
``mmcv._ext`` extension. ``mmcv.ops`` loads that extension at import time, and
``mmseg.utils`` imports ``mmcv.ops``, so ``import mmseg.models`` fails even
though no SGDC model calls a compiled op.

:func:`install_missing_ext` registers a stand-in ``mmcv._ext`` module whose
attributes are placeholders: importing works, and calling any compiled op
raises :class:`MissingMMCVOpError` naming the op and how to get full mmcv.
With full mmcv installed (``mmcv._ext`` importable) nothing is changed.
"""
import importlib.machinery
import importlib.util
import sys
import types

EXT_NAME = 'mmcv._ext'

BUILD_HINT = (
    'Install full mmcv with compiled ops instead of mmcv-lite (about 14 min '
    'on 2 CPU cores): pip uninstall -y mmcv-lite && pip install "setuptools<70" '
    'wheel ninja && pip install --no-build-isolation mmcv==2.1.0')

# Functions that only report how mmcv was built. mmengine's ``collect_env``
# calls them when a runner starts; they answer instead of raising.
_INFO_FUNCS = {
    'get_compiler_version': 'n/a (mmcv-lite: no compiled ops)',
    'get_compiling_cuda_version': 'n/a (mmcv-lite: no compiled ops)',
}


class MissingMMCVOpError(RuntimeError):
    """Raised when a compiled mmcv op is called under mmcv-lite."""


class _MissingOp:
    """Callable placeholder for one compiled op of ``mmcv._ext``."""

    def __init__(self, name):
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        raise MissingMMCVOpError(
            f'mmcv op "{self.__name__}" is not available: the installed mmcv '
            f'has no compiled ops (mmcv-lite). {BUILD_HINT}')

    def __repr__(self):
        return f'<missing mmcv op {self.__name__}>'


class _MissingExtModule(types.ModuleType):
    """Stand-in for ``mmcv._ext``: every attribute is a missing op."""

    is_sgdc_mmseg_placeholder = True

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        if name in _INFO_FUNCS:
            value = _INFO_FUNCS[name]
            return lambda: value
        return _MissingOp(name)


def has_compiled_ops():
    """Whether a real ``mmcv._ext`` is installed."""
    module = sys.modules.get(EXT_NAME)
    if module is not None:
        return not getattr(module, 'is_sgdc_mmseg_placeholder', False)
    try:
        return importlib.util.find_spec(EXT_NAME) is not None
    except ModuleNotFoundError:  # mmcv itself is missing
        return False


def install_missing_ext():
    """Register the placeholder ``mmcv._ext`` unless a real one exists.

    Returns:
        bool: True when the placeholder is (now) in use.
    """
    if EXT_NAME in sys.modules:
        return getattr(sys.modules[EXT_NAME], 'is_sgdc_mmseg_placeholder',
                       False)
    if has_compiled_ops():
        return False
    if importlib.util.find_spec('mmcv') is None:
        raise ModuleNotFoundError(
            'sgdc_mmseg needs mmcv (full mmcv 2.0.x-2.1.x or mmcv-lite==2.1.0); '
            'run the set-up command from the README.')
    module = _MissingExtModule(EXT_NAME)
    module.__doc__ = ('Placeholder registered by sgdc_mmseg: mmcv-lite has '
                      'no compiled ops.')
    # A spec without a loader: ``importlib.util.find_spec``/``pkgutil`` then
    # answer "no loader" instead of raising ValueError (``__spec__ is None``),
    # so mmengine's ``mmcv_full_available()`` correctly reports False.
    module.__spec__ = importlib.machinery.ModuleSpec(EXT_NAME, None)
    sys.modules[EXT_NAME] = module
    import mmcv
    mmcv._ext = module
    return True
