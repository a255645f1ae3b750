"""sgdc_mmseg.study.schema: study files (shipped and generated), configs
given directly, their errors, restricting a study, the work dir and the
reported metrics."""
import glob
import os.path as osp

import pytest

from sgdc_mmseg.evaluation import test_outputs
from sgdc_mmseg.study.schema import (METRICS, StudyError, load_study,
                                     select_variants_and_seeds,
                                     study_metrics, study_work_dir,
                                     variant_name)

from helpers import REPO_ROOT

STUDY_FILES = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'studies',
                                         '*.py')))


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


@pytest.mark.parametrize('path', STUDY_FILES, ids=osp.basename)
def test_shipped_study_files_load(path):
    s = load_study([path])
    # sgdc against the paper's baseline (pooled kernels) or, in a study
    # that anchors SGDC to a published protocol (drive_gpu.py), against
    # the plain mmseg model of that protocol
    assert 'sgdc' in s['variants']
    assert {b for c, b in s['compare'] if c == 'sgdc'} & {
        'pool', 'fcn-unet', 'upernet'}
    if s['folds'] is None:  # a plain mmseg model beside the dynamic kernels
        assert {'self'} <= set(s['variants'])
        assert {'upernet', 'fcn-unet'} & set(s['variants'])
    # several seeds, or several folds
    assert len(s['seeds']) * (s['folds'] or {}).get('num_folds', 1) >= 2
    if 'pool' in s['variants']:
        assert ('sgdc', 'pool') in s['compare']
    for config in s['variants'].values():
        assert osp.isfile(config)
    if 'ph2' in s['external']:
        assert {'sgdc', 'pool'} <= set(s['external']['ph2']['variants'])


def test_every_protocol_has_a_study_file():
    assert {'isic2017_cpu.py', 'isic2017_gpu.py', 'isic2016_r50.py',
            'isic2018_r50.py', 'conic_r50.py'} <= set(
                map(osp.basename, STUDY_FILES))
    cpu = load_study(
        [osp.join(REPO_ROOT, 'configs', 'studies', 'isic2017_cpu.py')])
    assert cpu['seeds'] == [0, 1, 2]
    assert cpu['name'] == 'isic2017_cpu' and cpu['description']


def test_study_file_paths_are_relative_to_it(tmp_path):
    _write(tmp_path / 'a.py', "x = 1\n")
    path = _write(tmp_path / 'study.py',
                  "variants = dict(first='a.py')\nseeds = [3, 4]\n"
                  "compare = [['first', 'first']]\n")
    s = load_study([path])
    assert s == dict(name='study', variants={'first': str(tmp_path / 'a.py')},
                     seeds=[3, 4], work_dir=None,
                     compare=[('first', 'first')], external={},
                     description='', iters=None, metrics='medical',
                     folds=None, ensemble=False, postprocess=False)


@pytest.mark.parametrize('text, match', [
    ("variants = dict(a='missing.py')\n", "variant 'a'.*missing.py"),
    ("variants = dict()\n", r'study.py: `variants` must be a non-empty'),
    ("variants = ['a.py']\n", r'study.py: `variants` must be a non-empty'),
    ("variants = dict(a='a.py')\ncompare = [('a', 'b')]\n",
     r"compare entry \('a', 'b'\) must name two of the variants \['a'\]"),
    ("variants = dict(a='a.py')\ncompare = [('a', )]\n", 'compare entry'),
    ("variants = dict(a='a.py')\nexternal = dict(x=dict(dataset=dict(), "
     "variants=['b']))\n", "external set 'x' names unknown variant 'b'"),
    ("variants = dict(a='a.py')\nexternal = dict(x=dict())\n",
     "external set 'x' needs a `dataset`"),
    ("variants = dict(a='a.py')\nexternal = dict(x=dict(metric_prefix='p', "
     "overrides=dict()))\n", "external set 'x': `metric_prefix` reads the "
     "runs' own test and takes no `dataset` or `overrides`"),
])
def test_study_file_errors(tmp_path, text, match):
    _write(tmp_path / 'a.py', "x = 1\n")
    path = _write(tmp_path / 'study.py', text)
    with pytest.raises(StudyError, match=match):
        load_study([path])


def test_configs_given_directly_are_named_by_algorithm(tmp_path):
    a = _write(tmp_path / 'sgdc-pool_r50_x.py', "x = 1\n")
    b = _write(tmp_path / 'upernet_r50_x.py', "x = 1\n")
    s = load_study([a, b])
    assert list(s['variants']) == ['sgdc-pool', 'upernet']
    assert s['seeds'] == [0] and s['name'] == 'study'
    c = _write(tmp_path / 'upernet_r18_y.py', "x = 1\n")
    with pytest.raises(StudyError, match="variant name 'upernet'"):
        load_study([b, c])
    with pytest.raises(StudyError, match='no such file: .*nope.py'):
        load_study([str(tmp_path / 'nope.py')])
    with pytest.raises(StudyError, match='give a study file'):
        load_study([])


def test_a_study_file_among_configs_is_refused(tmp_path):
    a = _write(tmp_path / 'sgdc_x.py', "x = 1\n")
    spec = _write(tmp_path / 'spec.py', "variants = dict(a='sgdc_x.py')\n")
    with pytest.raises(StudyError, match='spec.py is a study file'):
        load_study([a, spec])


def test_variant_name():
    assert variant_name('configs/sgdc/sgdc-pool_r50_x.py') == 'sgdc-pool'
    assert variant_name('/a/b/upernet.py') == 'upernet'


def test_select_keeps_order_and_rejects_unknown_names():
    s = dict(variants=dict(a='1', b='2', c='3'), seeds=[0, 1],
             compare=[('a', 'b'), ('a', 'c')])
    sel = select_variants_and_seeds(s, ['c', 'a'], [5])
    assert list(sel['variants']) == ['c', 'a'] and sel['seeds'] == [5]
    assert sel['compare'] == [('a', 'c')]
    assert s['seeds'] == [0, 1] and list(s['variants']) == ['a', 'b', 'c']
    assert select_variants_and_seeds(s) == s
    with pytest.raises(StudyError, match=r"--variants: unknown \['z'\]"):
        select_variants_and_seeds(s, ['z'])


def test_work_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = dict(name='demo', work_dir=None)
    assert study_work_dir(s) == str(tmp_path / 'work_dirs' / 'studies' /
                                    'demo')
    assert study_work_dir(dict(s, work_dir='w')) == str(tmp_path / 'w')
    assert study_work_dir(dict(s, work_dir='w'), '/x/y') == '/x/y'


def test_metrics_are_the_summary_keys_of_the_test_outputs():
    assert [(m.column, m.key) for m in METRICS] == [
        ('IoU', test_outputs.MEDICAL_MIOU),
        ('Dice', test_outputs.MEDICAL_MDICE),
        ('HD95', test_outputs.MEDICAL_MHD95),
        ('ASSD', test_outputs.MEDICAL_MASSD),
        ('mmseg_mIoU', test_outputs.MMSEG_MIOU)]
    assert [m.key for m in METRICS] == [
        'medical/mIoU', 'medical/mDice', 'medical/mHD95', 'medical/mASSD',
        'mIoU']
    assert [m.higher_is_better for m in METRICS] == [
        True, True, False, False, True]


def test_metric_set_iters_and_folds_of_a_study_file(tmp_path):
    _write(tmp_path / 'a.py', "x = 1\n")
    path = _write(tmp_path / 's.py', (
        "variants = dict(a='a.py')\nmetrics = 'nuclei'\niters = 30\n"
        "folds = dict(num_folds=3, train_split='t{fold}', "
        "test_split='v{fold}')\n"))
    s = load_study([path])
    assert s['metrics'] == 'nuclei' and s['iters'] == 30
    assert s['folds']['num_folds'] == 3
    assert [m.key for m in study_metrics(s)] == [
        'nuclei/mDice', 'nuclei/mIoU', 'nuclei/mAJI', 'nuclei/mPQ']
    for text, match in [
            ("metrics = 'vessels'\n", r"metrics = 'vessels' is not one of "
             r"\['medical', 'nuclei', 'vessel'\]"),
            ("iters = 0\n", 's.py: iters must be an integer >= 1'),
            ("folds = dict(num_folds=2)\n", 's.py: folds needs'),
            ("external = dict(x=dict(variants=['a']))\n",
             'needs a `dataset` and/or `overrides`, or a `metric_prefix`')]:
        _write(tmp_path / 's.py', "variants = dict(a='a.py')\n" + text)
        with pytest.raises(StudyError, match=match):
            load_study([path])


def test_new_study_files_load():
    for name, metrics, n in [('drive_cpu', 'vessel', 4),
                             ('monuseg_cpu', 'nuclei', 4),
                             ('isic2017_cv_cpu', 'medical', 2)]:
        s = load_study([osp.join(REPO_ROOT, 'configs', 'studies',
                                 f'{name}.py')])
        assert s['metrics'] == metrics and len(s['variants']) == n
    assert s['folds']['num_folds'] == 5 and s['iters'] == 300
    assert s['folds']['generate']['images'] == \
        'data/isic2017-256x192/train/images'
