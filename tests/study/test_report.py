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
    assert line == ('| a vs b | IoU (%) | -1.23 | — / 0.50 | — | — | — | — '
                    '| — |')


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


# ------------------------------------------------- paired, folds, metric sets
def _per_image_csv(run, header, rows):
    os.makedirs(osp.join(run.run_dir, 'test'), exist_ok=True)
    path = osp.join(run.run_dir, 'test', 'per_image_metrics.csv')
    with open(path, 'w') as f:
        f.write(header + '\n' + '\n'.join(rows) + '\n')


def test_report_paired_statistics_from_per_image_csvs(tmp_path):
    work = str(tmp_path)
    s = dict(name='demo', seeds=[0], variants=dict(a=CPU_SGDC, b=CPU_SGDC),
             compare=[('a', 'b')], external={})
    # a - b per image: 1, -2, 3, 4, 5 (one image skipped, one ties no one)
    values = dict(a=[11, 8, 13, 14, 15], b=[10, 10, 10, 10, 10])
    for variant in ('a', 'b'):
        _fake_result(work, variant, 0, statistics_mean(values[variant]), 20.0,
                     CPU_SGDC)
        run = Run(work, variant, CPU_SGDC, 0)
        _per_image_csv(run, 'image,img_path,IoU.lesion,HD95.lesion,skipped',
                       [f'i{k},p,{v},,' for k, v in enumerate(values[variant])]
                       + ['i9,p,,,gt_all_ignored'])
    md = open(write_report(s, work)).read()
    iou = [line for line in md.splitlines()
           if line.startswith('| a vs b | IoU (%)')][0]
    # one seed: no t-test; Wilcoxon exact p = 0.1875 over 5 images; mean 2.2
    assert iou.startswith('| a vs b | IoU (%) | +2.20 | — / — | — | — | '
                          'n/a (1 seed) | 0.188 (5) | +2.20 [')
    hd95 = [line for line in md.splitlines()
            if line.startswith('| a vs b | HD95 (px)')][0]
    assert hd95.endswith('| n/a (1 seed) | — | — |')  # no per-image HD95
    assert "zero_method='zsplit'" in md and 'B = 2000' in md
    assert open(write_report(s, work)).read() == md  # byte for byte


def statistics_mean(values):
    return sum(values) / len(values)


def test_report_pools_folds(tmp_path):
    from sgdc_mmseg.study.runs import study_runs
    work = str(tmp_path)
    s = dict(name='cv', seeds=[0, 1], variants=dict(a=CPU_SGDC, b=CPU_SGDC),
             compare=[('a', 'b')], external={},
             folds=dict(num_folds=2, train_split='t{fold}',
                        test_split='v{fold}'))
    iou = {('a', 0, 0): 60.0, ('a', 0, 1): 90.0, ('a', 1, 0): 62.0,
           ('a', 1, 1): 92.0, ('b', 0, 0): 50.0, ('b', 0, 1): 80.0,
           ('b', 1, 0): 50.0, ('b', 1, 1): 80.0}
    for run in study_runs(s, work):
        os.makedirs(run.run_dir)
        n = 1 if run.fold == 0 else 3  # fold 1 holds 3 of the 4 images
        with open(run.result_path, 'w') as f:
            json.dump(dict(variant=run.variant, seed=run.seed, fold=run.fold,
                           config=CPU_SGDC, num_test_images=n, metrics={
                               'medical/mIoU': iou[(run.variant, run.seed,
                                                    run.fold)]}), f)
    md = open(write_report(s, work)).read()
    # pooled per seed: (60 * 1 + 90 * 3) / 4 = 82.5 and 84.5
    assert '| a | `sgdc_r18-half_1xb8-600_isic2017-128x96.py` | 2 (0,1) | ' \
        '83.50 ± 1.41 |' in md
    assert '2-fold cross-validation' in md
    assert '\n## Folds\n' in md
    assert '| a | 0 | 2 | 61.00 |' in md and '| a | 1 | 2 | 91.00 |' in md
    assert '| a | mean ± std over folds | | 76.00 ± 21.21 |' in md
    # seed differences 82.5 - 72.5 = 10, 84.5 - 72.5 = 12
    line = [x for x in md.splitlines() if x.startswith('| a vs b | IoU')][0]
    assert line.startswith('| a vs b | IoU (%) | +11.00 |')
    with open(osp.join(work, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert rows[0]['fold'] == '0' and len(rows) == 8


def test_vessel_metric_set_reads_its_keys_and_csv(tmp_path):
    from sgdc_mmseg.evaluation.metrics.nuclei_metric import NUCLEI_CSV_NAME
    from sgdc_mmseg.evaluation.metrics.vessel_metric import VESSEL_CSV_NAME
    from sgdc_mmseg.study.schema import METRIC_SETS
    assert METRIC_SETS['vessel'].per_image_csv == VESSEL_CSV_NAME
    assert METRIC_SETS['nuclei'].per_image_csv == NUCLEI_CSV_NAME
    work = str(tmp_path)
    s = dict(name='v', seeds=[0], variants=dict(a=CPU_SGDC, b=CPU_SGDC),
             compare=[('a', 'b')], external={}, metrics='vessel')
    for variant, f1 in (('a', [80.0, 70.0]), ('b', [78.0, 71.0])):
        run = Run(work, variant, CPU_SGDC, 0)
        os.makedirs(osp.join(run.run_dir, 'test'))
        with open(run.result_path, 'w') as f:
            json.dump(dict(variant=variant, seed=0, config=CPU_SGDC,
                           num_test_images=2, metrics={
                               'vessel/F1': sum(f1) / 2, 'vessel/AUC': 97.0,
                               'medical/mIoU': 1.0}), f)
        with open(osp.join(run.run_dir, 'test', VESSEL_CSV_NAME), 'w') as f:
            f.write('image,img_path,fov,Se,Sp,Acc,AUC,F1,clDice,whole_Dice,'
                    'skipped\n' + ''.join(
                        f'x{i},p,fov,1,1,1,1,{v},1,1,\n'
                        for i, v in enumerate(f1)))
    md = open(write_report(s, work)).read()
    assert '| variant | config | seeds | F1/Dice (%) | Se (%) |' in md
    assert 'VesselMetric' in md and 'IoU (%)' not in md
    line = [x for x in md.splitlines() if x.startswith('| a vs b | F1')][0]
    assert '| +0.50 |' in line and '(2) | +0.50 [' in line
    with open(osp.join(work, 'results.csv')) as f:
        header = f.readline().strip().split(',')
    assert header[-6:] == ['F1', 'Se', 'Sp', 'AUC', 'clDice', 'run_dir']


def test_report_from_results_csv_matches_the_runs(tmp_path):
    from sgdc_mmseg.study.report import rows_from_results_csv
    from sgdc_mmseg.study.schema import load_study
    src = osp.join(DOCS_RESULTS, 'isic2017_cpu')
    study = load_study([osp.join(REPO_ROOT, 'configs', 'studies',
                                 'isic2017_cpu.py')])
    work = str(tmp_path)
    for name in ('results.csv', 'results_external.csv'):
        with open(osp.join(src, name)) as f, \
                open(osp.join(work, name), 'w') as out:
            out.write(f.read())
    from sgdc_mmseg.study.report import external_rows_from_csv
    write_report(study, work, rows=rows_from_results_csv(
        osp.join(work, 'results.csv')), external_rows=external_rows_from_csv(
            osp.join(work, 'results_external.csv')))
    with open(osp.join(src, 'results.md')) as f:
        assert open(osp.join(work, 'results.md')).read() == f.read()
    assert not osp.exists(osp.join(work, 'results.png'))
    bad = tmp_path / 'bad.csv'
    bad.write_text('a,b\n1,2\n')
    with pytest.raises(ValueError, match='bad.csv: not a study results.csv'):
        rows_from_results_csv(str(bad))


def test_rescored_comparisons_pair_the_same_runs(tmp_path):
    """A ``metric_prefix`` set (the runs' own test scored another way):
    each listed variant re-scored against itself, and the study's pairs
    with the candidate re-scored (against the baseline re-scored when the
    set lists it, else as scored in the main table)."""
    from sgdc_mmseg.study.report import rescored_pairs
    work = str(tmp_path)
    s = dict(name='demo', seeds=[0],
             variants=dict(a=CPU_SGDC, b=CPU_SGDC, c=CPU_SGDC),
             compare=[('a', 'b'), ('a', 'c')],
             external=dict(split=dict(metric_prefix='alt',
                                      variants=['a', 'b'])))
    assert rescored_pairs(s) == [
        ('split', 'a+split', 'a'), ('split', 'b+split', 'b'),
        ('split', 'a+split', 'b+split'), ('split', 'a+split', 'c')]
    main = dict(a=[11, 8, 13, 14, 15], b=[10, 10, 10, 10, 10],
                c=[9, 9, 9, 9, 9])
    alt = dict(a=[12, 10, 16, 14, 16], b=[10, 11, 10, 10, 10])
    ext_rows = []
    for variant, values in main.items():
        _fake_result(work, variant, 0, statistics_mean(values), 20.0,
                     CPU_SGDC)
        run = Run(work, variant, CPU_SGDC, 0)
        _per_image_csv(run, 'image,img_path,IoU.lesion,skipped',
                       [f'i{k},p,{v},' for k, v in enumerate(values)])
        if variant in alt:
            out_dir = osp.join(run.run_dir, 'test')
            with open(osp.join(out_dir, 'per_image_alt_metrics.csv'),
                      'w') as f:
                f.write('image,IoU\n' + ''.join(
                    f'i{k},{v}\n' for k, v in enumerate(alt[variant])))
            ext_rows.append(dict(
                external='split', variant=variant, seed=0,
                best_on_study_test=True, num_images=5, out_dir=out_dir,
                IoU=statistics_mean(alt[variant]), Dice=None, HD95=None,
                ASSD=None, mmseg_mIoU=None))
    md = open(write_report(s, work, external_rows=ext_rows)).read()
    section = md[md.index('## Comparisons with the re-scored runs'):]
    lines = {line.split(' | ')[0][2:]: line for line in section.splitlines()
             if ' | IoU (%) | ' in line}
    # a+split - a per image: 1, 2, 3, 0, 1 -> mean 1.4; Wilcoxon with a zero
    # (zsplit) and ties: normal approximation
    assert lines['a+split vs a'].startswith(
        '| a+split vs a | IoU (%) | +1.40 | — / — | — | — | n/a (1 seed) | ')
    assert '| +1.40 [' in lines['a+split vs a']
    # a+split - b+split: 2, -1, 6, 4, 6 -> 3.4; exact Wilcoxon (no ties,
    # no zeros): ranks 2, 1, 4.5 ... ties -> approximation; just the mean
    assert lines['a+split vs b+split'].startswith(
        '| a+split vs b+split | IoU (%) | +3.40 |')
    # against c as the main table scores it: 3, 1, 7, 5, 7 -> 4.6
    assert lines['a+split vs c'].startswith('| a+split vs c | IoU (%) | +4.60 |')
    assert '| +4.60 [' in lines['a+split vs c']
    assert 'b+split vs b' in lines
    # a set without metric_prefix adds no such section
    s['external'] = dict(ph2=dict(dataset=dict(type='X')))
    assert rescored_pairs(s) == []
    ext_rows = [dict(r, external='ph2') for r in ext_rows]
    md = open(write_report(s, work, external_rows=ext_rows)).read()
    assert 'Comparisons with the re-scored runs' not in md
