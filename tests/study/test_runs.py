"""sgdc_mmseg.study.runs: run directories, fingerprint checks, training and
testing through the tools (replaced here by small fake tools that write what
tools/train.py and tools/test.py write), resume, failures, the grid."""
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from sgdc_mmseg.study import runs
from sgdc_mmseg.study.run_config import schedule_overrides
from sgdc_mmseg.study.runs import (Run, dry_run_lines, format_duration,
                                   grid_summary_line, load_result,
                                   plan_runs, run_grid, train_and_test,
                                   train_log_stats)
from sgdc_mmseg.study.schema import StudyError

from helpers import REPO_ROOT

CPU_SGDC = osp.join(REPO_ROOT, 'configs', 'sgdc',
                    'sgdc_r18-half_1xb8-600_isic2017-128x96.py')

FAKE_TRAIN = '''\
import json, os, sys
args = sys.argv[1:]
config, work_dir = args[0], args[args.index('--work-dir') + 1]
print('fake train', ' '.join(args))
if 'fail_me.py' in open(config).read():
    print('boom: training diverged')
    sys.exit(3)
if os.environ.get('FAKE_NO_CHECKPOINT'):
    sys.exit(0)
ckpt = os.path.join(work_dir, 'iter_4.pth')
open(ckpt, 'w').write('weights')
open(os.path.join(work_dir, 'last_checkpoint'), 'w').write(ckpt)
log_dir = os.path.join(work_dir, '20260101_000000', 'vis_data')
os.makedirs(log_dir, exist_ok=True)
with open(os.path.join(log_dir, 'scalars.json'), 'w') as f:
    for rec in (dict(loss=1.0, time=9.0, memory=999), dict(loss=0.9, time=0.5,
                memory=100), dict(loss=0.8, time=0.7, memory=120),
                dict(mIoU=50.0)):
        f.write(json.dumps(rec) + '\\n')
'''
FAKE_TEST = '''\
import json, os, sys
args = sys.argv[1:]
out = args[args.index('--out') + 1]
print('fake test', ' '.join(args))
if os.environ.get('FAKE_TEST_FAIL'):
    sys.exit(2)
os.makedirs(out, exist_ok=True)
text = os.environ.get('FAKE_SUMMARY') or json.dumps(dict(
    num_images=5, metrics={'medical/mIoU': 71.5, 'medical/mDice': 80.0,
                           'medical/mHD95': 12.0, 'mIoU': 75.0},
    per_class={'lesion': {'IoU': 71.5}}))
open(os.path.join(out, 'summary.json'), 'w').write(text)
'''


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """tools/train.py and tools/test.py replaced by fast fakes; returns a
    base config (4 iterations)."""
    monkeypatch.setattr(runs, 'TRAIN_TOOL',
                        _write(tmp_path / 'fake_train.py', FAKE_TRAIN))
    monkeypatch.setattr(runs, 'TEST_TOOL',
                        _write(tmp_path / 'fake_test.py', FAKE_TEST))
    return _write(tmp_path / 'base.py', 'train_cfg = dict(max_iters=4)\n')


def _run(tmp_path, config, variant='sgdc', seed=0, **kwargs):
    return Run(str(tmp_path / 'work'), variant, config, seed, **kwargs)


def _with_last_checkpoint(run, name):
    """``run``'s dir with checkpoint ``name`` named by mmengine's
    ``last_checkpoint`` marker, as an interrupted run leaves it."""
    os.makedirs(run.run_dir)
    ckpt = _write(osp.join(run.run_dir, name), 'x')
    _write(osp.join(run.run_dir, 'last_checkpoint'), ckpt)
    return ckpt


def test_run_config_inherits_and_overrides(tmp_path):
    run = Run(str(tmp_path), 'sgdc', CPU_SGDC, 7,
              schedule_overrides(CPU_SGDC, 10))
    assert run.run_dir == str(tmp_path / 'runs' / 'sgdc' / 'seed7')
    path = _write(tmp_path / 'config.py', run.config_text())
    cfg = Config.fromfile(path)
    base = Config.fromfile(CPU_SGDC)
    assert cfg.randomness.seed == 7 and base.randomness.seed == 0
    assert cfg.train_cfg.max_iters == 10
    assert cfg.param_scheduler[1].end == 10
    assert cfg.model == base.model  # everything else inherited
    assert cfg.train_dataloader == base.train_dataloader


def test_fingerprint_tracks_what_is_trained(tmp_path):
    a = Run(str(tmp_path), 'sgdc', CPU_SGDC, 0)
    b = Run(str(tmp_path), 'sgdc', CPU_SGDC, 0)
    c = Run(str(tmp_path), 'sgdc', CPU_SGDC, 1)
    d = Run(str(tmp_path), 'sgdc', CPU_SGDC, 0,
            cfg_options=['train_dataloader.batch_size=4'])
    assert a.fingerprint() == b.fingerprint()
    assert len({a.fingerprint(), c.fingerprint(), d.fingerprint()}) == 3
    d.check_fingerprint('anything')  # no run.json yet: fine
    os.makedirs(a.run_dir)
    with open(osp.join(a.run_dir, 'run.json'), 'w') as f:
        json.dump(dict(fingerprint=a.fingerprint()), f)
    a.check_fingerprint(b.fingerprint())  # same configuration: fine
    with pytest.raises(StudyError, match='seed0 holds a run of a different '
                       'configuration'):
        d.check_fingerprint(d.fingerprint())


def test_commands(tmp_path):
    run = _run(tmp_path, '/c.py', cfg_options=['a=1', 'b=2'])
    assert run.train_cmd(True)[1:] == [
        runs.TRAIN_TOOL, run.run_config, '--work-dir', run.run_dir,
        '--resume', '--cfg-options', 'a=1', 'b=2']
    assert runs.TRAIN_TOOL == osp.join(REPO_ROOT, 'tools', 'train.py')
    plain = _run(tmp_path, '/c.py')
    assert plain.test_cmd('ck.pth', '/o')[1:] == [
        runs.TEST_TOOL, plain.run_config, 'ck.pth', '--work-dir', '/o',
        '--out', '/o']
    assert plain.test_cmd('ck.pth', '/o', '/e.py')[2] == '/e.py'


def test_last_checkpoint(tmp_path):
    run = _run(tmp_path, '/c.py')
    assert run.last_checkpoint() is None
    os.makedirs(run.run_dir)
    _write(osp.join(run.run_dir, 'last_checkpoint'), 'iter_8.pth\n')
    assert run.last_checkpoint() is None  # named, but gone
    ckpt = _write(osp.join(run.run_dir, 'iter_8.pth'), 'x')
    assert run.last_checkpoint() == ckpt  # relative to the run dir


def test_train_log_stats_skip_the_first_interval(tmp_path):
    for stamp, records in [('20260101_000000', [(9.0, 500), (1.0, 100)]),
                           ('20260101_010000', [(8.0, None), (3.0, 300)])]:
        os.makedirs(tmp_path / stamp / 'vis_data')
        lines = [json.dumps(dict(loss=1, time=t, **(
            {} if m is None else dict(memory=m)))) for t, m in records]
        _write(tmp_path / stamp / 'vis_data' / 'scalars.json',
               '\n'.join(lines + [json.dumps(dict(mIoU=1.0)), '']))
    stats = train_log_stats(str(tmp_path))
    assert stats['s_per_iter'] == pytest.approx((1.0 + 8.0 + 3.0) / 3)
    assert stats['max_memory_mb'] == 300
    assert train_log_stats(str(tmp_path / '20260101_000000')) == dict(
        s_per_iter=None, max_memory_mb=None)


def test_train_and_test_writes_the_run(tmp_path, fake_tools):
    run = _run(tmp_path, fake_tools, seed=3, cfg_options=['x=1'])
    result = train_and_test(run, 'fp', 4, log=pytest.fail)
    assert load_result(run) == result
    assert {k: result[k] for k in (
        'variant', 'seed', 'config', 'cfg_options', 'fingerprint', 'iters',
        'resumed', 'num_test_images', 's_per_iter', 'max_memory_mb')} == dict(
            variant='sgdc', seed=3, config=fake_tools, cfg_options=['x=1'],
            fingerprint='fp', iters=4, resumed=False, num_test_images=5,
            s_per_iter=pytest.approx(0.6), max_memory_mb=120)
    assert result['checkpoint'] == osp.join(run.run_dir, 'iter_4.pth')
    assert result['metrics']['medical/mIoU'] == 71.5
    assert result['per_class'] == {'lesion': {'IoU': 71.5}}
    assert result['overrides'] == dict(randomness=dict(seed=3))
    with open(osp.join(run.run_dir, 'run.json')) as f:
        assert json.load(f)['fingerprint'] == 'fp'
    assert Config.fromfile(run.run_config).randomness.seed == 3
    with open(osp.join(run.run_dir, 'train.log')) as f:
        log = f.read()
    assert log.startswith('$ ') and '--cfg-options x=1' in log
    assert '--resume' not in log
    with open(osp.join(run.run_dir, 'test.log')) as f:
        assert 'fake test' in f.read()


def test_an_interrupted_run_resumes(tmp_path, fake_tools):
    run = _run(tmp_path, fake_tools)
    ckpt = _with_last_checkpoint(run, 'iter_2.pth')
    messages = []
    result = train_and_test(run, 'fp', 4, log=messages.append)
    assert result['resumed'] is True
    assert messages == [f'  sgdc seed 0: resuming from {ckpt}']
    with open(osp.join(run.run_dir, 'train.log')) as f:
        assert '--resume' in f.read()


def test_a_run_trained_to_its_last_iteration_is_only_tested(
        tmp_path, fake_tools):
    # stopped while being tested: resuming would make mmengine replay the
    # data loader through all 4 iterations for nothing
    run = _run(tmp_path, fake_tools)
    ckpt = _with_last_checkpoint(run, 'iter_4.pth')
    messages = []
    result = train_and_test(run, 'fp', 4, log=messages.append)
    assert messages == [f'  sgdc seed 0: {ckpt} is the last iteration (4): '
                        'testing it, nothing to train']
    assert result['resumed'] is True and result['train_wall_s'] == 0.0
    assert result['checkpoint'] == ckpt
    assert not osp.exists(osp.join(run.run_dir, 'train.log'))
    assert result['metrics']['medical/mIoU'] == 71.5


def test_the_last_iteration_follows_cfg_options(tmp_path, fake_tools):
    # --cfg-options train_cfg.max_iters=6: iter_4 is not the end
    run = _run(tmp_path, fake_tools, cfg_options=['train_cfg.max_iters=6'])
    ckpt = _with_last_checkpoint(run, 'iter_4.pth')
    messages = []
    train_and_test(run, 'fp', 6, log=messages.append)
    assert messages == [f'  sgdc seed 0: resuming from {ckpt}']
    assert runs.final_iteration(run) == 6


@pytest.mark.parametrize('name, expected', [
    ('/w/iter_1000.pth', 1000), ('iter_4.pth', 4), ('/w/epoch_3.pth', None),
    ('/w/best_mIoU_iter_40.pth', None), ('/w/iter_4.pth.bak', None)])
def test_checkpoint_iteration(name, expected):
    assert runs.checkpoint_iteration(name) == expected


@pytest.mark.parametrize('env, match', [
    ({'FAKE_NO_CHECKPOINT': '1'}, 'training wrote no checkpoint; see .*'
     'train.log'),
    ({'FAKE_TEST_FAIL': '1'}, r'testing failed \(exit 2\); see .*test.log'),
    ({'FAKE_SUMMARY': '[1, 2]'}, 'summary.json does not hold a JSON object'),
    ({'FAKE_SUMMARY': 'nope'}, 'summary.json is not valid JSON'),
])
def test_failures_name_the_log_or_file(tmp_path, fake_tools, monkeypatch,
                                       env, match):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    run = _run(tmp_path, fake_tools)
    with pytest.raises((RuntimeError, ValueError), match=match):
        train_and_test(run, 'fp', 4)
    assert not run.is_finished()


def test_failed_training_shows_the_log_tail(tmp_path, fake_tools):
    config = _write(tmp_path / 'fail_me.py', "_base_ = ['./base.py']\n")
    run = _run(tmp_path, config)
    with pytest.raises(RuntimeError, match=r'(?s)training failed \(exit 3\);'
                       ' see .*train.log:\n.*boom: training diverged'):
        train_and_test(run, 'fp', 4)
    assert not run.is_finished()


def test_plan_runs_seed_by_seed_and_refuses_other_runs(tmp_path, fake_tools):
    other = _write(tmp_path / 'other.py', "_base_ = ['./base.py']\nk = 1\n")
    study = dict(name='demo', variants=dict(a=fake_tools, b=other),
                 seeds=[1, 0])
    work = str(tmp_path / 'work')
    planned = plan_runs(study, work)
    assert [(p.run.variant, p.run.seed, p.iters) for p in planned] == [
        ('a', 1, 4), ('b', 1, 4), ('a', 0, 4), ('b', 0, 4)]
    assert planned[0].fingerprint == planned[0].run.fingerprint()
    short = plan_runs(study, work, iters=2, cfg_options=['k=2'])
    assert short[0].iters == 2 and short[0].run.cfg_options == ['k=2']
    assert short[0].run.overrides['train_cfg']['max_iters'] == 2
    assert grid_summary_line(study, planned, work) == (
        f'study demo: 2 variants x 2 seeds = 4 runs, 0 already finished; '
        f'work dir {work}')
    lines = dry_run_lines(planned)
    assert lines[0].startswith('[to run] a seed 1: ')
    assert lines[0].endswith(' '.join(planned[0].run.train_cmd(False)))
    train_and_test(planned[0].run, planned[0].fingerprint, 4)
    assert dry_run_lines(planned)[0].startswith('[finished] a seed 1: ')
    assert '1 already finished' in grid_summary_line(study, planned, work)
    with pytest.raises(StudyError, match='seed1 holds a run of a different'):
        plan_runs(study, work, iters=2)


def test_run_grid_goes_on_past_a_failed_run(tmp_path, fake_tools, capsys):
    failing = _write(tmp_path / 'fail_me.py', "_base_ = ['./base.py']\n")
    study = dict(name='demo', variants=dict(bad=failing, good=fake_tools),
                 seeds=[0])
    planned = plan_runs(study, str(tmp_path / 'work'))
    assert run_grid(planned) == {('bad', 0)}
    out = capsys.readouterr().out
    assert 'FAILED bad seed 0: training failed (exit 3)' in out
    assert 'good seed 0 done in 0m0' in out and 'IoU 71.50 Dice 80.00' in out
    assert 'HD95 ' in out
    assert not planned[0].run.is_finished() and planned[1].run.is_finished()


def test_run_grid_prints_the_studys_metrics(tmp_path, fake_tools, capsys):
    """A vessel or nuclei study's progress lines show its own scores."""
    from sgdc_mmseg.study.schema import METRIC_SETS
    study = dict(name='demo', variants=dict(good=fake_tools), seeds=[0])
    planned = plan_runs(study, str(tmp_path / 'work'))
    assert run_grid(planned, metrics=METRIC_SETS['nuclei'].metrics) == set()
    out = capsys.readouterr().out
    assert 'done in' in out and 'Dice ' in out and 'AJI ' in out
    assert 'HD95' not in out


def test_run_grid_in_parallel(tmp_path, fake_tools, capsys):
    study = dict(name='demo', variants=dict(a=fake_tools), seeds=[0, 1, 2])
    planned = plan_runs(study, str(tmp_path / 'work'))
    assert run_grid(planned, jobs=2) == set()
    assert all(p.run.is_finished() for p in planned)
    assert capsys.readouterr().out.count(' done in ') == 3


def test_format_duration():
    assert format_duration(65.9) == '1m05s'
    assert format_duration(3725) == '1h02m05s'
    assert format_duration(0) == '0m00s'


# ------------------------------------------------------------------- folds
TINY = ("model = dict(type='X', depth=18)\n"
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=600, "
        "val_interval=600)\n"
        "param_scheduler = [dict(type='LinearLR', by_epoch=False, begin=0, "
        "end=50)]\n")


def test_fingerprints_of_runs_without_folds_are_unchanged(tmp_path):
    """Golden values from the code before folds existed: finished runs of
    existing studies keep their fingerprints and directories."""
    config = _write(tmp_path / 'tiny.py', TINY)
    study = dict(name='s', variants=dict(a=config), seeds=[0, 1])
    work = str(tmp_path / 'w')
    plain = plan_runs(study, work)
    assert [p.run.run_dir for p in plain] == [
        osp.join(work, 'runs', 'a', 'seed0'),
        osp.join(work, 'runs', 'a', 'seed1')]
    assert [p.fingerprint for p in plain] == [
        '970c25a3cc87d1f14b8f1b566689e4c684da692c7df76e85697b1ee75169d614',
        'bb1581c678ab7fade7e2ddb6387c10c6dd99fde3e5f88758257f58c91fed7c1a']
    short = plan_runs(study, work, iters=20, cfg_options=['model.depth=34'])
    assert [p.fingerprint for p in short] == [
        '93be147adce9aedfeebf020a994d704ee1d2f95fcca468d5dbcf0f6dbfd38fd3',
        '313a62dc073e08b51f67a8a44ef6492927e94387830c8f651e7b8ed4a59c5f78']


def test_plan_runs_with_folds(tmp_path, fake_tools):
    study = dict(name='cv', variants=dict(a=fake_tools), seeds=[0, 1],
                 folds=dict(num_folds=2, train_split='s/f{fold}_t.txt',
                            test_split='s/f{fold}_v.txt',
                            test_data_prefix=dict(img_path='tr/img')))
    work = str(tmp_path / 'work')
    planned = plan_runs(study, work)
    assert [(p.run.seed, p.run.fold) for p in planned] == [
        (0, 0), (0, 1), (1, 0), (1, 1)]
    run = planned[1].run
    assert run.run_dir == osp.join(work, 'runs', 'a', 'fold1', 'seed0')
    assert run.label == 'a seed 0 fold 1'
    assert run.overrides['train_dataloader'] == dict(
        dataset=dict(ann_file='s/f1_t.txt'))
    assert run.overrides['test_dataloader'] == dict(dataset=dict(
        ann_file='s/f1_v.txt', data_prefix=dict(img_path='tr/img')))
    assert run.overrides['val_dataloader'] == \
        run.overrides['test_dataloader']
    # the fold is part of the fingerprint; the seed-0 runs differ by fold
    assert planned[0].fingerprint != planned[1].fingerprint
    assert grid_summary_line(study, planned, work).startswith(
        'study cv: 1 variants x 2 seeds x 2 folds = 4 runs, 0 already')
    assert dry_run_lines(planned)[1].startswith('[to run] a seed 0 fold 1: ')
    result = train_and_test(run, planned[1].fingerprint, 4)
    assert result['fold'] == 1
    with open(osp.join(run.run_dir, 'run.json')) as f:
        assert json.load(f)['fold'] == 1
    study['fold_ids'] = [1]
    assert [p.run.fold for p in plan_runs(study, work)] == [1, 1]


def test_run_grid_names_the_failed_fold(tmp_path, fake_tools, capsys):
    bad = _write(tmp_path / 'fail_me.py', "_base_ = ['./base.py']\n")
    study = dict(name='cv', variants=dict(bad=bad), seeds=[0],
                 folds=dict(num_folds=2, train_split='f{fold}_t.txt',
                            test_split='f{fold}_v.txt'))
    failures = run_grid(plan_runs(study, str(tmp_path / 'w')))
    assert failures == {('bad', 0, 0), ('bad', 0, 1)}
    assert 'FAILED bad seed 0 fold 1: training failed' in \
        capsys.readouterr().out
