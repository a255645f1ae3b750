"""sgdc_mmseg.study.report: results.csv, results.md and results.png from the
runs' result.json files; the reports in docs/results are what the report
writer makes of their runs."""
import csv
import json
import os
import os.path as osp

import pytest

from sgdc_mmseg.study.report import (CSV_FIELDS, EXTERNAL_FIELDS,
                                     collect_rows, comparison_table,
                                     external_table, write_report)
from sgdc_mmseg.study.runs import Run

from helpers import REPO_ROOT

CPU_SGDC = osp.join(REPO_ROOT, 'configs', 'sgdc',
                    'sgdc_r18-half_1xb8-600_isic2017-128x96.py')
DOCS_RESULTS = osp.join(REPO_ROOT, 'docs', 'results')
# results.csv column -> summary.json metric key
METRIC_KEYS = {'IoU': 'medical/mIoU', 'Dice': 'medical/mDice',
               'HD95': 'medical/mHD95', 'ASSD': 'medical/mASSD',
               'mmseg_mIoU': 'mIoU'}


def _fake_result(work_dir, variant, seed, iou, hd95, config):
    run = Run(work_dir, variant, config, seed)
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
    md_path = write_report(s, work, failures={('pool', 2)})
    assert md_path == osp.join(work, 'results.md')
    md = open(md_path).read()
    assert md.startswith('# Study `demo`\n\nA demo study.\n\n5 of 6 runs ')
    assert '| sgdc |' in md and '81.00 ± 1.00' in md  # IoU mean ± std
    assert '78.50 ± 0.71' in md  # pool over its two seeds
    assert '21.00 ± 1.00' in md  # sgdc HD95
    assert '| 0.400 ± 0.000 |' in md  # s/iter with 3 digits
    assert '\nNot finished: pool seed 2 (failed)\n' in md
    assert '| sgdc vs pool | IoU (%) | +2.50 |' in md
    assert md.endswith('\n\n![per-seed results](results.png)\n')
    assert 'External test sets' not in md
    assert not osp.exists(osp.join(work, 'results_external.csv'))
    with open(osp.join(work, 'results.png'), 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    with open(osp.join(work, 'results.csv')) as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames) == CSV_FIELDS
    assert len(rows) == 6
    assert [r['status'] for r in rows].count('done') == 5
    done = [r for r in rows if r['variant'] == 'sgdc']
    assert [float(r['IoU']) for r in done] == [80, 81, 82]
    assert done[0]['config'] == osp.relpath(CPU_SGDC, REPO_ROOT)
    assert rows[-1]['status'] == 'failed' and rows[-1]['IoU'] == ''


def test_no_finished_run_gives_no_plot(tmp_path):
    s = dict(name='demo', seeds=[0], variants=dict(a=CPU_SGDC), compare=[],
             external={})
    md = open(write_report(s, str(tmp_path))).read()
    assert '0 of 1 runs finished' in md and 'Not finished: a seed 0 ' \
        '(missing)' in md
    assert not osp.exists(tmp_path / 'results.png')
    (row, ) = collect_rows(s, str(tmp_path))
    assert row['status'] == 'missing'


def test_comparison_table_dashes():
    (line, ) = comparison_table([dict(
        candidate='a', baseline='b', metric='IoU (%)', diff=-1.234,
        std_candidate=None, std_baseline=0.5, ratio=None, p=None)])[2:]
    assert line == '| a vs b | IoU (%) | -1.23 | — / 0.50 | — | — |'


def test_external_table():
    rows = [dict(external='ph2', variant='a', seed=s, num_images=4,
                 best_on_study_test=s == 1, IoU=v, Dice=v + 1, HD95=None)
            for s, v in [(0, 60.0), (1, 62.0)]]
    lines = external_table(rows)
    assert lines[0].endswith('| best seed: IoU / Dice / HD95 |')
    assert lines[2] == ('| ph2 | a | 4 | 2 | 61.00 ± 1.41 | 62.00 ± 1.41 | — '
                        '| 62.00 / 63.00 / — (seed 1) |')


def _rebuild_runs(csv_path, work_dir):
    """result.json of every finished run listed in a results.csv."""
    def value(text, kind=float):
        return None if text == '' else kind(text)
    with open(csv_path) as f:
        for r in csv.DictReader(f):
            run = Run(work_dir, r['variant'], '', int(r['seed']))
            os.makedirs(run.run_dir)
            with open(run.result_path, 'w') as out:
                json.dump(dict(
                    variant=r['variant'], seed=int(r['seed']),
                    config=osp.join(REPO_ROOT, r['config']),
                    iters=value(r['iters'], int),
                    train_wall_s=value(r['train_wall_s']),
                    resumed=r['resumed'] == 'True',
                    s_per_iter=value(r['s_per_iter']),
                    max_memory_mb=value(r['max_memory_mb'], int),
                    test_wall_s=value(r['test_wall_s']),
                    num_test_images=value(r['num_test_images'], int),
                    metrics={k: value(r[c]) for c, k in METRIC_KEYS.items()}),
                    out)


def _external_rows(csv_path):
    with open(csv_path) as f:
        return [dict(r, seed=int(r['seed']), num_images=int(r['num_images']),
                     best_on_study_test=r['best_on_study_test'] == 'True',
                     **{c: float(r[c]) for c in METRIC_KEYS})
                for r in csv.DictReader(f)]


@pytest.mark.parametrize('name', ['isic2017_cpu', 'isic2017_gpu'])
def test_docs_results_are_regenerated_unchanged(tmp_path, name):
    """The shipped reports (docs/results/<study>/) come out byte for byte
    from their runs (rebuilt from results.csv): results.md, and results.csv
    and results_external.csv but for the run directories."""
    from sgdc_mmseg.study.schema import load_study
    src = osp.join(DOCS_RESULTS, name)
    study = load_study([osp.join(REPO_ROOT, 'configs', 'studies',
                                 f'{name}.py')])
    work = str(tmp_path)
    _rebuild_runs(osp.join(src, 'results.csv'), work)
    ext = _external_rows(osp.join(src, 'results_external.csv'))
    write_report(study, work, external_rows=ext)
    for file_name, fields in [('results.md', None),
                              ('results.csv', CSV_FIELDS),
                              ('results_external.csv', EXTERNAL_FIELDS)]:
        with open(osp.join(src, file_name), newline='') as f:
            want = f.read()
        with open(osp.join(work, file_name), newline='') as f:
            got = f.read()
        if fields is not None:  # the run dirs were elsewhere
            want, got = (_drop_last_column(t) for t in (want, got))
        assert got == want, file_name


def _drop_last_column(text):
    return '\n'.join(line.rsplit(',', 1)[0] for line in text.split('\n'))
