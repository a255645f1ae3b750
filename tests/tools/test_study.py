"""tools/study.py: study files, schedule scaling, statistics, the report,
run fingerprints, and a tiny end-to-end grid (train, test, resume, external
test set) on generated data."""
import csv
import glob
import importlib.util
import json
import math
import os
import os.path as osp
import statistics

import pytest
from mmengine.config import Config

from helpers import (REPO_ROOT, make_tiny_dataset, run_tool,
                     write_tiny_config)

spec = importlib.util.spec_from_file_location(
    'study_tool', osp.join(REPO_ROOT, 'tools', 'study.py'))
study = importlib.util.module_from_spec(spec)
spec.loader.exec_module(study)

CPU_SGDC = osp.join(REPO_ROOT, 'configs', 'sgdc',
                    'sgdc_r18-half_1xb8-600_isic2017-128x96.py')


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


# ----------------------------------------------------------- study files
STUDY_FILES = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'studies',
                                         '*.py')))


@pytest.mark.parametrize('path', STUDY_FILES, ids=osp.basename)
def test_shipped_study_files_load(path):
    s = study.load_study([path])
    assert {'sgdc', 'pool', 'self', 'upernet'} <= set(s['variants'])
    assert len(s['seeds']) >= 2
    assert ('sgdc', 'pool') in s['compare']
    for config in s['variants'].values():
        assert osp.isfile(config)
    if 'ph2' in s['external']:
        assert {'sgdc', 'pool'} <= set(s['external']['ph2']['variants'])


def test_every_protocol_has_a_study_file():
    assert {'isic2017_cpu.py', 'isic2017_gpu.py', 'isic2016_r50.py',
            'isic2018_r50.py', 'conic_r50.py'} <= set(
                map(osp.basename, STUDY_FILES))
    cpu = study.load_study(
        [osp.join(REPO_ROOT, 'configs', 'studies', 'isic2017_cpu.py')])
    assert cpu['seeds'] == [0, 1, 2]


def test_study_file_paths_are_relative_to_it(tmp_path):
    _write(tmp_path / 'a.py', "x = 1\n")
    path = _write(tmp_path / 'study.py',
                  "variants = dict(first='a.py')\nseeds = [3, 4]\n")
    s = study.load_study([path])
    assert s['variants'] == {'first': str(tmp_path / 'a.py')}
    assert s['seeds'] == [3, 4] and s['name'] == 'study'


@pytest.mark.parametrize('text, match', [
    ("variants = dict(a='missing.py')\n", "variant 'a'.*missing.py"),
    ("variants = dict()\n", 'non-empty'),
    ("variants = dict(a='a.py')\ncompare = [('a', 'b')]\n", 'compare'),
    ("variants = dict(a='a.py')\nexternal = dict(x=dict(dataset=dict(), "
     "variants=['b']))\n", "unknown variant 'b'"),
    ("variants = dict(a='a.py')\nexternal = dict(x=dict())\n",
     'needs a `dataset`'),
])
def test_study_file_errors(tmp_path, text, match):
    _write(tmp_path / 'a.py', "x = 1\n")
    path = _write(tmp_path / 'study.py', text)
    with pytest.raises(study.StudyError, match=match):
        study.load_study([path])


def test_configs_given_directly_are_named_by_algorithm(tmp_path):
    a = _write(tmp_path / 'sgdc-pool_r50_x.py', "x = 1\n")
    b = _write(tmp_path / 'upernet_r50_x.py', "x = 1\n")
    s = study.load_study([a, b])
    assert list(s['variants']) == ['sgdc-pool', 'upernet']
    c = _write(tmp_path / 'upernet_r18_y.py', "x = 1\n")
    with pytest.raises(study.StudyError, match="variant name 'upernet'"):
        study.load_study([b, c])
    with pytest.raises(study.StudyError, match='no such file'):
        study.load_study([str(tmp_path / 'nope.py')])


def test_select_keeps_order_and_rejects_unknown_names():
    s = dict(variants=dict(a='1', b='2', c='3'), seeds=[0, 1],
             compare=[('a', 'b'), ('a', 'c')])
    sel = study.select(s, ['c', 'a'], [5])
    assert list(sel['variants']) == ['c', 'a'] and sel['seeds'] == [5]
    assert sel['compare'] == [('a', 'c')]
    with pytest.raises(study.StudyError, match=r"unknown \['z'\]"):
        study.select(s, ['z'])


# -------------------------------------------------------- run configs
def test_iters_overrides_scale_the_schedule():
    over = study.iters_overrides(CPU_SGDC, 20)
    assert over['train_cfg'] == dict(max_iters=20, val_interval=20)
    assert over['default_hooks']['checkpoint'] == dict(interval=20)
    assert 1 <= over['default_hooks']['logger']['interval'] <= 5
    warm, poly = over['param_scheduler']
    assert (warm['type'], warm['begin'], warm['end']) == ('LinearLR', 0, 2)
    assert (poly['type'], poly['begin'], poly['end']) == ('PolyLR', 2, 20)
    # Every scheduler keeps begin < end even for one iteration.
    for sched in study.iters_overrides(CPU_SGDC, 1)['param_scheduler']:
        assert sched['begin'] < sched['end']
    with pytest.raises(study.StudyError, match='--iters'):
        study.iters_overrides(CPU_SGDC, 0)


def test_run_config_inherits_and_overrides(tmp_path):
    run = study.Run(str(tmp_path), 'sgdc', CPU_SGDC, 7,
                    study.iters_overrides(CPU_SGDC, 10))
    path = _write(tmp_path / 'config.py', run.config_text())
    cfg = Config.fromfile(path)
    base = Config.fromfile(CPU_SGDC)
    assert cfg.randomness.seed == 7 and base.randomness.seed == 0
    assert cfg.train_cfg.max_iters == 10
    assert cfg.param_scheduler[1].end == 10
    assert cfg.model == base.model  # everything else inherited
    assert cfg.train_dataloader == base.train_dataloader


def test_fingerprint_tracks_what_is_trained(tmp_path):
    a = study.Run(str(tmp_path), 'sgdc', CPU_SGDC, 0)
    b = study.Run(str(tmp_path), 'sgdc', CPU_SGDC, 0)
    c = study.Run(str(tmp_path), 'sgdc', CPU_SGDC, 1)
    d = study.Run(str(tmp_path), 'sgdc', CPU_SGDC, 0,
                  cfg_options=['train_dataloader.batch_size=4'])
    assert a.fingerprint() == b.fingerprint()
    assert len({a.fingerprint(), c.fingerprint(), d.fingerprint()}) == 3
    os.makedirs(a.run_dir)
    with open(osp.join(a.run_dir, 'run.json'), 'w') as f:
        json.dump(dict(fingerprint=a.fingerprint()), f)
    a.check(b.fingerprint())  # same configuration: fine
    with pytest.raises(study.StudyError, match='different configuration'):
        d.check(d.fingerprint())


def test_external_config_replaces_the_test_set_only(tmp_path):
    run = study.Run(str(tmp_path), 'sgdc', CPU_SGDC, 0)
    os.makedirs(run.run_dir)
    _write(run.run_config, run.config_text())
    text = study.external_config(run, dict(
        type='PH2Dataset', data_root='data/ph2', ann_file='splits/all.txt'))
    cfg = Config.fromfile(_write(tmp_path / 'ext.py', text))
    base = Config.fromfile(run.run_config)
    ds = cfg.test_dataloader.dataset
    assert ds.type == 'PH2Dataset' and ds.data_root == 'data/ph2'
    assert 'data_prefix' not in ds and 'img_suffix' not in ds
    assert ds.pipeline == base.test_dataloader.dataset.pipeline
    assert cfg.model == base.model
    assert cfg.val_dataloader == base.val_dataloader


# ---------------------------------------------------------- statistics
def test_mean_std_and_format():
    m, s, n = study.mean_std([1.0, 2.0, 4.0, None, float('nan')])
    assert n == 3 and m == pytest.approx(7 / 3)
    assert s == pytest.approx(statistics.stdev([1, 2, 4]))
    assert study.mean_std([5.0]) == (5.0, None, 1)
    assert study.mean_std([]) == (None, None, 0)
    assert study.fmt(1.234, 0.5) == '1.23 ± 0.50'
    assert study.fmt(1.234, None) == '1.23' and study.fmt(None, None) == '—'


def test_welch_matches_the_formula():
    a, b = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0]
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    va, vb = statistics.variance(a) / 3, statistics.variance(b) / 4
    t = (ma - mb) / math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 3)
    from scipy import stats
    assert study.welch(a, b) == pytest.approx(2 * stats.t.sf(abs(t), dof))
    assert study.welch([1.0], b) is None
    assert study.welch([1.0, 1.0], [2.0, 2.0]) is None


def _row(variant, seed, iou, hd95):
    return dict(variant=variant, seed=seed, status='done', IoU=iou,
                Dice=iou + 5, HD95=hd95, ASSD=hd95 / 3, mmseg_mIoU=iou + 10)


def test_comparison_signs_follow_the_better_direction():
    rows = [_row('a', 0, 80.0, 10.0), _row('a', 1, 82.0, 12.0),
            _row('b', 0, 78.0, 14.0), _row('b', 1, 79.0, 16.0)]
    comps = {c['metric']: c for c in study.compare_rows(rows, [('a', 'b')])}
    iou, hd = comps['IoU (%)'], comps['HD95 (px)']
    assert iou['diff'] == pytest.approx(2.5)
    assert iou['better_by'] == pytest.approx(2.5)
    assert iou['ratio'] == pytest.approx(2.5 / statistics.stdev([80, 82]))
    assert hd['diff'] == pytest.approx(-4.0)  # lower HD95: a is better
    assert hd['better_by'] == pytest.approx(4.0)
    assert iou['n'] == (2, 2) and iou['p'] is not None


# -------------------------------------------------------------- report
def _fake_result(work_dir, variant, seed, iou, hd95, config):
    run = study.Run(work_dir, variant, config, seed)
    os.makedirs(run.run_dir)
    with open(run.result_path, 'w') as f:
        json.dump(dict(variant=variant, seed=seed, config=config, iters=600,
                       train_wall_s=100.0, resumed=False, s_per_iter=0.4,
                       num_test_images=150, metrics={
                           'medical/mIoU': iou, 'medical/mDice': iou + 5,
                           'medical/mHD95': hd95, 'medical/mASSD': 3.0,
                           'mIoU': iou + 10}), f)


def test_report_tables_csv_and_plot(tmp_path):
    work = str(tmp_path)
    s = dict(name='demo', description='A demo study.', seeds=[0, 1, 2],
             variants=dict(sgdc=CPU_SGDC, pool=CPU_SGDC),
             compare=[('sgdc', 'pool')], external={})
    for seed, (a, b) in enumerate([(80, 78), (81, 79), (82, 77)]):
        _fake_result(work, 'sgdc', seed, a, 20.0 + seed, CPU_SGDC)
        if seed < 2:  # pool seed 2 never ran
            _fake_result(work, 'pool', seed, b, 25.0, CPU_SGDC)
    md_path = study.report(s, work, failures={('pool', 2)})
    md = open(md_path).read()
    assert 'A demo study.' in md and '5 of 6 runs finished' in md
    assert '| sgdc |' in md and '81.00 ± 1.00' in md  # IoU mean ± std
    assert '78.50 ± 0.71' in md  # pool over its two seeds
    assert '21.00 ± 1.00' in md  # sgdc HD95
    assert 'pool seed 2 (failed)' in md
    assert '| sgdc vs pool | IoU (%) | +2.50 |' in md
    assert osp.isfile(osp.join(work, 'results.png'))
    with open(osp.join(work, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    assert [r['status'] for r in rows].count('done') == 5
    done = [r for r in rows if r['variant'] == 'sgdc']
    assert [float(r['IoU']) for r in done] == [80, 81, 82]


# ----------------------------------------------------------- end to end
@pytest.fixture(scope='module')
def tiny_study(tmp_path_factory):
    root = tmp_path_factory.mktemp('study')
    data = make_tiny_dataset(str(root / 'data'), num_images=4, size=32)
    write_tiny_config(str(root / 'sgdc_tiny.py'), data, max_iters=4,
                      checkpoint_interval=4, val_interval=4)
    _write(root / 'pool.py', "_base_ = ['./sgdc_tiny.py']\n"
           "model = dict(decode_head=dict(kernel_source='pool'))\n")
    ext = dict(type='BaseSegDataset', data_root=data,
               data_prefix=dict(img_path='img_dir', seg_map_path='ann_dir'),
               img_suffix='.png', seg_map_suffix='.png',
               indices=2, metainfo=dict(classes=['background', 'lesion']))
    spec_path = _write(root / 'tiny_study.py', (
        "variants = dict(sgdc='sgdc_tiny.py', pool='pool.py')\n"
        "seeds = [0]\ncompare = [('sgdc', 'pool')]\n"
        f"external = dict(other=dict(dataset={ext!r}, variants=['sgdc']))\n"))
    work = str(root / 'work')
    proc = run_tool(['tools/study.py', spec_path, '--iters', '2',
                     '--work-dir', work], timeout=600)
    return dict(root=root, spec=spec_path, work=work, proc=proc)


@pytest.mark.slow
def test_end_to_end_grid(tiny_study):
    proc, work = tiny_study['proc'], tiny_study['work']
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert '2 runs, 0 already finished' in proc.stdout
    for variant in ('sgdc', 'pool'):
        run_dir = osp.join(work, 'runs', variant, 'seed0')
        with open(osp.join(run_dir, 'result.json')) as f:
            result = json.load(f)
        assert result['iters'] == 2 and result['seed'] == 0
        assert result['checkpoint'].endswith('iter_2.pth')
        assert result['num_test_images'] == 4
        assert 0 <= result['metrics']['medical/mIoU'] <= 100
        cfg = Config.fromfile(osp.join(run_dir, 'config.py'))
        assert cfg.train_cfg.max_iters == 2 and cfg.randomness.seed == 0
    pool = Config.fromfile(osp.join(work, 'runs', 'pool', 'seed0',
                                    'config.py'))
    assert pool.model.decode_head.kernel_source == 'pool'
    md = open(osp.join(work, 'results.md')).read()
    assert '2 of 2 runs finished' in md and '| sgdc vs pool |' in md
    assert '| other | sgdc | 2 | 1 |' in md  # external: 2 images, 1 seed
    with open(osp.join(work, 'results_external.csv')) as f:
        (ext_row, ) = list(csv.DictReader(f))
    assert ext_row['variant'] == 'sgdc' and ext_row['num_images'] == '2'
    assert osp.isfile(osp.join(work, 'results.png'))


@pytest.mark.slow
def test_finished_runs_are_not_repeated_and_changes_are_refused(tiny_study):
    spec_path, work = tiny_study['spec'], tiny_study['work']
    result = osp.join(work, 'runs', 'sgdc', 'seed0', 'result.json')
    stamp = os.stat(result).st_mtime_ns
    proc = run_tool(['tools/study.py', spec_path, '--iters', '2',
                     '--work-dir', work, '--no-external'], timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert '2 runs, 2 already finished' in proc.stdout
    assert os.stat(result).st_mtime_ns == stamp
    proc = run_tool(['tools/study.py', spec_path, '--iters', '3',
                     '--work-dir', work], timeout=300)
    assert proc.returncode != 0
    assert 'holds a run of a different configuration' in proc.stdout


@pytest.mark.slow
def test_interrupted_run_resumes_from_its_checkpoint(tiny_study):
    spec_path, work = tiny_study['spec'], tiny_study['work']
    run_dir = osp.join(work, 'runs', 'pool', 'seed0')
    os.remove(osp.join(run_dir, 'result.json'))  # as if killed after training
    proc = run_tool(['tools/study.py', spec_path, '--iters', '2',
                     '--work-dir', work, '--variants', 'pool',
                     '--no-external'], timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'resuming from' in proc.stdout
    with open(osp.join(run_dir, 'result.json')) as f:
        assert json.load(f)['resumed'] is True
    with open(osp.join(run_dir, 'train.log')) as f:
        assert '--resume' in f.read()
