"""The results of a study: ``results.csv``, ``results.md``,
``results.png`` (and ``results_external.csv``) in its work dir.

* ``results.csv`` (:data:`CSV_FIELDS`): one row per run of the study,
  finished (``status`` ``done``) or not (``failed``, ``missing``), with its
  metrics, wall times, seconds/iteration and peak memory; empty cells for
  missing values.
* ``results.md``: the description, mean ± sample std over seeds per variant
  (:mod:`.statistics`), the runs not finished, the requested comparisons,
  the external sets, and the plot.
* ``results.png``: the per-seed values of IoU, Dice and HD95 per variant
  with mean ± std (written when a run finished).
* ``results_external.csv`` (:data:`EXTERNAL_FIELDS`): the external test
  rows (:mod:`.external`), when there are any.

Everything is computed from the runs' ``result.json`` files, so
``--report-only`` writes the same files again.
"""
import csv
import os.path as osp

from .runs import REPO_ROOT, Run, load_result
from .schema import METRICS
from .statistics import compare_variants, format_mean_std, mean_std

CSV_FIELDS = ('variant', 'seed', 'status', 'config', 'iters',
              'train_wall_s', 'resumed', 's_per_iter', 'max_memory_mb',
              'test_wall_s', 'num_test_images') + tuple(
                  m.column for m in METRICS) + ('run_dir', )
EXTERNAL_FIELDS = ('external', 'variant', 'seed', 'best_on_study_test',
                   'num_images') + tuple(m.column for m in METRICS) + (
                       'out_dir', )
#: The metrics of the external table and of the plot.
MAIN_METRICS = METRICS[:3]


# ------------------------------------------------------------------ rows
def result_row(result, run_dir):
    """The results.csv row of a finished run's ``result.json``."""
    row = dict(variant=result['variant'], seed=result['seed'],
               status='done', config=osp.relpath(result['config'],
                                                 REPO_ROOT),
               iters=result.get('iters'),
               train_wall_s=result.get('train_wall_s'),
               resumed=result.get('resumed'),
               s_per_iter=result.get('s_per_iter'),
               max_memory_mb=result.get('max_memory_mb'),
               test_wall_s=result.get('test_wall_s'),
               num_test_images=result.get('num_test_images'),
               run_dir=run_dir)
    metrics = result.get('metrics', {})
    for metric in METRICS:
        row[metric.column] = metrics.get(metric.key)
    return row


def collect_rows(study, work_dir, failures=None):
    """Rows for every run of the study, seed by seed, finished or not
    (``failed`` when (variant, seed) is in ``failures``, else
    ``missing``)."""
    rows = []
    for seed in study['seeds']:
        for variant, config in study['variants'].items():
            run = Run(work_dir, variant, config, seed)
            if run.is_finished():
                rows.append(result_row(load_result(run), run.run_dir))
            else:
                status = 'failed' if failures and \
                    (variant, seed) in failures else 'missing'
                rows.append(dict(variant=variant, seed=seed, status=status,
                                 config=osp.relpath(config, REPO_ROOT),
                                 run_dir=run.run_dir))
    return rows


# ---------------------------------------------------------------- tables
def variant_table(rows, variants):
    """Markdown lines: mean ± std per metric and s/iter per variant."""
    lines = ['| variant | config | seeds | ' +
             ' | '.join(m.label for m in METRICS) + ' | s/iter |',
             '|---|---|---|' + '---|' * len(METRICS) + '---|']
    for variant in variants:
        done = [r for r in rows
                if r['variant'] == variant and r['status'] == 'done']
        if not done:
            continue
        cells = [format_mean_std(*mean_std([r[m.column] for r in done])[:2])
                 for m in METRICS]
        spi = mean_std([r['s_per_iter'] for r in done])
        seeds = ','.join(str(r['seed']) for r in done)
        lines.append(
            f'| {variant} | `{osp.basename(done[0]["config"])}` | '
            f'{len(done)} ({seeds}) | ' + ' | '.join(cells) +
            f' | {format_mean_std(spi[0], spi[1], 3)} |')
    return lines


def _optional(value, spec):
    return '—' if value is None else format(value, spec)


def comparison_table(comparisons):
    """Markdown lines of :func:`~.statistics.compare_variants`' output."""
    lines = ['| candidate vs baseline | metric | difference (candidate − '
             'baseline) | seed std (cand. / base.) | better by / larger std '
             '| Welch p |', '|---|---|---|---|---|---|']
    for c in comparisons:
        lines.append(
            f'| {c["candidate"]} vs {c["baseline"]} | {c["metric"]}'
            f' | {c["diff"]:+.2f} | {_optional(c["std_candidate"], ".2f")} / '
            f'{_optional(c["std_baseline"], ".2f")} | '
            f'{_optional(c["ratio"], "+.2f")} | {_optional(c["p"], ".3f")} |')
    return lines


def external_table(ext_rows):
    """Markdown lines: per external set and variant, the mean ± std over
    seeds and the values of the best seed on the study's test set."""
    lines = ['| set | variant | images | seeds | ' +
             ' | '.join(m.label for m in MAIN_METRICS) +
             ' | best seed: ' + ' / '.join(m.column for m in MAIN_METRICS) +
             ' |', '|---|---|---|---|' + '---|' * 3 + '---|']
    keys = []
    for r in ext_rows:
        if (r['external'], r['variant']) not in keys:
            keys.append((r['external'], r['variant']))
    for ext_name, variant in keys:
        rs = [r for r in ext_rows
              if r['external'] == ext_name and r['variant'] == variant]
        cells = [format_mean_std(*mean_std([r[m.column] for r in rs])[:2])
                 for m in MAIN_METRICS]
        best = [r for r in rs if r['best_on_study_test']]
        best_cell = '—' if not best else ' / '.join(
            _optional(best[0][m.column], '.2f') for m in MAIN_METRICS
        ) + f' (seed {best[0]["seed"]})'
        lines.append(f'| {ext_name} | {variant} | {rs[0]["num_images"]} | '
                     f'{len(rs)} | ' + ' | '.join(cells) + f' | {best_cell} |')
    return lines


# ----------------------------------------------------------------- files
def write_csv(rows, path, fields=CSV_FIELDS):
    """``rows`` as CSV with the columns ``fields`` (None as empty)."""
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ('' if row.get(k) is None else row.get(k))
                             for k in fields})


def write_plot(rows, variants, path, title=''):
    """``results.png``: per metric of :data:`MAIN_METRICS`, each finished
    seed of each variant and the variant's mean ± std."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(MAIN_METRICS),
                             figsize=(4.2 * len(MAIN_METRICS), 3.6))
    for ax, metric in zip(axes, MAIN_METRICS):
        for x, variant in enumerate(variants):
            vals = [r[metric.column] for r in rows
                    if r['variant'] == variant and r['status'] == 'done'
                    and r[metric.column] is not None]
            if not vals:
                continue
            ax.scatter([x] * len(vals), vals, s=22, alpha=0.8, zorder=3)
            m, s, _ = mean_std(vals)
            ax.errorbar([x + 0.18], [m], yerr=[s or 0], fmt='_', ms=14,
                        color='black', capsize=3, zorder=2)
        ax.set_xticks(range(len(variants)))
        ax.set_xticklabels(variants, rotation=35, ha='right', fontsize=8)
        ax.set_title(f'{metric.label} ('
                     f'{"higher" if metric.higher_is_better else "lower"} '
                     'is better)', fontsize=9)
        ax.grid(axis='y', alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------ results.md
def _intro_lines(study, rows, done):
    md = [f'# Study `{study["name"]}`', '']
    if study.get('description'):
        md += [study['description'].strip(), '']
    md += [f'{len(done)} of {len(rows)} runs finished '
           f'(seeds {study["seeds"]}). Metrics: per-image means from '
           '`MedicalMetric` on the test set of each config, last checkpoint '
           '(HD95/ASSD in pixels of the original masks); `mmseg mIoU`: '
           "mmseg's dataset-level mIoU over all classes. Mean ± sample std "
           'over seeds. s/iter: mean training time per iteration from the '
           'mmengine log (first logging interval left out); results.csv '
           'also has the wall time of the last training attempt '
           '(`resumed` marks runs that were resumed).', '']
    return md


def _not_finished_lines(rows):
    missing = [r for r in rows if r['status'] != 'done']
    if not missing:
        return []
    return ['', 'Not finished: ' + ', '.join(
        f'{r["variant"]} seed {r["seed"]} ({r["status"]})' for r in missing)]


def _comparison_lines(rows, pairs):
    comparisons = compare_variants(rows, pairs)
    if not comparisons:
        return []
    return ['', '## Comparisons', '',
            '"better by / larger std": the difference, signed so that '
            'positive means the candidate is better, divided by the '
            'larger of the two seed standard deviations.', ''
            ] + comparison_table(comparisons)


def _external_lines(external_rows):
    return ['', '## External test sets', '',
            'Every seed of the listed variants, trained as above, tested '
            'unchanged on another dataset; "best" is the seed with the '
            'highest IoU on the study\'s own test set.', ''
            ] + external_table(external_rows)


def write_report(study, work_dir, failures=None, external_rows=None):
    """Write results.csv / results.md / results.png (and
    results_external.csv) into ``work_dir``; returns the results.md
    path."""
    rows = collect_rows(study, work_dir, failures)
    variants = list(study['variants'])
    write_csv(rows, osp.join(work_dir, 'results.csv'))
    done = [r for r in rows if r['status'] == 'done']
    md = _intro_lines(study, rows, done) + variant_table(rows, variants)
    md += _not_finished_lines(rows)
    md += _comparison_lines(rows, study['compare'])
    if external_rows:
        md += _external_lines(external_rows)
        write_csv(external_rows, osp.join(work_dir, 'results_external.csv'),
                  fields=EXTERNAL_FIELDS)
    if done:
        write_plot(rows, variants, osp.join(work_dir, 'results.png'),
                   title=study['name'])
        md += ['', '![per-seed results](results.png)']
    path = osp.join(work_dir, 'results.md')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(md) + '\n')
    return path
