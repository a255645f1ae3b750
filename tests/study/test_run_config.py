"""sgdc_mmseg.study.run_config: the run's config file, the schedule
overrides of ``--iters``, ``--cfg-options`` parsing and the run
fingerprint (the project's one config hash, unchanged for finished
runs)."""
import hashlib
import os.path as osp

import pytest
from mmengine.config import Config, ConfigDict

from sgdc_mmseg.evaluation.test_outputs import config_sha256
from sgdc_mmseg.study.run_config import (configured_iters,
                                         inherited_config_text,
                                         parse_cfg_options, run_fingerprint,
                                         schedule_overrides, to_plain)
from sgdc_mmseg.study.schema import StudyError

from helpers import REPO_ROOT

CPU_SGDC = osp.join(REPO_ROOT, 'configs', 'sgdc',
                    'sgdc_r18-half_1xb8-600_isic2017-128x96.py')
TINY = ("a = 1\nmodel = dict(type='X', depth=18, sizes=(1, 2))\n"
        "randomness = dict(seed=0)\n")
# What tools/study.py before the sgdc_mmseg.study package computed for the
# run (TINY, seed 3, train_cfg.max_iters=5, --cfg-options model.depth=50):
# run directories written then must be accepted now.
TINY_FINGERPRINT = ('3a8fb14c36cb3fa2991daa10838c8a17062a88d54d24229c4d1d9d20'
                    'a18d9be0')


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def test_to_plain_unwraps_config_dicts():
    node = ConfigDict(a=ConfigDict(b=[ConfigDict(c=1)], d=(1, 2)))
    plain = to_plain(node)
    assert plain == {'a': {'b': [{'c': 1}], 'd': (1, 2)}}
    assert type(plain) is dict and type(plain['a']['b'][0]) is dict
    assert type(plain['a']['d']) is tuple


def test_inherited_config_text():
    text = inherited_config_text('/x/base.py', dict(
        train_cfg=ConfigDict(max_iters=5), randomness=dict(seed=3)))
    assert text == (
        "# Written by tools/study.py: the study's settings for this run\n"
        "# on top of the variant's config.\n"
        "_base_ = ['/x/base.py']\n"
        "train_cfg = {'max_iters': 5}\n"
        "randomness = {'seed': 3}\n")


def test_fingerprint_of_finished_runs_is_unchanged(tmp_path):
    base = _write(tmp_path / 'tiny.py', TINY)
    text = inherited_config_text(base, dict(train_cfg=dict(max_iters=5),
                                            randomness=dict(seed=3)))
    opts = parse_cfg_options(['model.depth=50'])
    assert run_fingerprint(text, opts) == TINY_FINGERPRINT
    # comments and file paths do not count
    moved = _write(tmp_path / 'other_name.py', '# moved\n' + TINY)
    assert run_fingerprint(text.replace(base, moved), opts) == \
        TINY_FINGERPRINT
    # what is trained does
    assert run_fingerprint(text, {}) != TINY_FINGERPRINT
    assert run_fingerprint(text.replace("'seed': 3", "'seed': 4"),
                           opts) != TINY_FINGERPRINT


def test_fingerprint_is_the_config_hash_of_the_run_config(tmp_path):
    """One hash: the fingerprint equals test_outputs.config_sha256 (what
    tools/test.py records in summary.json) of the written run config."""
    text = inherited_config_text(CPU_SGDC, schedule_overrides(CPU_SGDC, 20))
    opts = parse_cfg_options(['train_dataloader.batch_size=4'])
    path = _write(tmp_path / 'config.py', text)
    fp = run_fingerprint(text, opts)
    assert fp == config_sha256(path, opts)
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(opts)
    assert fp == hashlib.sha256(cfg.dump().encode('utf-8')).hexdigest()


def test_parse_cfg_options():
    assert parse_cfg_options([]) == {}
    assert parse_cfg_options(None) == {}
    assert parse_cfg_options(['a.b=1', 'c=[1,2]', 'd=x']) == {
        'a.b': 1, 'c': [1, 2], 'd': 'x'}
    with pytest.raises(StudyError,
                       match="--cfg-options: 'nokey' is not KEY=VALUE"):
        parse_cfg_options(['a=1', 'nokey'])


def test_schedule_overrides_scale_the_schedule():
    over = schedule_overrides(CPU_SGDC, 20)
    assert over['train_cfg'] == dict(max_iters=20, val_interval=20)
    assert over['default_hooks']['checkpoint'] == dict(interval=20)
    assert 1 <= over['default_hooks']['logger']['interval'] <= 5
    warm, poly = over['param_scheduler']
    assert (warm['type'], warm['begin'], warm['end']) == ('LinearLR', 0, 2)
    assert (poly['type'], poly['begin'], poly['end']) == ('PolyLR', 2, 20)
    # Every scheduler keeps begin < end even for one iteration.
    for sched in schedule_overrides(CPU_SGDC, 1)['param_scheduler']:
        assert sched['begin'] < sched['end']
    with pytest.raises(StudyError, match='--iters must be >= 1, got 0'):
        schedule_overrides(CPU_SGDC, 0)


def test_schedule_overrides_of_other_configs(tmp_path):
    epochs = _write(tmp_path / 'epochs.py',
                    "train_cfg = dict(type='EpochBasedTrainLoop')\n")
    with pytest.raises(StudyError, match='epochs.py: --iters needs an '
                       'iteration-based'):
        schedule_overrides(epochs, 10)
    bare = _write(tmp_path / 'bare.py', (
        "train_cfg = dict(max_iters=100)\n"
        "param_scheduler = dict(type='PolyLR', by_epoch=False, end=400)\n"))
    assert schedule_overrides(bare, 10) == dict(
        train_cfg=dict(max_iters=10, val_interval=10),
        param_scheduler=[dict(type='PolyLR', by_epoch=False, begin=0,
                              end=10)])


def test_configured_iters(tmp_path):
    assert configured_iters(CPU_SGDC) == 600
    assert configured_iters(CPU_SGDC, 7) == 7
    epochs = _write(tmp_path / 'epochs.py', "train_cfg = dict()\n")
    assert configured_iters(epochs) is None
