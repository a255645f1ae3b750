"""sgdc_mmseg.study.ensembles: the ensemble-of-seeds / -of-folds and
post-processed rows of a finished study, tested through a fake
tools/test.py that records its command line."""
import json
import os
import os.path as osp

import pytest

from sgdc_mmseg.study import runs
from sgdc_mmseg.study.ensembles import ensemble_test_cmd, extra_rows
from sgdc_mmseg.study.report import extra_table
from sgdc_mmseg.study.runs import study_runs

FAKE_TEST = '''\
import json, os, sys
args = sys.argv[1:]
out = args[args.index('--out') + 1]
os.makedirs(out, exist_ok=True)
n = len(args[args.index('--ensemble') + 1:args.index('--work-dir')]) \\
    if '--ensemble' in args else 0
fold = 1 if 'fold1' in out else 0
json.dump(dict(num_images=1 + 2 * fold, metrics={
    'medical/mIoU': 60.0 + 10 * n + 4 * fold}), open(os.path.join(
        out, 'summary.json'), 'w'))
open(os.path.join(out, 'argv.json'), 'w').write(json.dumps(args))
'''


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


@pytest.fixture
def finished_cv(tmp_path, monkeypatch):
    fake = _write(tmp_path / 'fake_test.py', FAKE_TEST)
    monkeypatch.setattr(runs, 'TEST_TOOL', fake)
    config = _write(tmp_path / 'a.py', 'x = 1\n')
    study = dict(name='cv', variants=dict(a=config), seeds=[0, 1],
                 compare=[], external={}, ensemble=True,
                 folds=dict(num_folds=2, train_split='t{fold}',
                            test_split='v{fold}'))
    work = str(tmp_path / 'w')
    for run in study_runs(study, work):
        os.makedirs(run.run_dir)
        _write(run.run_config, run.config_text())
        with open(run.result_path, 'w') as f:
            json.dump(dict(checkpoint=f'{run.run_dir}/iter_9.pth',
                           cfg_options=['k=1']), f)
    return study, work, config


def test_ensemble_test_cmd():
    cmd = ensemble_test_cmd('c.py', ['a.pth', 'b.pth'], 'out', ['k=1'],
                            postprocess='pp.json', test_tool='test.py')
    assert cmd[1:] == ['test.py', 'c.py', 'a.pth', '--ensemble', 'b.pth',
                       '--postprocess', 'pp.json', '--work-dir', 'out',
                       '--out', 'out', '--cfg-options', 'k=1']
    assert '--ensemble' not in ensemble_test_cmd('c.py', ['a.pth'], 'o')


def test_seed_and_fold_ensembles(finished_cv):
    study, work, config = finished_cv
    assert extra_rows(study, work, run_missing=False) == []  # none tested
    messages = []
    rows = extra_rows(study, work, log=messages.append)
    assert messages[0] == '  ensemble of 2 seeds: a seeds_fold0'
    seeds_row, fold0_row, fold1_row = rows
    # fold 0: 70 on 1 image, fold 1: 74 on 3 images -> (70 + 3 * 74) / 4
    assert seeds_row['kind'] == 'ensemble of seeds'
    assert seeds_row['IoU'] == pytest.approx(73.0)
    assert seeds_row['num_images'] == 4 and seeds_row['members'] == 2
    with open(osp.join(work, 'ensembles', 'a', 'seeds_fold1',
                       'argv.json')) as f:
        argv = json.load(f)
    run0 = osp.join(work, 'runs', 'a', 'fold1', 'seed0')
    assert argv[:4] == [osp.join(run0, 'config.py'), f'{run0}/iter_9.pth',
                        '--ensemble', osp.join(
                            work, 'runs', 'a', 'fold1', 'seed1',
                            'iter_9.pth')]
    assert argv[-2:] == ['--cfg-options', 'k=1']
    # the fold ensemble tests the variant's own config (its test set)
    assert fold0_row['kind'] == 'ensemble of folds'
    assert fold0_row['seed'] == 0 and fold0_row['IoU'] == 70.0
    with open(osp.join(work, 'ensembles', 'a', 'folds_seed1',
                       'argv.json')) as f:
        assert json.load(f)[0] == config
    # reused afterwards, also in report-only mode
    assert extra_rows(study, work, run_missing=False) == rows
    lines = extra_table(rows, [dict(variant='a', status='done', IoU=70.0,
                                    num_test_images=4)], ['a'])
    assert lines[3].startswith('| a | ensemble of seeds | 2 | 4 | 73.00 |')
    assert lines[4].startswith('| a | ensemble of folds | 2 | 1 | 70.00 ± '
                               '0.00 |')


def test_a_failed_ensemble_names_its_log(finished_cv, tmp_path,
                                         monkeypatch):
    study, work, _ = finished_cv
    monkeypatch.setattr(runs, 'TEST_TOOL', _write(
        tmp_path / 'bad.py',
        'import sys\nprint("no ensemble")\nsys.exit(2)\n'))
    with pytest.raises(RuntimeError, match=r'(?s)ensemble of 2 seeds: a '
                       'seeds_fold0 failed; see .*seeds_fold0/test.log:\n'
                       '.*no ensemble'):
        extra_rows(study, work, log=lambda *a: None)


def test_postprocessing_chosen_on_the_pooled_folds(finished_cv, monkeypatch):
    """The spec is chosen once on all folds' predictions (here a stand-in
    for the prediction reader: one image with a speck the rule removes),
    saved, and every fold re-tested with --postprocess."""
    import numpy as np

    from sgdc_mmseg.apis import postprocessing as api
    from sgdc_mmseg.evaluation.postprocessing import choose_postprocessing
    study, work, _ = finished_cv
    study = dict(study, ensemble=False, postprocess=True, seeds=[0])
    calls = []

    def choose(config, pred_dirs, cfg_options=None, log=print, **kwargs):
        calls.append((config, pred_dirs, cfg_options))
        gt = np.zeros((8, 8), np.uint8)
        gt[1:4, 1:4] = 1
        pred = gt.copy()
        pred[6, 6] = 1  # a false-positive speck
        return choose_postprocessing([(pred, gt)], 2,
                                     class_names=('bg', 'lesion'))
    monkeypatch.setattr(api, 'choose_from_prediction_dirs', choose)
    rows = extra_rows(study, work, log=lambda *a: None)
    fold = [osp.join(work, 'runs', 'a', f'fold{f}', 'seed0') for f in (0, 1)]
    assert calls == [(osp.join(fold[0], 'config.py'),
                      [osp.join(d, 'test', 'pred') for d in fold],
                      {'k': 1})]
    (row, ) = rows
    assert row['kind'] == 'post-processed' and row['seed'] == 0
    assert row['note'].startswith('post-processing: lesion: ')
    spec_path = osp.join(work, 'postprocessing', 'a_seed0.json')
    with open(osp.join(work, 'postprocessed', 'a', 'fold1', 'seed0',
                       'argv.json')) as f:
        argv = json.load(f)
    assert argv[argv.index('--postprocess') + 1] == spec_path
    # chosen once: the saved spec is reused
    assert extra_rows(study, work, run_missing=False) == rows
    assert len(calls) == 1
