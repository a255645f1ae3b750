"""sgdc_mmseg.study.external: finished runs tested on another dataset (the
config that swaps the test set, reuse of finished tests, the rows, and
failures naming the log or file)."""
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from sgdc_mmseg.study import runs
from sgdc_mmseg.study.external import (best_seed_row, external_results,
                                       external_test_config_text,
                                       prefixed_key)
from sgdc_mmseg.study.runs import Run

from helpers import REPO_ROOT

CPU_SGDC = osp.join(REPO_ROOT, 'configs', 'sgdc',
                    'sgdc_r18-half_1xb8-600_isic2017-128x96.py')
PH2 = dict(type='PH2Dataset', data_root='data/ph2', ann_file='splits/all.txt')
FAKE_TEST = '''\
import json, os, sys
args = sys.argv[1:]
out = args[args.index('--out') + 1]
print('fake external test', ' '.join(args))
if os.environ.get('FAKE_TEST_FAIL'):
    print('no such dataset')
    sys.exit(1)
json.dump(dict(num_images=4, metrics={'medical/mIoU': 60.0, 'mIoU': 70.0}),
          open(os.path.join(out, 'summary.json'), 'w'))
'''


def _write(path, text):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def test_external_config_replaces_the_test_set_only(tmp_path):
    run = Run(str(tmp_path), 'sgdc', CPU_SGDC, 0)
    os.makedirs(run.run_dir)
    _write(run.run_config, run.config_text())
    text = external_test_config_text(run, PH2)
    cfg = Config.fromfile(_write(tmp_path / 'ext.py', text))
    base = Config.fromfile(run.run_config)
    ds = cfg.test_dataloader.dataset
    assert ds.type == 'PH2Dataset' and ds.data_root == 'data/ph2'
    assert 'data_prefix' not in ds and 'img_suffix' not in ds
    assert ds.pipeline == base.test_dataloader.dataset.pipeline
    assert cfg.model == base.model
    assert cfg.val_dataloader == base.val_dataloader
    own = external_test_config_text(run, dict(PH2, pipeline=[]))
    cfg = Config.fromfile(_write(tmp_path / 'own.py', own))
    assert cfg.test_dataloader.dataset.pipeline == []


def _finished_run(work, variant, seed, config, cfg_options=()):
    run = Run(work, variant, config, seed)
    os.makedirs(run.run_dir)
    _write(run.run_config, run.config_text())
    ckpt = _write(osp.join(run.run_dir, 'iter_2.pth'), 'x')
    with open(run.result_path, 'w') as f:
        json.dump(dict(checkpoint=ckpt, cfg_options=list(cfg_options)), f)
    return dict(variant=variant, seed=seed, status='done')


@pytest.fixture
def study_with_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, 'TEST_TOOL',
                        _write(tmp_path / 'fake_test.py', FAKE_TEST))
    base = _write(tmp_path / 'base.py', (
        "test_dataloader = dict(dataset=dict(type='X', pipeline=[]))\n"))
    work = str(tmp_path / 'work')
    rows = [dict(_finished_run(work, 'a', 0, base, ['k=1']), IoU=70.0),
            dict(_finished_run(work, 'a', 1, base), IoU=72.0),
            dict(_finished_run(work, 'b', 0, base), IoU=50.0),
            dict(variant='b', seed=1, status='failed')]
    study = dict(variants=dict(a=base, b=base), external=dict(
        ph2=dict(dataset=PH2, variants=['a'])))
    return study, work, rows


def test_external_results_test_and_reuse(study_with_runs):
    study, work, rows = study_with_runs
    assert external_results(study, work, rows, run_missing=False) == []
    messages = []
    ext = external_results(study, work, rows, log=messages.append)
    assert messages == ['  external ph2: a seed 0', '  external ph2: a seed 1']
    out0 = osp.join(work, 'external', 'ph2', 'a_seed0')
    assert ext[0] == dict(external='ph2', variant='a', seed=0,
                          best_on_study_test=False, num_images=4,
                          out_dir=out0, IoU=60.0, Dice=None, HD95=None,
                          ASSD=None, mmseg_mIoU=70.0)
    assert [r['best_on_study_test'] for r in ext] == [False, True]
    with open(osp.join(out0, 'test.log')) as f:
        log = f.read()
    assert 'iter_2.pth' in log and '--cfg-options k=1' in log
    cfg = Config.fromfile(osp.join(out0, 'config.py'))
    assert cfg.test_dataloader.dataset.type == 'PH2Dataset'
    # finished tests are reused, not run again
    assert external_results(study, work, rows, log=pytest.fail) == ext
    assert external_results(study, work, rows, run_missing=False) == ext


def test_external_failures_name_the_log_or_file(study_with_runs,
                                                monkeypatch):
    study, work, rows = study_with_runs
    monkeypatch.setenv('FAKE_TEST_FAIL', '1')
    with pytest.raises(RuntimeError, match=r'(?s)external test of a seed 0 '
                       'failed; see .*a_seed0/test.log:\n.*no such dataset'):
        external_results(study, work, rows, log=lambda *a: None)
    summary = osp.join(work, 'external', 'ph2', 'a_seed0', 'summary.json')
    _write(summary, '{"num_images": ')
    with pytest.raises(ValueError, match='a_seed0/summary.json is not valid '
                       'JSON'):
        external_results(study, work, rows, run_missing=False)


def test_best_seed_row():
    rows = [dict(seed=0, IoU=None), dict(seed=1, IoU=3.0),
            dict(seed=2, IoU=5.0), dict(seed=3, IoU=5.0)]
    assert best_seed_row(rows)['seed'] == 2  # the first of equals
    assert best_seed_row(rows[:1])['seed'] == 0


def test_external_overrides_without_a_dataset(tmp_path):
    """An entry with `overrides` only re-tests the study's own test set
    another way (e.g. the MoNuSeg SGE instance split)."""
    run = Run(str(tmp_path), 'sgdc', CPU_SGDC, 0)
    os.makedirs(run.run_dir)
    _write(run.run_config, run.config_text())
    text = external_test_config_text(run, None, dict(
        model=dict(type='StructureEncoderDecoder'),
        test_evaluator=[dict(type='NucleiMetric', pred_instances='sge')]))
    cfg = Config.fromfile(_write(tmp_path / 'sge.py', text))
    base = Config.fromfile(run.run_config)
    assert cfg.model.type == 'StructureEncoderDecoder'
    assert cfg.model.backbone == base.model.backbone
    assert cfg.test_evaluator == [dict(type='NucleiMetric',
                                       pred_instances='sge')]
    assert cfg.test_dataloader == base.test_dataloader


def test_metric_prefix_reads_the_runs_own_test(study_with_runs):
    """``metric_prefix`` rows come from the run's own test summary with the
    metric keys' prefix replaced; nothing is re-tested."""
    _, work, rows = study_with_runs
    base = osp.join(work, '..', 'base.py')
    study = dict(variants=dict(a=base, b=base), metrics='nuclei',
                 external=dict(sge=dict(metric_prefix='nuclei_sge',
                                        variants=['a'])))
    test0 = osp.join(work, 'runs', 'a', 'seed0', 'test')
    keys = ('mDice', 'mIoU', 'mAJI', 'mPQ')
    _write(osp.join(test0, 'summary.json'), json.dumps(dict(
        num_images=6, metrics={
            **{f'nuclei/{k}': 1.0 for k in keys},
            **{f'nuclei_sge/{k}': v for k, v in zip(keys, (80, 70, 55, 50))}
        })))
    # seed 1's test scored no SGE keys: the error names its summary
    _write(osp.join(work, 'runs', 'a', 'seed1', 'test', 'summary.json'),
           json.dumps(dict(num_images=6, metrics={'nuclei/mAJI': 1.0})))
    with pytest.raises(ValueError, match=r"external set 'sge': .*a/seed1/"
                       r"test/summary.json has no \['nuclei_sge/mDice'"):
        external_results(study, work, rows, log=pytest.fail)
    rows = [r for r in rows if r['seed'] == 0]
    assert external_results(study, work, rows, log=pytest.fail) == [dict(
        external='sge', variant='a', seed=0, best_on_study_test=True,
        num_images=6, out_dir=test0, Dice=80, IoU=70, AJI=55, PQ=50)]
    assert not osp.exists(osp.join(work, 'external'))


def test_prefixed_key():
    assert prefixed_key('nuclei/mAJI', 'nuclei_sge') == 'nuclei_sge/mAJI'
    assert prefixed_key('mIoU', 'x') == 'x/mIoU'
    assert prefixed_key('nuclei/mAJI', None) == 'nuclei/mAJI'

