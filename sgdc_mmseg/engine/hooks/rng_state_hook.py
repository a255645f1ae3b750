"""Save the random number generators in checkpoints; restore them on resume.

mmengine seeds the generators once when a Runner starts, so a resumed run
draws different random numbers (data augmentation, dropout...) from the run
it continues. :class:`RNGStateHook` stores the states of Python's ``random``,
numpy's global ``RandomState``, torch's CPU generator and (when available) the
current CUDA device's generator in ``checkpoint['rng_state']`` and puts them
back when training resumes, so that an interrupted run continued with
``--resume`` reproduces the uninterrupted one (single process,
``num_workers=0``; with worker processes the workers are seeded from torch's
generator, which is restored too).

Details that make this exact:

* **Format.** The states are stored as tensors, ints, floats and lists only,
  so a checkpoint needs no pickle global beyond what
  :mod:`sgdc_mmseg.compat.checkpoint` admits.
* **When to restore.** On resume, mmengine's ``IterBasedTrainLoop.run`` calls
  ``before_train_epoch`` and *then* fetches and discards ``iter`` batches to
  realign the data loader; every training iteration fetches its batch before
  ``before_train_iter``. The pipeline draws random numbers while fetching, so
  the states are restored right before the first *new* batch is fetched: in
  ``before_train_epoch`` the loop's ``dataloader_iterator`` is wrapped by a
  proxy that lets the skipped fetches through, restores the states, and then
  removes itself. For other loops (``EpochBasedTrainLoop`` resumes at epoch
  boundaries and fetches nothing before its first batch) the states are
  restored directly in ``before_train_epoch``.
* **Validation during training is random-neutral.** The states are captured
  in ``before_val_epoch`` and restored in ``after_val_epoch``. Otherwise a
  validation that runs right after a checkpoint was saved (creating the
  validation data loader iterator draws from torch's generator) would advance
  the generators in the original run but not in the resumed one. The hook's
  priority (``NORMAL``) puts the restore before ``CheckpointHook``'s
  ``after_val_epoch``, so best-checkpoints hold the pre-validation states too.
* **load_from is not resume.** ``after_load_checkpoint`` also runs for
  ``load_from`` (fine-tuning); the states are only applied when the loop
  really continues from the checkpoint's iteration/epoch.
* **Distributed runs.** ``Runner.save_checkpoint`` runs on rank 0 only, so
  only rank 0's states are saved. On resume, rank 0 restores them exactly;
  the other ranks restore the same states when ``randomness.diff_rank_seed``
  is False (all ranks were seeded alike), and otherwise keep their freshly
  seeded generators (a warning says so).
"""
import logging
import random

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from mmseg.registry import HOOKS

STATE_KEY = 'rng_state'
FORMAT_VERSION = 1


def get_rng_states():
    """Snapshot of all generators as tensors/ints/floats/lists."""
    py_version, py_state, py_gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    states = dict(
        version=FORMAT_VERSION,
        python=dict(version=int(py_version), state=[int(v) for v in py_state],
                    gauss_next=None if py_gauss is None else float(py_gauss)),
        numpy=dict(kind=str(np_kind),
                   keys=torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
                   pos=int(np_pos), has_gauss=int(np_has_gauss),
                   cached_gaussian=float(np_gauss)),
        torch=torch.get_rng_state(),
    )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state()
    return states


def set_rng_states(states):
    """Restore a snapshot made by :func:`get_rng_states`."""
    py = states['python']
    random.setstate((py['version'], tuple(py['state']), py['gauss_next']))
    nps = states['numpy']
    keys = torch.as_tensor(nps['keys']).cpu().numpy().astype(np.uint32)
    np.random.set_state((nps['kind'], keys, nps['pos'], nps['has_gauss'],
                         nps['cached_gaussian']))
    torch.set_rng_state(torch.as_tensor(states['torch']).cpu())
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state(torch.as_tensor(states['cuda']).cpu())


class _RestoreBeforeNextFetch:
    """Iterator proxy: after ``skip`` fetches, run ``action`` then fetch."""

    def __init__(self, iterator, skip, action):
        self._iterator = iterator
        self._skip = skip
        self._action = action

    def __iter__(self):
        return self

    def __next__(self):
        if self._skip > 0:
            self._skip -= 1
            return next(self._iterator)
        action, self._action = self._action, None
        if action is not None:
            action()
        return next(self._iterator)

    def __getattr__(self, name):
        return getattr(self._iterator, name)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Keep Python/numpy/torch(/CUDA) random states across ``resume``.

    Args:
        restore (bool): Apply the states found in a resumed checkpoint.
            Defaults to True.
        neutral_val (bool): Leave the generators unchanged by validation
            during training (see module docstring). Defaults to True.
    """

    priority = 'NORMAL'

    def __init__(self, restore=True, neutral_val=True):
        self.restore = restore
        self.neutral_val = neutral_val
        self._pending = None  # (epoch, iter, states) from a loaded checkpoint
        self._val_states = None

    # saving -------------------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint):
        states = get_rng_states()
        states['world_size'] = get_dist_info()[1]
        checkpoint[STATE_KEY] = states

    # resuming -----------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint):
        states = checkpoint.get(STATE_KEY)
        if not self.restore:
            return
        if states is None:
            self._pending = None
            print_log('RNGStateHook: the checkpoint has no random states; '
                      'a resumed run will not replay the same random numbers.',
                      logger='current')
            return
        meta = checkpoint.get('meta', {})
        self._pending = (meta.get('epoch'), meta.get('iter'), states)

    def before_train_epoch(self, runner):
        if self._pending is None:
            return
        epoch, iteration, states = self._pending
        self._pending = None
        resumed = (runner.epoch == epoch and runner.iter == iteration
                   and (runner.epoch > 0 or runner.iter > 0))
        if not resumed:  # load_from (fine-tuning), not resume
            return
        apply = self._make_restore(runner, states)
        loop = runner.train_loop
        iterator = getattr(loop, 'dataloader_iterator', None)
        if isinstance(loop, IterBasedTrainLoop) and iterator is not None:
            # IterBasedTrainLoop: it now skips ``iter`` batches, then fetches.
            def restore_and_unwrap():
                loop.dataloader_iterator = iterator
                apply()

            loop.dataloader_iterator = _RestoreBeforeNextFetch(
                iterator, loop.iter, restore_and_unwrap)
        else:
            apply()

    def _make_restore(self, runner, states):
        rank, world_size = get_dist_info()

        def apply():
            if world_size > 1 and rank != 0:
                diff_rank_seed = runner._randomness_cfg.get(
                    'diff_rank_seed', False)
                if diff_rank_seed:
                    print_log(
                        'RNGStateHook: only rank 0 random states are saved; '
                        f'rank {rank} keeps its seeded generators '
                        '(diff_rank_seed=True).', logger='current',
                        level=logging.WARNING)
                    return
            set_rng_states(states)
            runner.logger.info(
                f'RNGStateHook: restored random states at iter {runner.iter}')

        return apply

    # validation during training ------------------------------------------
    def before_val_epoch(self, runner):
        if self.neutral_val:
            self._val_states = get_rng_states()

    def after_val_epoch(self, runner, metrics=None):
        if self.neutral_val and self._val_states is not None:
            set_rng_states(self._val_states)
            self._val_states = None
