"""sgdc_mmseg.cli.study (tools/study.py): options, exit statuses, the
dry run, --report-only, and a tiny end-to-end grid (train, test, resume,
external test set) on generated data through tools/study.py."""
import csv
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from sgdc_mmseg.cli.study import build_parser, main
from sgdc_mmseg.study import runs

from helpers import make_tiny_dataset, run_tool, write_tiny_config

FAKE_TRAIN = '''\
import os, sys
args = sys.argv[1:]
work_dir = args[args.index('--work-dir') + 1]
if 'bad.py' in open(args[0]).read():
    sys.exit(1)
ckpt = os.path.join(work_dir, 'iter_1.pth')
open(ckpt, 'w').write('x')
open(os.path.join(work_dir, 'last_checkpoint'), 'w').write(ckpt)
'''
FAKE_TEST = '''\
import json, os, sys
out = sys.argv[sys.argv.index('--out') + 1]
os.makedirs(out, exist_ok=True)
json.dump(dict(num_images=3, metrics={'medical/mIoU': 50.0}),
          open(os.path.join(out, 'summary.json'), 'w'))
'''


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def test_parser_options_and_defaults():
    args = build_parser().parse_args(['s.py'])
    assert vars(args) == dict(
        study=['s.py'], variants=None, seeds=None, work_dir=None,
        iters=None, jobs=1, cfg_options=[], report_only=False,
        from_results_csv=False, fold_ids=None,
        externals_only=False, no_external=False, dry_run=False)
    args = build_parser().parse_args([
        'a.py', 'b.py', '--variants', 'x', 'y', '--seeds', '1', '2',
        '--work-dir', 'w', '--iters', '3', '--jobs', '2', '--cfg-options',
        'a=1', 'b=[1,2]', '--report-only', '--externals-only',
        '--no-external', '--dry-run'])
    assert args.seeds == [1, 2] and args.iters == 3 and args.jobs == 2
    assert args.cfg_options == ['a=1', 'b=[1,2]']  # passed on as strings
    assert args.variants == ['x', 'y'] and args.study == ['a.py', 'b.py']
    help_text = build_parser().format_help()
    assert '--variants sgdc pool --seeds 0 --iters 20' in help_text


@pytest.fixture
def fake_study(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, 'TRAIN_TOOL',
                        _write(tmp_path / 'fake_train.py', FAKE_TRAIN))
    monkeypatch.setattr(runs, 'TEST_TOOL',
                        _write(tmp_path / 'fake_test.py', FAKE_TEST))
    _write(tmp_path / 'good.py', 'train_cfg = dict(max_iters=1)\n')
    _write(tmp_path / 'bad.py', 'train_cfg = dict(max_iters=1)\n')
    return _write(tmp_path / 'spec.py', (
        "variants = dict(good='good.py', bad='bad.py')\n"
        "seeds = [0]\ncompare = [('good', 'bad')]\n")), str(tmp_path / 'w')


def test_dry_run_runs_nothing(fake_study, capsys):
    spec, work = fake_study
    assert main([spec, '--work-dir', work, '--dry-run']) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ('study spec: 2 variants x 1 seeds = 2 runs, 0 already '
                      f'finished; work dir {work}')
    assert out[1].startswith('[to run] good seed 0: ')
    assert len(out) == 3 and not osp.exists(osp.join(work, 'runs'))


def test_a_failed_run_exits_1_after_the_report(fake_study, capsys):
    spec, work = fake_study
    assert main([spec, '--work-dir', work]) == 1
    out = capsys.readouterr().out
    assert 'FAILED bad seed 0: training failed (exit 1)' in out
    assert f'results: {work}/results.md' in out
    assert 'Not finished: bad seed 0 (failed)' in out
    # only the finished run is skipped; --report-only runs nothing
    assert main([spec, '--work-dir', work, '--report-only']) == 0
    out = capsys.readouterr().out
    assert '2 runs, 1 already finished' in out
    assert 'Not finished: bad seed 0 (missing)' in out
    assert not osp.exists(osp.join(work, 'runs', 'bad', 'seed0',
                                   'result.json'))


@pytest.mark.parametrize('argv, match', [
    (['--variants', 'nope'], r"error: --variants: unknown \['nope'\]"),
    (['--iters', '-1'], 'error: --iters must be >= 1, got -1'),
    (['--cfg-options', 'nokey'],
     "error: --cfg-options: 'nokey' is not KEY=VALUE"),
])
def test_bad_arguments_exit_with_an_error(fake_study, argv, match):
    spec, work = fake_study
    with pytest.raises(SystemExit, match=match):
        main([spec, '--work-dir', work] + argv)
    assert not osp.exists(work)


def test_a_changed_configuration_is_refused(fake_study, capsys):
    spec, work = fake_study
    main([spec, '--work-dir', work, '--variants', 'good'])
    with pytest.raises(SystemExit, match='good/seed0 holds a run of a '
                       'different configuration'):
        main([spec, '--work-dir', work, '--variants', 'good',
              '--cfg-options', 'a=1'])


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
def test_a_run_killed_after_training_is_tested_not_retrained(tiny_study):
    # (a run killed mid-training resumes: tests/study/test_runs.py)
    spec_path, work = tiny_study['spec'], tiny_study['work']
    run_dir = osp.join(work, 'runs', 'pool', 'seed0')
    os.remove(osp.join(run_dir, 'result.json'))  # as if killed after training
    with open(osp.join(run_dir, 'train.log')) as f:
        train_log = f.read()
    proc = run_tool(['tools/study.py', spec_path, '--iters', '2',
                     '--work-dir', work, '--variants', 'pool',
                     '--no-external'], timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'iter_2.pth is the last iteration (2): testing it' in proc.stdout
    with open(osp.join(run_dir, 'result.json')) as f:
        result = json.load(f)
    assert result['resumed'] is True and result['train_wall_s'] == 0.0
    with open(osp.join(run_dir, 'train.log')) as f:
        assert f.read() == train_log  # tools/train.py did not run again


def test_report_from_a_shipped_results_csv(tmp_path, capsys):
    """--report-only --from-results-csv rebuilds results.md of a shipped
    report (docs/results/isic2017_cpu) from its CSVs, nothing else."""
    from helpers import REPO_ROOT
    src = osp.join(REPO_ROOT, 'docs', 'results', 'isic2017_cpu')
    work = tmp_path / 'r'
    work.mkdir()
    for name in ('results.csv', 'results_external.csv'):
        (work / name).write_bytes(open(osp.join(src, name), 'rb').read())
    study = osp.join(REPO_ROOT, 'configs', 'studies', 'isic2017_cpu.py')
    assert main([study, '--report-only', '--from-results-csv',
                 '--work-dir', str(work)]) == 0
    assert (work / 'results.md').read_text() == \
        open(osp.join(src, 'results.md')).read()
    assert sorted(os.listdir(work)) == ['results.csv', 'results.md',
                                        'results_external.csv']
    with pytest.raises(SystemExit, match='--from-results-csv needs '
                       '--report-only'):
        main([study, '--from-results-csv', '--work-dir', str(work)])
    with pytest.raises(SystemExit, match='no .*empty/results.csv'):
        main([study, '--report-only', '--from-results-csv', '--work-dir',
              str(tmp_path / 'empty')])


def test_folds_option(fake_study, tmp_path, capsys):
    spec, work = fake_study
    with pytest.raises(SystemExit, match='--folds: the study has no'):
        main([spec, '--folds', '0', '--dry-run', '--work-dir', work])
    cv = _write(tmp_path / 'cv.py', (
        "variants = dict(good='good.py')\nseeds = [0]\niters = 1\n"
        "folds = dict(num_folds=3, train_split='t{fold}.txt', "
        "test_split='v{fold}.txt')\n"))
    with pytest.raises(SystemExit, match=r'--folds: \[3\] not in 0..2'):
        main([cv, '--folds', '3', '--dry-run', '--work-dir', work])
    assert main([cv, '--folds', '2', '0', '--dry-run', '--work-dir',
                 work]) == 0
    out = capsys.readouterr().out
    assert '1 variants x 1 seeds x 2 folds = 2 runs' in out
    assert '[to run] good seed 0 fold 2: ' in out


def test_a_study_with_ensemble_reports_it(fake_study, tmp_path, capsys):
    _, work = fake_study
    spec = _write(tmp_path / 'ens.py', (
        "variants = dict(good='good.py')\nseeds = [0, 1]\nensemble = True\n"))
    assert main([spec, '--work-dir', work]) == 0
    md = open(osp.join(work, 'results.md')).read()
    assert '## Ensembles and post-processing' in md
    assert '| good | ensemble of seeds | 2 | 3 | 50.00 |' in md
    assert osp.isfile(osp.join(work, 'ensembles', 'good', 'seeds',
                               'summary.json'))
