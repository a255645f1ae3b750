"""What one run of a study trains: its config file and fingerprint.

A run trains ``run_dir/config.py``, a file that inherits the variant's
config (``_base_``) and sets the seed and the study's schedule overrides
(:func:`inherited_config_text`), so the run directory documents what was
trained. ``--cfg-options`` (strings as for ``tools/train.py``) are passed on
to the tools unchanged and count in the fingerprint.

The fingerprint (:func:`run_fingerprint`) is
:func:`sgdc_mmseg.evaluation.test_outputs.config_sha256` of that config
after the ``--cfg-options``: the project's one config hash. File paths and
comments do not count; a change of the variant's config, ``--iters`` or
``--cfg-options`` does.
"""
import argparse

from ..evaluation.test_outputs import config_sha256
from .schema import StudyError


def to_plain(node):
    """ConfigDict/list/tuple tree -> plain dicts, lists and tuples (whose
    ``repr`` is valid config text)."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, tuple):
        return tuple(to_plain(v) for v in node)
    return node


def inherited_config_text(base, overrides):
    """A config file that inherits ``base`` and sets ``overrides``."""
    lines = ['# Written by tools/study.py: the study\'s settings for this run',
             '# on top of the variant\'s config.',
             f'_base_ = [{base!r}]']
    for key, value in overrides.items():
        lines.append(f'{key} = {to_plain(value)!r}')
    return '\n'.join(lines) + '\n'


def parse_cfg_options(items):
    """``['a.b=1', 'c=[1,2]']`` -> dict, with mmengine's DictAction; an
    item without ``=`` is a :class:`StudyError` naming it."""
    if not items:
        return {}
    from mmengine.config import DictAction
    for item in items:
        if '=' not in item:
            raise StudyError(f'--cfg-options: {item!r} is not KEY=VALUE')
    ns = argparse.Namespace()
    DictAction(option_strings=[], dest='opts')(None, ns, items)
    return ns.opts


def run_fingerprint(config_text, cfg_options):
    """sha256 of what is trained: the config ``config_text`` as mmengine
    dumps it after the ``cfg_options`` dict (see the module docstring)."""
    from mmengine.config import Config
    return config_sha256(Config.fromstring(config_text, file_format='.py'),
                         cfg_options)


def _scaled_scheduler(sched, old_iters, iters):
    """An iteration-based scheduler's ``begin``/``end`` scaled from
    ``old_iters`` to ``iters`` (``end`` stays above ``begin``); epoch-based
    ones unchanged."""
    sched = to_plain(sched)
    if not sched.get('by_epoch', True):
        begin = sched.get('begin', 0)
        end = min(sched.get('end', old_iters), old_iters)
        sched['begin'] = int(round(begin * iters / old_iters))
        sched['end'] = max(int(round(end * iters / old_iters)),
                           sched['begin'] + 1)
    return sched


def schedule_overrides(config, iters):
    """Config overrides that shorten (or lengthen) a config's schedule to
    ``iters`` iterations: loop length, validation and checkpoint interval,
    logging interval, and every iteration-based LR/momentum scheduler scaled
    proportionally (a warm-up of 50 of 600 iterations becomes 2 of 20)."""
    from mmengine.config import Config
    if iters < 1:
        raise StudyError(f'--iters must be >= 1, got {iters}')
    cfg = Config.fromfile(config)
    old = cfg.train_cfg.get('max_iters')
    if old is None:
        raise StudyError(f'{config}: --iters needs an iteration-based '
                         'train_cfg (max_iters)')
    out = dict(train_cfg=dict(max_iters=iters, val_interval=iters))
    hooks = cfg.get('default_hooks', {})
    new_hooks = {}
    if 'checkpoint' in hooks:
        new_hooks['checkpoint'] = dict(interval=iters)
    if 'logger' in hooks:
        new_hooks['logger'] = dict(interval=max(
            1, min(hooks['logger'].get('interval', 50), iters // 4 or 1)))
    if new_hooks:
        out['default_hooks'] = new_hooks
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    scaled = [_scaled_scheduler(s, old, iters) for s in schedulers]
    if scaled:
        out['param_scheduler'] = scaled
    return out


def configured_iters(config, iters=None):
    """``iters`` when given, else the config's ``train_cfg.max_iters``
    (None for an epoch-based config)."""
    if iters is not None:
        return iters
    from mmengine.config import Config
    return Config.fromfile(config).train_cfg.get('max_iters')
