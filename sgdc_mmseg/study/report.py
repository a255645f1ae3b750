"""The results of a study: ``results.csv``, ``results.md``,
``results.png`` (and ``results_external.csv``) in its work dir.

* ``results.csv`` (:data:`CSV_FIELDS`): one row per run of the study,
  finished (``status`` ``done``) or not (``failed``, ``missing``), with its
  metrics, wall times, seconds/iteration and peak memory; empty cells for
  missing values.
* ``results.md``: the description, mean ± sample std over seeds per variant
  (:mod:`.statistics`), the runs not finished, the requested comparisons
  with Welch's test and the paired statistics (:mod:`.paired`), the
  external sets, and the plot.
* ``results.png``: the per-seed values of IoU, Dice and HD95 per variant
  with mean ± std (written when a run finished).
* ``results_external.csv`` (:data:`EXTERNAL_FIELDS`): the external test
  rows (:mod:`.external`), when there are any.

The metrics are the study's metric set (:func:`.schema.study_metrics`);
results.csv has a ``fold`` column in a study with folds.

With folds, each (variant, seed) is scored on all held-out images of its
folds pooled (:func:`seed_rows`): a metric is the mean over the folds'
values weighted by their numbers of test images (the mean over all
held-out images of a per-image mean such as ``medical/mIoU``; for a score
pooled over pixels, such as ``vessel/F1``, the image-weighted mean of the
folds' scores), and the per-image values of the folds are joined. The
variant table then gives the spread over seeds, the fold table the spread
over folds (each fold's mean over seeds).

Paired per-image statistics read each run's per-image CSV
(``run_dir/test/<metric set's CSV>``); runs without it (e.g. rows rebuilt
from a ``results.csv``) get the seed-level paired test only.

Everything is computed from the runs' ``result.json`` files (and
per-image CSVs), so ``--report-only`` writes the same files again;
:func:`rows_from_results_csv` rebuilds the rows of a shipped
``results.csv`` (``tools/study.py --report-only --from-results-csv``).
"""
import csv
import math
import os.path as osp

from ..evaluation.test_outputs import prefixed_csv_name
from .runs import REPO_ROOT, load_result, run_key, study_runs
from .schema import METRICS, study_metric_set
from .statistics import compare_variants, format_mean_std, mean_std


def csv_fields(metrics=METRICS, folds=False):
    """The results.csv columns for ``metrics`` (with ``fold`` after
    ``seed`` when the study has folds)."""
    return ('variant', 'seed') + (('fold', ) if folds else ()) + (
        'status', 'config', 'iters', 'train_wall_s', 'resumed',
        's_per_iter', 'max_memory_mb', 'test_wall_s',
        'num_test_images') + tuple(m.column for m in metrics) + (
            'run_dir', )


CSV_FIELDS = csv_fields()
def external_fields(metrics=METRICS):
    """The results_external.csv columns for ``metrics``."""
    return ('external', 'variant', 'seed', 'best_on_study_test',
            'num_images') + tuple(m.column for m in metrics) + ('out_dir', )


EXTERNAL_FIELDS = external_fields()
#: The metrics of the external table and of the plot.
MAIN_METRICS = METRICS[:3]


# ------------------------------------------------------------------ rows
def per_image_values(path, metrics):
    """{metric column: {image: value}} from a per-image CSV (``{}`` when
    ``path`` does not exist). A metric's ``per_image`` column ``X`` is the
    column ``X`` or the mean of the finite ``X.<class>`` columns; rows
    with a non-empty ``skipped`` and non-finite values are left out; a
    CSV without an ``image`` column is a ValueError naming it."""
    if not path or not osp.isfile(path):
        return {}
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        fields = reader.fieldnames or []
    if 'image' not in fields:
        raise ValueError(f'{path}: per-image CSV without an `image` column')
    out = {}
    for metric in metrics:
        if not metric.per_image:
            continue
        cols = [c for c in fields if c == metric.per_image or
                c.startswith(metric.per_image + '.')]
        if not cols:
            continue
        values = {}
        for row in rows:
            if row.get('skipped'):
                continue
            vals = [_finite(row.get(c)) for c in cols]
            vals = [v for v in vals if v is not None]
            if vals:
                values[row['image']] = sum(vals) / len(vals)
        out[metric.column] = values
    return out


def _finite(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def result_row(result, run_dir, metrics=METRICS, per_image_csv=None):
    """The results.csv row of a finished run's ``result.json`` (with
    ``per_image`` values from ``run_dir/test/<per_image_csv>`` when
    given)."""
    row = dict(variant=result['variant'], seed=result['seed'],
               fold=result.get('fold'), status='done',
               config=osp.relpath(result['config'], REPO_ROOT),
               iters=result.get('iters'),
               train_wall_s=result.get('train_wall_s'),
               resumed=result.get('resumed'),
               s_per_iter=result.get('s_per_iter'),
               max_memory_mb=result.get('max_memory_mb'),
               test_wall_s=result.get('test_wall_s'),
               num_test_images=result.get('num_test_images'),
               run_dir=run_dir)
    values = result.get('metrics', {})
    for metric in metrics:
        row[metric.column] = values.get(metric.key)
    if per_image_csv:
        row['per_image'] = per_image_values(
            osp.join(run_dir, 'test', per_image_csv), metrics)
    return row


def collect_rows(study, work_dir, failures=None):
    """Rows for every run of the study, seed by seed (fold by fold),
    finished or not (``failed`` when the run's
    :func:`~sgdc_mmseg.study.runs.run_key` is in ``failures``, else
    ``missing``)."""
    metric_set = study_metric_set(study)
    rows = []
    for run in study_runs(study, work_dir):
        if run.is_finished():
            rows.append(result_row(load_result(run), run.run_dir,
                                   metric_set.metrics,
                                   metric_set.per_image_csv))
        else:
            status = 'failed' if failures and run_key(run) in failures \
                else 'missing'
            rows.append(dict(variant=run.variant, seed=run.seed,
                             fold=run.fold, status=status,
                             config=osp.relpath(run.config, REPO_ROOT),
                             run_dir=run.run_dir))
    return rows


def rows_from_results_csv(path, metrics=METRICS):
    """The rows of a ``results.csv`` written by :func:`write_report`
    (numbers as numbers, empty cells as None); no per-image values. A
    file without the columns ``variant``, ``seed`` and ``status`` is a
    ValueError naming it."""
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    missing = [c for c in ('variant', 'seed', 'status')
               if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f'{path}: not a study results.csv (no column '
                         f'{missing})')

    def value(text, kind=float):
        return None if text in (None, '') else kind(text)
    out = []
    for r in rows:
        row = dict(r, seed=int(r['seed']), fold=value(r.get('fold'), int),
                   iters=value(r.get('iters'), int),
                   train_wall_s=value(r.get('train_wall_s')),
                   s_per_iter=value(r.get('s_per_iter')),
                   max_memory_mb=value(r.get('max_memory_mb')),
                   test_wall_s=value(r.get('test_wall_s')),
                   num_test_images=value(r.get('num_test_images'), int))
        for metric in metrics:
            row[metric.column] = value(r.get(metric.column))
        out.append(row)
    return out


def external_rows_from_csv(path, metrics=METRICS):
    """The rows of a ``results_external.csv`` (:func:`external_fields`;
    the columns of ``metrics`` as numbers)."""
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        try:
            row = dict(r, seed=int(r['seed']),
                       num_images=int(r['num_images']),
                       best_on_study_test=r['best_on_study_test'] == 'True')
        except (KeyError, ValueError) as exc:
            raise ValueError(f'{path}: not a results_external.csv ({exc})')
        for m in metrics:
            row[m.column] = _finite(r.get(m.column))
        out.append(row)
    return out


def seed_rows(rows, metrics=METRICS):
    """One row per (variant, seed): the rows themselves without folds;
    with folds, the folds pooled (module docstring): ``done`` only when
    every fold is, metrics weighted by ``num_test_images``, ``per_image``
    joined, ``folds`` the fold rows."""
    if all(r.get('fold') is None for r in rows):
        return rows
    groups = {}
    for r in rows:
        groups.setdefault((r['variant'], r['seed']), []).append(r)
    out = []
    for (variant, seed), rs in groups.items():
        done = all(r['status'] == 'done' for r in rs)
        row = dict(variant=variant, seed=seed, config=rs[0]['config'],
                   status='done' if done else next(
                       r['status'] for r in rs if r['status'] != 'done'),
                   folds=rs, s_per_iter=mean_std(
                       [r.get('s_per_iter') for r in rs])[0])
        if done:
            row['num_test_images'] = sum(r.get('num_test_images') or 0
                                         for r in rs)
            for metric in metrics:
                row[metric.column] = _pooled(rs, metric.column)
            per_image = {}
            for r in rs:
                for col, values in (r.get('per_image') or {}).items():
                    per_image.setdefault(col, {}).update(values)
            row['per_image'] = per_image
        out.append(row)
    return out


def _pooled(rows, column):
    """The image-weighted mean of the rows' ``column`` (None when a row
    has no value or no image count)."""
    pairs = [(r.get(column), r.get('num_test_images')) for r in rows]
    if any(v is None or not n for v, n in pairs):
        return None
    return sum(v * n for v, n in pairs) / sum(n for _, n in pairs)


# ---------------------------------------------------------------- tables
def variant_table(rows, variants, metrics=METRICS):
    """Markdown lines: mean ± std per metric and s/iter per variant
    (``rows``: one per seed, :func:`seed_rows`)."""
    lines = ['| variant | config | seeds | ' +
             ' | '.join(m.label for m in metrics) + ' | s/iter |',
             '|---|---|---|' + '---|' * len(metrics) + '---|']
    for variant in variants:
        done = [r for r in rows
                if r['variant'] == variant and r['status'] == 'done']
        if not done:
            continue
        cells = [format_mean_std(*mean_std([r[m.column] for r in done])[:2])
                 for m in metrics]
        spi = mean_std([r['s_per_iter'] for r in done])
        seeds = ','.join(str(r['seed']) for r in done)
        lines.append(
            f'| {variant} | `{osp.basename(done[0]["config"])}` | '
            f'{len(done)} ({seeds}) | ' + ' | '.join(cells) +
            f' | {format_mean_std(spi[0], spi[1], 3)} |')
    return lines


def fold_table(rows, variants, metrics=METRICS):
    """Markdown lines: per variant and fold, the mean over seeds of each
    metric, and the mean ± std over folds (the fold spread)."""
    folds = sorted({r['fold'] for r in rows if r.get('fold') is not None})
    lines = ['| variant | fold | seeds | ' +
             ' | '.join(m.label for m in metrics) + ' |',
             '|---|---|---|' + '---|' * len(metrics)]
    for variant in variants:
        means = {m.column: [] for m in metrics}
        for fold in folds:
            done = [r for r in rows if r['variant'] == variant and
                    r.get('fold') == fold and r['status'] == 'done']
            if not done:
                continue
            cells = []
            for m in metrics:
                mean = mean_std([r[m.column] for r in done])[0]
                if mean is not None:
                    means[m.column].append(mean)
                cells.append(format_mean_std(mean, None))
            lines.append(f'| {variant} | {fold} | {len(done)} | ' +
                         ' | '.join(cells) + ' |')
        if any(means.values()):
            lines.append(f'| {variant} | mean ± std over folds | | ' +
                         ' | '.join(format_mean_std(
                             *mean_std(means[m.column])[:2])
                             for m in metrics) + ' |')
    return lines


def _optional(value, spec):
    return '—' if value is None else format(value, spec)


def extra_table(extra, per_seed, variants, metrics=METRICS):
    """Markdown lines: per variant, the single models (mean ± std over
    seeds, as in the variant table) beside the rows of
    :mod:`.ensembles` (post-processed: mean ± std over seeds)."""
    lines = ['| variant | model | members | images | ' +
             ' | '.join(m.label for m in metrics) + ' | note |',
             '|---|---|---|---|' + '---|' * len(metrics) + '---|']
    for variant in variants:
        done = [r for r in per_seed
                if r['variant'] == variant and r['status'] == 'done']
        rows = [r for r in extra if r['variant'] == variant]
        if not rows:
            continue
        if done:
            lines.append(
                f'| {variant} | single models | 1 | '
                f'{done[0].get("num_test_images") or "—"} | ' + ' | '.join(
                    format_mean_std(*mean_std([r.get(m.column)
                                               for r in done])[:2])
                    for m in metrics) + f' | {len(done)} seeds |')
        kinds = []
        for r in rows:
            if r['kind'] not in kinds:
                kinds.append(r['kind'])
        for kind in kinds:
            rs = [r for r in rows if r['kind'] == kind]
            cells = [format_mean_std(*mean_std(
                [r.get(m.column) for r in rs])[:2]) for m in metrics]
            seeds = '' if rs[0]['seed'] is None else \
                f'; {len(rs)} seed(s)'
            note = '; '.join(dict.fromkeys(r['note'] for r in rs if
                                           r['note']))
            lines.append(f'| {variant} | {kind} | {rs[0]["members"]} | '
                         f'{rs[0]["num_images"]} | ' + ' | '.join(cells) +
                         f' | {note}{seeds} |')
    return lines


def _seed_test_cell(paired):
    if not paired or not paired.get('n_seeds'):
        return '—'
    if paired['n_seeds'] == 1:
        return 'n/a (1 seed)'
    return f'{_optional(paired.get("p_seeds"), ".3f")} ({paired["n_seeds"]})'


def _image_cells(paired):
    if not paired or not paired.get('n_images'):
        return ['—', '—']
    ci = paired.get('ci')
    ci_text = '' if ci is None else f' [{ci[0]:+.2f}, {ci[1]:+.2f}]'
    return [f'{_optional(paired.get("p_images"), ".3g")} '
            f'({paired["n_images"]})',
            f'{paired["mean"]:+.2f}{ci_text}']


def comparison_table(comparisons):
    """Markdown lines of :func:`~.statistics.compare_variants`' output:
    Welch's columns, then the paired ones (``—`` where not computable)."""
    lines = ['| candidate vs baseline | metric | difference (candidate − '
             'baseline) | seed std (cand. / base.) | better by / larger std '
             '| Welch p | paired t p (seeds) | Wilcoxon p (images) | '
             'per-image difference [95% CI] |',
             '|---|---|---|---|---|---|---|---|---|']
    for c in comparisons:
        paired = c.get('paired')
        lines.append(
            f'| {c["candidate"]} vs {c["baseline"]} | {c["metric"]}'
            f' | {c["diff"]:+.2f} | {_optional(c["std_candidate"], ".2f")} / '
            f'{_optional(c["std_baseline"], ".2f")} | '
            f'{_optional(c["ratio"], "+.2f")} | {_optional(c["p"], ".3f")} | '
            f'{_seed_test_cell(paired)} | ' +
            ' | '.join(_image_cells(paired)) + ' |')
    return lines


def external_table(ext_rows, main_metrics=MAIN_METRICS):
    """Markdown lines: per external set and variant, the mean ± std over
    seeds and the values of the best seed on the study's test set."""
    lines = ['| set | variant | images | seeds | ' +
             ' | '.join(m.label for m in main_metrics) +
             ' | best seed: ' + ' / '.join(m.column for m in main_metrics) +
             ' |', '|---|---|---|---|' + '---|' * 3 + '---|']
    keys = []
    for r in ext_rows:
        if (r['external'], r['variant']) not in keys:
            keys.append((r['external'], r['variant']))
    for ext_name, variant in keys:
        rs = [r for r in ext_rows
              if r['external'] == ext_name and r['variant'] == variant]
        cells = [format_mean_std(*mean_std([r[m.column] for r in rs])[:2])
                 for m in main_metrics]
        best = [r for r in rs if r['best_on_study_test']]
        best_cell = '—' if not best else ' / '.join(
            _optional(best[0][m.column], '.2f') for m in main_metrics
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


def write_plot(rows, variants, path, title='', main_metrics=MAIN_METRICS):
    """``results.png``: per metric of ``main_metrics`` (default
    :data:`MAIN_METRICS`; the first three of the study's set), each
    finished seed of each variant and the variant's mean ± std."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(main_metrics),
                             figsize=(4.2 * len(main_metrics), 3.6))
    for ax, metric in zip(axes, main_metrics):
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
#: What the metrics of each set are, in results.md.
METRIC_SET_TEXT = dict(
    medical='per-image means from `MedicalMetric` on the test set of each '
    'config, last checkpoint (HD95/ASSD in pixels of the original masks); '
    "`mmseg mIoU`: mmseg's dataset-level mIoU over all classes",
    vessel='`VesselMetric` on the test set of each config, last '
    'checkpoint: F1 (= Dice), Se, Sp, AUC and clDice of the vessel class '
    'inside the field of view, pooled over the pixels of all test images',
    nuclei='`NucleiMetric` on the test set of each config, last '
    'checkpoint: per-image means of the nuclei Dice, IoU, AJI and PQ '
    '(instances: connected components of the predicted mask)')


def _intro_lines(study, rows, done):
    md = [f'# Study `{study["name"]}`', '']
    if study.get('description'):
        md += [study['description'].strip(), '']
    folds = study.get('folds')
    fold_text = '' if not folds else (
        f' x {folds["num_folds"]}-fold cross-validation: each seed is '
        'scored on the held-out images of all its folds pooled '
        '(image-weighted mean of the folds\' scores; spread over folds in '
        'the fold table)')
    md += [f'{len(done)} of {len(rows)} runs finished '
           f'(seeds {study["seeds"]}{fold_text}). Metrics: '
           f'{METRIC_SET_TEXT[study.get("metrics") or "medical"]}. '
           'Mean ± sample std over seeds. s/iter: mean training time per '
           'iteration from the mmengine log (first logging interval left '
           'out); results.csv also has the wall time of the last training attempt '
           '(`resumed` marks runs that were resumed).', '']
    return md


def _not_finished_lines(rows):
    missing = [r for r in rows if r['status'] != 'done']
    if not missing:
        return []
    return ['', 'Not finished: ' + ', '.join(
        f'{r["variant"]} seed {r["seed"]}'
        + ('' if r.get('fold') is None else f' fold {r["fold"]}')
        + f' ({r["status"]})' for r in missing)]


def _comparison_lines(rows, pairs, metrics=METRICS):
    comparisons = compare_variants(rows, pairs, metrics)
    if not comparisons:
        return []
    return ['', '## Comparisons', '',
            '"better by / larger std": the difference, signed so that '
            'positive means the candidate is better, divided by the '
            'larger of the two seed standard deviations.', '',
            'Paired statistics (seed s of the candidate against seed s of '
            'the baseline, on the same test images; '
            '`sgdc_mmseg/study/paired.py`): "paired t p (seeds)": two-sided '
            'paired t-test of the per-seed differences (number of paired '
            'seeds in brackets; n/a with one seed, — without spread); '
            '"Wilcoxon p (images)": two-sided Wilcoxon signed-rank test of '
            'the per-image differences averaged over seeds '
            "(zero_method='zsplit'; number of images in brackets); "
            '"per-image difference [95% CI]": mean per-image difference '
            '(candidate − baseline) with a percentile bootstrap interval '
            'resampling images and seeds (B = 2000, fixed generator seed 0). '
            '— : no per-image values (e.g. a report rebuilt from '
            'results.csv, or a dataset-level metric).', ''
            ] + comparison_table(comparisons)


def _external_lines(external_rows, metrics=METRICS):
    return ['', '## External test sets', '',
            'Every seed of the listed variants, trained as above, tested '
            'unchanged on another dataset; "best" is the seed with the '
            f'highest {metrics[0].column} on the study\'s own test set.', ''
            ] + external_table(external_rows, metrics[:3])


def rescored_pairs(study):
    """The paired comparisons of the external sets that re-score the runs'
    own test (``metric_prefix``), as (set, candidate, baseline) with
    ``<variant>+<set>`` naming a variant's runs as the set scores them:
    each listed variant against itself as the main table scores it, then
    the study's pairs with the candidate re-scored, against the baseline
    re-scored too when the set lists it, else as in the main table."""
    pairs = []
    for name, ext in study['external'].items():
        if ext.get('metric_prefix') is None:
            continue
        listed = list(ext.get('variants', list(study['variants'])))
        pairs += [(name, f'{v}+{name}', v) for v in listed]
        pairs += [(name, f'{c}+{name}',
                   f'{b}+{name}' if b in listed else b)
                  for c, b in study['compare'] if c in listed]
    return pairs


def rescored_rows(study, external_rows, metrics, per_image=True):
    """Study-like rows (variant ``<variant>+<set>``) of the external rows
    of ``metric_prefix`` sets, with per-image values from the prefixed
    per-image CSV in each row's ``out_dir`` when ``per_image``."""
    out = []
    for r in external_rows:
        prefix = study['external'].get(r['external'], {}).get(
            'metric_prefix')
        if prefix is None:
            continue
        row = dict(variant=f'{r["variant"]}+{r["external"]}',
                   seed=r['seed'], fold=None, status='done',
                   **{m.column: r.get(m.column) for m in metrics})
        if per_image and r.get('out_dir'):
            row['per_image'] = per_image_values(
                osp.join(r['out_dir'], prefixed_csv_name(prefix)),
                metrics)
        out.append(row)
    return out


def _rescored_lines(study, per_seed, external_rows, metrics, per_image):
    pairs = rescored_pairs(study)
    rows = per_seed + rescored_rows(study, external_rows, metrics,
                                    per_image)
    comparisons = compare_variants(rows, [(c, b) for _, c, b in pairs],
                                   metrics)
    if not comparisons:
        return []
    names = sorted({name for name, _, _ in pairs})
    return ['', '## Comparisons with the re-scored runs', '',
            f'`<variant>+<set>`: the same runs (same checkpoints, same test '
            f'images) scored as the external set{"s" if len(names) > 1 else ""} '
            f'{", ".join(f"`{n}`" for n in names)} score them; '
            '`<variant>`: as the main table scores them. Statistics as in '
            '"Comparisons".', ''] + comparison_table(comparisons)


def _extra_lines(extra, per_seed, variants, metrics):
    return ['', '## Ensembles and post-processing', '',
            'Single models: the table above. Ensemble of seeds: the seeds\' '
            'probabilities averaged (`tools/test.py --ensemble`), per fold '
            'on its held-out part, pooled over the folds. Ensemble of '
            'folds: the fold models averaged, on the test set of the '
            'variant\'s own config. Post-processed: per seed, the '
            'post-processing chosen on the pooled held-out predictions '
            '(nnU-Net\'s rule, `choose_postprocessing`) applied to every '
            'fold and pooled; chosen and scored on the same images.', ''
            ] + extra_table(extra, per_seed, variants, metrics)


def write_report(study, work_dir, failures=None, external_rows=None,
                 rows=None, extra_rows=None):
    """Write results.csv / results.md / results.png (and
    results_external.csv) into ``work_dir``; returns the results.md
    path. With ``rows`` given (:func:`rows_from_results_csv`) only
    results.md is written: the CSVs (and the plot made from them) are its
    sources. ``extra_rows`` (:func:`.ensembles.extra_rows`) add the
    ensembles and post-processing table."""
    metrics = study_metric_set(study).metrics
    from_csv = rows is not None
    if rows is None:
        rows = collect_rows(study, work_dir, failures)
    variants = list(study['variants'])
    if not from_csv:
        write_csv(rows, osp.join(work_dir, 'results.csv'),
                  fields=csv_fields(metrics, bool(study.get('folds'))))
    per_seed = seed_rows(rows, metrics)
    done = [r for r in rows if r['status'] == 'done']
    md = _intro_lines(study, rows, done) + variant_table(per_seed, variants,
                                                         metrics)
    if study.get('folds'):
        md += ['', '## Folds', ''] + fold_table(rows, variants, metrics)
    md += _not_finished_lines(rows)
    md += _comparison_lines(per_seed, study['compare'], metrics)
    if extra_rows:
        md += _extra_lines(extra_rows, per_seed, variants, metrics)
    if external_rows:
        md += _external_lines(external_rows, metrics)
        md += _rescored_lines(study, per_seed, external_rows, metrics,
                              per_image=not from_csv)
        if not from_csv:
            write_csv(external_rows,
                      osp.join(work_dir, 'results_external.csv'),
                      fields=external_fields(metrics))
    if done and not from_csv:
        write_plot(per_seed, variants, osp.join(work_dir, 'results.png'),
                   title=study['name'], main_metrics=metrics[:3])
    if done:
        md += ['', '![per-seed results](results.png)']
    path = osp.join(work_dir, 'results.md')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(md) + '\n')
    return path
