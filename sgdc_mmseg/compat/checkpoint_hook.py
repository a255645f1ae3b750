"""``CheckpointHook(max_keep_ckpts=N)`` deletes old checkpoints only after
the new one is saved.

mmengine 0.10.7's ``CheckpointHook._save_checkpoint_with_step`` removes the
oldest kept checkpoint *before* it saves the new one (so that the list of
kept ids stored in the new checkpoint is already up to date). A run killed
during that save is left without the checkpoint it deleted: with
``max_keep_ckpts=1`` there is no complete checkpoint at all, and
``last_checkpoint`` names a file that no longer exists.

:func:`install_prune_after_save` wraps that method: while mmengine's code
runs, the hook's file backend only *records* the removals it asks for; they
are carried out after the new checkpoint has been written (atomically, see
:mod:`.checkpoint`) and ``last_checkpoint`` updated. The bookkeeping (which
ids are kept, what goes into the checkpoint) is mmengine's, unchanged; only
the moment of deletion moves. A kill in between leaves one checkpoint more
on disk than ``max_keep_ckpts``, never one less.
"""
import functools

_ORIGINAL = None


def _deferring_removals(backend, pending):
    """Context in which ``backend.remove``/``rmtree`` append to ``pending``."""

    class _Defer:

        def __enter__(self):
            for name in ('remove', 'rmtree'):
                setattr(backend, name,
                        functools.partial(_record, pending, name))

        def __exit__(self, *exc):
            for name in ('remove', 'rmtree'):
                backend.__dict__.pop(name, None)
            return False

    return _Defer()


def _record(pending, name, path, *args, **kwargs):
    pending.append((name, path, args, kwargs))


def save_then_prune(self, runner, step, meta):
    """``CheckpointHook._save_checkpoint_with_step`` with the removal of old
    checkpoints moved after the save."""
    backend = self.file_backend
    pending = []
    with _deferring_removals(backend, pending):
        _ORIGINAL(self, runner, step, meta)
    for name, path, args, kwargs in pending:
        getattr(backend, name)(path, *args, **kwargs)


def install_prune_after_save():
    """Patch ``CheckpointHook`` once (later calls do nothing)."""
    global _ORIGINAL
    from mmengine.hooks import CheckpointHook
    if _ORIGINAL is not None:
        return
    _ORIGINAL = CheckpointHook._save_checkpoint_with_step
    CheckpointHook._save_checkpoint_with_step = save_then_prune
