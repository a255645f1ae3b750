"""Compatibility of mmcv/mmengine with the installed torch, applied once.

Everything that adapts third-party packages lives here and is applied by
:func:`apply_compat` when :mod:`sgdc_mmseg` is imported:

* :mod:`.mmcv_ext` lets mmseg import under ``mmcv-lite`` (compiled ops fail
  only when called);
* :mod:`.checkpoint` makes every mmengine checkpoint loader (local files,
  ``http(s)://`` and the schemes that download through it, ``open-mmlab://``,
  ``pavi://``, ``s3://``/``petrel://``) unpickle with torch's
  ``weights_only=True`` unpickler, allow-listing exactly what mmengine
  checkpoints need; turns broken files into clear
  :class:`~.checkpoint.CheckpointError` errors; and makes saving local
  checkpoints atomic;
* :mod:`.checkpoint_hook` makes ``CheckpointHook(max_keep_ckpts=N)`` delete
  old checkpoints only after the new one is saved;
* :mod:`.flops` teaches mmengine's FLOP counter the ``sgdc_aggregate``
  operator (its handle table is private: wrapped there only).
* :mod:`.seg_visualizer` lets mmseg's ``SegLocalVisualizer`` draw on
  images that are not C-contiguous (mmseg's ``browse_dataset.py``).

:mod:`.startup_hook` is not applied here: ``tools/install.py`` installs it
into site-packages so that processes that import mmseg before sgdc_mmseg get
the same ``mmcv._ext`` stand-in (reused, not registered again, by
:func:`apply_compat`).
"""
from .mmcv_ext import MissingMMCVOpError, has_compiled_ops, install_missing_ext

# The start-up hook (.startup_hook) may have loaded .mmcv_ext before this
# package; this binds it as ``sgdc_mmseg.compat.mmcv_ext`` in that case too.
from . import mmcv_ext  # noqa: E402,F401

_APPLIED = False


def apply_compat():
    """Apply every patch once; later calls do nothing."""
    global _APPLIED
    if _APPLIED:
        return
    install_missing_ext()
    from .checkpoint import install_safe_checkpoint_loading
    install_safe_checkpoint_loading()
    from .checkpoint_hook import install_prune_after_save
    install_prune_after_save()
    from .flops import register_flop_handles
    register_flop_handles()
    from .seg_visualizer import install_contiguous_drawing  # mmseg#3405
    install_contiguous_drawing()
    from .config_scope import install_config_scope  # sgdc_mmseg:: configs
    install_config_scope()
    _APPLIED = True


__all__ = ['apply_compat', 'MissingMMCVOpError', 'has_compiled_ops',
           'install_missing_ext']
