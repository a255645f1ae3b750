"""sgdc_mmseg: Structure-Guided Dynamic Convolution for mmsegmentation.

Importing this package (directly or through ``custom_imports`` in a config)
first applies the compatibility layer (:mod:`sgdc_mmseg.compat`), then
registers the models, datasets and hooks in mmseg's registries.
"""
from .compat import apply_compat

apply_compat()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'apply_compat']
