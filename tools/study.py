"""Run a controlled comparison: every variant x seed trained and tested alike.

A *study file* (``configs/studies/*.py``, an mmengine config) names the
variants, each one a config file, and the seeds::

    variants = dict(sgdc='../sgdc/sgdc_....py', pool='../sgdc/sgdc-pool_....py')
    seeds = [0, 1, 2]
    work_dir = 'work_dirs/studies/my_study'   # relative to the current dir
    compare = [('sgdc', 'pool')]               # (candidate, baseline) pairs
    external = dict(ph2=dict(                  # optional external test sets
        dataset=dict(type='PH2Dataset', data_root='data/ph2',
                     ann_file='splits/all.txt'),
        variants=['sgdc', 'pool']))

Config files can also be given directly instead of a study file; a variant is
then named after the part of the file name before the first ``_``.

For every run (variant, seed) ``tools/train.py`` trains the config with
``randomness.seed`` set, then ``tools/test.py --out`` scores the LAST
checkpoint (no checkpoint selection on the test data) with the config's test
evaluators plus ``MedicalMetric``. Each run lives in
``WORK_DIR/runs/<variant>/seed<k>/`` with its logs; ``result.json`` there
marks it finished, so re-running the command skips finished runs and resumes
an interrupted one from its last checkpoint. A run directory that holds a run
of a different configuration is an error (use another ``--work-dir``).
Runs go seed by seed (all variants of seed 0 first), so a grid stopped early
still has complete seeds. Afterwards (and with ``--report-only``) it writes

- ``results.csv``: one row per run (metrics, wall time, seconds/iteration),
- ``results.md``: mean +- sample std over seeds per variant, the requested
  comparisons (difference of means, seed std, Welch's t-test), external sets,
- ``results.png``: the per-seed values of each variant.

Example::

    python tools/study.py configs/studies/isic2017_cpu.py
    python tools/study.py configs/studies/isic2017_cpu.py \
        --variants sgdc pool --seeds 0 --iters 20 --work-dir /tmp/smoke
"""
import argparse
import concurrent.futures
import csv
import datetime
import hashlib
import json
import math
import os
import os.path as osp
import statistics
import subprocess
import sys
import threading
import time
import warnings

# mmengine imports pkg_resources, which warns on every config load.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
TRAIN = osp.join(REPO_ROOT, 'tools', 'train.py')
TEST = osp.join(REPO_ROOT, 'tools', 'test.py')
RESULT_NAME = 'result.json'

# (column, summary.json metric key, label, higher is better)
METRICS = (
    ('IoU', 'medical/mIoU', 'IoU (%)', True),
    ('Dice', 'medical/mDice', 'Dice (%)', True),
    ('HD95', 'medical/mHD95', 'HD95 (px)', False),
    ('ASSD', 'medical/mASSD', 'ASSD (px)', False),
    ('mmseg_mIoU', 'mIoU', 'mmseg mIoU (%)', True),
)
CSV_FIELDS = ('variant', 'seed', 'status', 'config', 'iters',
              'train_wall_s', 'resumed', 's_per_iter', 'max_memory_mb', 'test_wall_s',
              'num_test_images') + tuple(m[0] for m in METRICS) + (
                  'run_dir', )


class StudyError(Exception):
    """A study file, argument or run directory that cannot be used."""


# --------------------------------------------------------------- the study
def _resolve(path, base_dir):
    path = osp.expanduser(path)
    if osp.isabs(path) or osp.exists(path):
        return osp.abspath(path)
    return osp.abspath(osp.join(base_dir, path))


def variant_name(config):
    """``configs/sgdc/sgdc-pool_r50_....py`` -> ``sgdc-pool``."""
    return osp.basename(config).split('_')[0].rsplit('.py', 1)[0]


def load_study(paths):
    """Read a study file, or build a study from config files.

    Returns a dict with ``variants`` (name -> absolute config path, in
    order), ``seeds``, ``work_dir``, ``compare``, ``external`` and ``name``.
    """
    from mmengine.config import Config
    if not paths:
        raise StudyError('give a study file or one or more config files')
    for path in paths:
        if not osp.isfile(path):
            raise StudyError(f'no such file: {path}')
    first = Config.fromfile(paths[0])
    if 'variants' in first and len(paths) == 1:
        base = osp.dirname(osp.abspath(paths[0]))
        variants = first['variants']
        if not isinstance(variants, dict) or not variants:
            raise StudyError(f'{paths[0]}: `variants` must be a non-empty '
                             'dict of name -> config file')
        study = dict(
            name=osp.splitext(osp.basename(paths[0]))[0],
            variants={str(k): _resolve(v, base)
                      for k, v in variants.items()},
            seeds=list(first.get('seeds', [0])),
            work_dir=first.get('work_dir'),
            compare=[tuple(p) for p in first.get('compare', [])],
            external=dict(first.get('external', {}) or {}),
            description=first.get('description', ''))
    else:
        variants = {}
        for path in paths:
            if 'variants' in Config.fromfile(path):
                raise StudyError(f'{path} is a study file: give it alone')
            name = variant_name(path)
            if name in variants:
                raise StudyError(
                    f'two configs give the variant name {name!r}: '
                    f'{variants[name]} and {path}; use a study file to name '
                    'them')
            variants[name] = osp.abspath(path)
        study = dict(name='study', variants=variants, seeds=[0],
                     work_dir=None, compare=[], external={},
                     description='')
    for name, config in study['variants'].items():
        if not osp.isfile(config):
            raise StudyError(f'variant {name!r}: config {config} not found')
    for pair in study['compare']:
        if len(pair) != 2 or any(p not in study['variants'] for p in pair):
            raise StudyError(f'compare entry {pair!r} must name two of the '
                             f'variants {list(study["variants"])}')
    for ext_name, ext in study['external'].items():
        if 'dataset' not in ext:
            raise StudyError(f'external set {ext_name!r} needs a `dataset`')
        for v in ext.get('variants', list(study['variants'])):
            if v not in study['variants']:
                raise StudyError(f'external set {ext_name!r} names unknown '
                                 f'variant {v!r}')
    return study


def select(study, variants=None, seeds=None):
    """Restrict a study to some variants/seeds (unknown names are errors)."""
    study = dict(study)
    if variants:
        unknown = [v for v in variants if v not in study['variants']]
        if unknown:
            raise StudyError(f'--variants: unknown {unknown}; the study has '
                             f'{list(study["variants"])}')
        study['variants'] = {v: study['variants'][v] for v in variants}
        study['compare'] = [p for p in study['compare']
                            if all(v in variants for v in p)]
    if seeds:
        study['seeds'] = list(seeds)
    return study


def iters_overrides(config, iters):
    """Config overrides that shorten (or lengthen) a config's schedule to
    ``iters`` iterations: loop length, validation and checkpoint interval,
    logging interval, and every iteration-based LR/momentum scheduler scaled
    proportionally (a warm-up of 50 of 600 iterations becomes 2 of 20)."""
    from mmengine.config import Config
    if iters < 1:
        raise StudyError(f'--iters must be >= 1, got {iters}')
    cfg = Config.fromfile(config)
    old = cfg.train_cfg.get('max_iters')
    if old is None:
        raise StudyError(f'{config}: --iters needs an iteration-based '
                         'train_cfg (max_iters)')
    out = dict(train_cfg=dict(max_iters=iters, val_interval=iters))
    hooks = cfg.get('default_hooks', {})
    new_hooks = {}
    if 'checkpoint' in hooks:
        new_hooks['checkpoint'] = dict(interval=iters)
    if 'logger' in hooks:
        new_hooks['logger'] = dict(interval=max(
            1, min(hooks['logger'].get('interval', 50), iters // 4 or 1)))
    if new_hooks:
        out['default_hooks'] = new_hooks
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    scaled = []
    for sched in schedulers:
        sched = plain(sched)
        if not sched.get('by_epoch', True):
            begin = sched.get('begin', 0)
            end = min(sched.get('end', old), old)
            sched['begin'] = int(round(begin * iters / old))
            sched['end'] = max(int(round(end * iters / old)),
                               sched['begin'] + 1)
        scaled.append(sched)
    if scaled:
        out['param_scheduler'] = scaled
    return out


def plain(node):
    """ConfigDict/list/tuple tree -> plain dicts and lists (for repr)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, tuple):
        return tuple(plain(v) for v in node)
    return node


def config_text(base, overrides):
    """A config file that inherits ``base`` and sets ``overrides``."""
    lines = ['# Written by tools/study.py: the study\'s settings for this run',
             '# on top of the variant\'s config.',
             f'_base_ = [{base!r}]']
    for key, value in overrides.items():
        lines.append(f'{key} = {plain(value)!r}')
    return '\n'.join(lines) + '\n'


def parse_cfg_options(items):
    """``['a.b=1', 'c=[1,2]']`` -> dict, with mmengine's DictAction."""
    if not items:
        return {}
    from mmengine.config import DictAction
    ns = argparse.Namespace()
    DictAction(option_strings=[], dest='opts')(None, ns, items)
    return ns.opts


def fingerprint(text, cfg_options):
    """sha256 of what is trained: the run's config as mmengine dumps it
    after ``cfg_options`` (file paths and comments do not count)."""
    from mmengine.config import Config
    cfg = Config.fromstring(text, file_format='.py')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return hashlib.sha256(cfg.dump().encode('utf-8')).hexdigest()


# -------------------------------------------------------------------- runs
class Run:
    """One (variant, seed) of a study.

    The run trains ``run_dir/config.py``: a file that inherits the variant's
    config and sets the seed (and the study's schedule overrides), so the
    run directory documents what was trained. ``cfg_options`` (strings as
    for ``tools/train.py --cfg-options``) are passed on unchanged.
    """

    def __init__(self, work_dir, variant, config, seed, overrides=None,
                 cfg_options=()):
        self.variant = variant
        self.config = config
        self.seed = seed
        self.overrides = dict(overrides or {})
        self.overrides['randomness'] = dict(
            self.overrides.get('randomness', {}), seed=seed)
        self.cfg_options = list(cfg_options)
        self.run_dir = osp.join(work_dir, 'runs', variant, f'seed{seed}')

    @property
    def result_path(self):
        return osp.join(self.run_dir, RESULT_NAME)

    @property
    def run_config(self):
        return osp.join(self.run_dir, 'config.py')

    def config_text(self):
        return config_text(self.config, self.overrides)

    def fingerprint(self):
        return fingerprint(self.config_text(),
                           parse_cfg_options(self.cfg_options))

    def check(self, fp):
        """Raise if the run dir belongs to a different configuration."""
        meta = osp.join(self.run_dir, 'run.json')
        if osp.isfile(meta):
            with open(meta, encoding='utf-8') as f:
                old = json.load(f).get('fingerprint')
            if old != fp:
                raise StudyError(
                    f'{self.run_dir} holds a run of a different configuration '
                    '(config, --iters or --cfg-options changed since it ran); '
                    'use another --work-dir or delete that directory')

    def finished(self):
        return osp.isfile(self.result_path)

    def _options(self):
        return ['--cfg-options'] + self.cfg_options if self.cfg_options \
            else []

    def train_cmd(self, resume):
        cmd = [sys.executable, TRAIN, self.run_config, '--work-dir',
               self.run_dir]
        if resume:
            cmd.append('--resume')
        return cmd + self._options()

    def test_cmd(self, checkpoint, out_dir, config=None):
        return [sys.executable, TEST, config or self.run_config, checkpoint,
                '--work-dir', out_dir, '--out', out_dir] + self._options()

    def last_checkpoint(self):
        marker = osp.join(self.run_dir, 'last_checkpoint')
        if not osp.isfile(marker):
            return None
        with open(marker, encoding='utf-8') as f:
            path = f.read().strip()
        if not osp.isabs(path):
            path = osp.join(self.run_dir, path)
        return path if osp.isfile(path) else None


def _run_logged(cmd, log_path, env=None):
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    start = time.time()
    with open(log_path, 'a', encoding='utf-8') as log:
        log.write(f'$ {" ".join(cmd)}\n')
        log.flush()
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                              cwd=os.getcwd(), env=env)
    return proc.returncode, time.time() - start


def _tail(path, n=15):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return ''.join(f.readlines()[-n:])
    except OSError:
        return ''


def train_log_stats(run_dir):
    """Seconds per training iteration and peak GPU memory (MB) from
    mmengine's ``vis_data/scalars.json`` of every attempt of a run.

    The mean of the logged ``time`` (each an average over one logging
    interval) without the first interval, which holds start-up costs.
    """
    records = []
    for entry in sorted(os.listdir(run_dir)):
        path = osp.join(run_dir, entry, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path, encoding='utf-8') as f:
                records += [json.loads(line) for line in f if line.strip()]
    train = [r for r in records if 'loss' in r and 'time' in r]
    if len(train) > 1:
        train = train[1:]
    times = [r['time'] for r in train]
    # GPU only (mmengine logs max_memory_allocated); the first interval is
    # left out as well: cudnn's benchmark mode allocates large workspaces
    # while it tries algorithms.
    memory = [r['memory'] for r in train if 'memory' in r]
    return dict(
        s_per_iter=statistics.fmean(times) if times else None,
        max_memory_mb=max(memory) if memory else None)


def execute(run, fp, iters, log=print):
    """Train and test one run; returns its result dict (also written)."""
    os.makedirs(run.run_dir, exist_ok=True)
    with open(run.run_config, 'w', encoding='utf-8') as f:
        f.write(run.config_text())
    with open(osp.join(run.run_dir, 'run.json'), 'w', encoding='utf-8') as f:
        json.dump(dict(variant=run.variant, seed=run.seed,
                       config=run.config, overrides=plain(run.overrides),
                       cfg_options=run.cfg_options, fingerprint=fp), f,
                  indent=2)
    train_log = osp.join(run.run_dir, 'train.log')
    resume = run.last_checkpoint() is not None
    if resume:
        log(f'  {run.variant} seed {run.seed}: resuming from '
            f'{run.last_checkpoint()}')
    rc, train_wall = _run_logged(run.train_cmd(resume), train_log)
    if rc != 0:
        raise RuntimeError(f'training failed (exit {rc}); see {train_log}:\n'
                           + _tail(train_log))
    checkpoint = run.last_checkpoint()
    if checkpoint is None:
        raise RuntimeError(f'training wrote no checkpoint; see {train_log}')
    test_dir = osp.join(run.run_dir, 'test')
    test_log = osp.join(run.run_dir, 'test.log')
    rc, test_wall = _run_logged(run.test_cmd(checkpoint, test_dir), test_log)
    if rc != 0:
        raise RuntimeError(f'testing failed (exit {rc}); see {test_log}:\n'
                           + _tail(test_log))
    with open(osp.join(test_dir, 'summary.json'), encoding='utf-8') as f:
        summary = json.load(f)
    stats = train_log_stats(run.run_dir)
    result = dict(
        variant=run.variant, seed=run.seed, config=run.config,
        overrides=plain(run.overrides), cfg_options=run.cfg_options,
        fingerprint=fp, iters=iters,
        checkpoint=checkpoint, train_wall_s=round(train_wall, 1),
        test_wall_s=round(test_wall, 1), resumed=resume,
        num_test_images=summary.get('num_images'),
        metrics=summary.get('metrics', {}),
        per_class=summary.get('per_class', {}),
        finished=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        **stats)
    with open(run.result_path, 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=2)
    return result


def load_result(run):
    with open(run.result_path, encoding='utf-8') as f:
        return json.load(f)


# ---------------------------------------------------------- aggregation
def result_row(result, run_dir):
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
    for col, key, _, _ in METRICS:
        row[col] = metrics.get(key)
    return row


def mean_std(values):
    """(mean, sample std or None, n) of the finite values."""
    vals = [float(v) for v in values
            if v is not None and math.isfinite(float(v))]
    if not vals:
        return None, None, 0
    std = statistics.stdev(vals) if len(vals) > 1 else None
    return statistics.fmean(vals), std, len(vals)


def fmt(mean, std, digits=2):
    if mean is None:
        return '—'
    if std is None:
        return f'{mean:.{digits}f}'
    return f'{mean:.{digits}f} ± {std:.{digits}f}'


def welch(a, b):
    """Welch's two-sided t-test p-value (None when undefined)."""
    a = [float(x) for x in a if x is not None]
    b = [float(x) for x in b if x is not None]
    if len(a) < 2 or len(b) < 2:
        return None
    if statistics.stdev(a) == 0 and statistics.stdev(b) == 0:
        return None
    from scipy import stats
    with warnings.catch_warnings():  # near-identical values: still defined
        warnings.simplefilter('ignore', RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def compare_rows(rows, pairs):
    """Per (candidate, baseline) and metric: difference of means (signed so
    that positive = candidate better), the two seed stds, and Welch's p."""
    out = []
    by_variant = {}
    for row in rows:
        if row['status'] == 'done':
            by_variant.setdefault(row['variant'], []).append(row)
    for cand, base in pairs:
        if cand not in by_variant or base not in by_variant:
            continue
        for col, _, label, higher in METRICS:
            a = [r[col] for r in by_variant[cand]]
            b = [r[col] for r in by_variant[base]]
            ma, sa, na = mean_std(a)
            mb, sb, nb = mean_std(b)
            if ma is None or mb is None:
                continue
            diff = ma - mb
            better = diff if higher else -diff
            spread = max(s for s in (sa, sb, 0.0) if s is not None)
            out.append(dict(candidate=cand, baseline=base, metric=label,
                            diff=diff, better_by=better, std_candidate=sa,
                            std_baseline=sb, n=(na, nb),
                            ratio=(better / spread) if spread else None,
                            p=welch(a, b)))
    return out


def variant_table(rows, variants):
    lines = ['| variant | config | seeds | ' +
             ' | '.join(m[2] for m in METRICS) + ' | s/iter |',
             '|---|---|---|' + '---|' * len(METRICS) + '---|']
    for variant in variants:
        done = [r for r in rows
                if r['variant'] == variant and r['status'] == 'done']
        if not done:
            continue
        cells = [fmt(*mean_std([r[col] for r in done])[:2])
                 for col, _, _, _ in METRICS]
        spi = mean_std([r['s_per_iter'] for r in done])
        seeds = ','.join(str(r['seed']) for r in done)
        lines.append(
            f'| {variant} | `{osp.basename(done[0]["config"])}` | '
            f'{len(done)} ({seeds}) | ' + ' | '.join(cells) +
            f' | {fmt(spi[0], spi[1], 3)} |')
    return lines


def comparison_table(comparisons):
    lines = ['| candidate vs baseline | metric | difference (candidate − '
             'baseline) | seed std (cand. / base.) | better by / larger std '
             '| Welch p |', '|---|---|---|---|---|---|']
    for c in comparisons:
        ratio = '—' if c['ratio'] is None else f'{c["ratio"]:+.2f}'
        p = '—' if c['p'] is None else f'{c["p"]:.3f}'
        sa = '—' if c['std_candidate'] is None else \
            f'{c["std_candidate"]:.2f}'
        sb = '—' if c['std_baseline'] is None else \
            f'{c["std_baseline"]:.2f}'
        lines.append(f'| {c["candidate"]} vs {c["baseline"]} | {c["metric"]}'
                     f' | {c["diff"]:+.2f} | {sa} / {sb} | {ratio} | {p} |')
    return lines


def write_csv(rows, path, fields=CSV_FIELDS):
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore')
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ('' if row.get(k) is None else row.get(k))
                             for k in fields})


def write_plot(rows, variants, path, title=''):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cols = [m for m in METRICS if m[0] in ('IoU', 'Dice', 'HD95')]
    fig, axes = plt.subplots(1, len(cols), figsize=(4.2 * len(cols), 3.6))
    for ax, (col, _, label, higher) in zip(axes, cols):
        for x, variant in enumerate(variants):
            vals = [r[col] for r in rows if r['variant'] == variant and
                    r['status'] == 'done' and r[col] is not None]
            if not vals:
                continue
            ax.scatter([x] * len(vals), vals, s=22, alpha=0.8, zorder=3)
            m, s, _ = mean_std(vals)
            ax.errorbar([x + 0.18], [m], yerr=[s or 0], fmt='_', ms=14,
                        color='black', capsize=3, zorder=2)
        ax.set_xticks(range(len(variants)))
        ax.set_xticklabels(variants, rotation=35, ha='right', fontsize=8)
        ax.set_title(f'{label} ({"higher" if higher else "lower"} is '
                     'better)', fontsize=9)
        ax.grid(axis='y', alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def collect(study, work_dir, failures=None):
    """Rows for every run of the study, finished or not."""
    rows = []
    for seed in study['seeds']:
        for variant, config in study['variants'].items():
            run = Run(work_dir, variant, config, seed)
            if run.finished():
                rows.append(result_row(load_result(run), run.run_dir))
            else:
                status = 'failed' if failures and \
                    (variant, seed) in failures else 'missing'
                rows.append(dict(variant=variant, seed=seed, status=status,
                                 config=osp.relpath(config, REPO_ROOT),
                                 run_dir=run.run_dir))
    return rows


def report(study, work_dir, failures=None, external_rows=None):
    """Write results.csv / results.md / results.png; returns the md path."""
    rows = collect(study, work_dir, failures)
    variants = list(study['variants'])
    write_csv(rows, osp.join(work_dir, 'results.csv'))
    done = [r for r in rows if r['status'] == 'done']
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
    md += variant_table(rows, variants)
    missing = [r for r in rows if r['status'] != 'done']
    if missing:
        md += ['', 'Not finished: ' + ', '.join(
            f'{r["variant"]} seed {r["seed"]} ({r["status"]})'
            for r in missing)]
    comparisons = compare_rows(rows, study['compare'])
    if comparisons:
        md += ['', '## Comparisons', '',
               '"better by / larger std": the difference, signed so that '
               'positive means the candidate is better, divided by the '
               'larger of the two seed standard deviations.', '']
        md += comparison_table(comparisons)
    if external_rows:
        md += ['', '## External test sets', '',
               'Every seed of the listed variants, trained as above, tested '
               'unchanged on another dataset; "best" is the seed with the '
               'highest IoU on the study\'s own test set.', '']
        md += external_table(external_rows)
        write_csv(external_rows, osp.join(work_dir,
                                          'results_external.csv'),
                  fields=EXTERNAL_FIELDS)
    if done:
        write_plot(rows, variants, osp.join(work_dir, 'results.png'),
                   title=study['name'])
        md += ['', '![per-seed results](results.png)']
    path = osp.join(work_dir, 'results.md')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(md) + '\n')
    return path


# ------------------------------------------------------ external test sets
EXTERNAL_FIELDS = ('external', 'variant', 'seed', 'best_on_study_test',
                   'num_images') + tuple(m[0] for m in METRICS) + ('out_dir',)


def external_config(run, dataset):
    """Text of a config that tests ``run`` on another dataset: the test set
    is replaced, the config's test pipeline kept (unless given)."""
    from mmengine.config import Config
    cfg = Config.fromfile(run.run_config)
    ds = plain(dict(dataset))
    ds.setdefault('pipeline', plain(cfg.test_dataloader.dataset.pipeline))
    return config_text(run.run_config, dict(
        test_dataloader=dict(dataset=dict(_delete_=True, **ds))))


def external_results(study, work_dir, rows, run_missing=True, log=print):
    """Rows for the external test sets: every finished seed of the listed
    variants, tested (when ``run_missing`` and not tested yet) with the test
    set replaced; ``best_on_study_test`` marks the seed with the highest IoU
    on the study's own test set."""
    out_rows = []
    done = [r for r in rows if r['status'] == 'done']
    for ext_name, ext in study['external'].items():
        for variant in ext.get('variants', list(study['variants'])):
            vrows = [r for r in done if r['variant'] == variant]
            if not vrows:
                continue
            best = max(vrows, key=lambda r: (r['IoU'] is not None,
                                             r['IoU'] or 0))
            for row in vrows:
                out_dir = osp.join(work_dir, 'external', ext_name,
                                   f'{variant}_seed{row["seed"]}')
                summary_path = osp.join(out_dir, 'summary.json')
                if not osp.isfile(summary_path):
                    if not run_missing:
                        continue
                    log(f'  external {ext_name}: {variant} seed '
                        f'{row["seed"]}')
                    run_external_test(study, work_dir, variant, row["seed"],
                                  ext['dataset'], out_dir)
                with open(summary_path, encoding='utf-8') as f:
                    summary = json.load(f)
                ext_row = dict(external=ext_name, variant=variant,
                               seed=row['seed'],
                               best_on_study_test=row is best,
                               num_images=summary.get('num_images'),
                               out_dir=out_dir)
                for col, key, _, _ in METRICS:
                    ext_row[col] = summary.get('metrics', {}).get(key)
                out_rows.append(ext_row)
    return out_rows


def run_external_test(study, work_dir, variant, seed, dataset, out_dir):
    """Test the finished run (variant, seed) on ``dataset``."""
    run = Run(work_dir, variant, study['variants'][variant], seed)
    result = load_result(run)
    run.cfg_options = list(result.get('cfg_options', []))
    os.makedirs(out_dir, exist_ok=True)
    config = osp.join(out_dir, 'config.py')
    with open(config, 'w', encoding='utf-8') as f:
        f.write(external_config(run, dataset))
    log_path = osp.join(out_dir, 'test.log')
    rc, _ = _run_logged(run.test_cmd(result['checkpoint'], out_dir, config),
                        log_path)
    if rc != 0:
        raise RuntimeError(f'external test of {variant} seed {seed} failed; '
                           f'see {log_path}:\n' + _tail(log_path))


def external_table(ext_rows):
    lines = ['| set | variant | images | seeds | ' +
             ' | '.join(m[2] for m in METRICS[:3]) +
             ' | best seed: ' + ' / '.join(m[0] for m in METRICS[:3]) + ' |',
             '|---|---|---|---|' + '---|' * 3 + '---|']
    keys = []
    for r in ext_rows:
        if (r['external'], r['variant']) not in keys:
            keys.append((r['external'], r['variant']))
    for ext_name, variant in keys:
        rs = [r for r in ext_rows
              if r['external'] == ext_name and r['variant'] == variant]
        cells = [fmt(*mean_std([r[col] for r in rs])[:2])
                 for col, _, _, _ in METRICS[:3]]
        best = [r for r in rs if r['best_on_study_test']]
        best_cell = '—' if not best else ' / '.join(
            '—' if best[0][c] is None else f'{best[0][c]:.2f}'
            for c, _, _, _ in METRICS[:3]) + f' (seed {best[0]["seed"]})'
        lines.append(f'| {ext_name} | {variant} | {rs[0]["num_images"]} | '
                     f'{len(rs)} | ' + ' | '.join(cells) + f' | {best_cell} |')
    return lines


# -------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train and test every variant x seed of a study and '
        'write results.csv, results.md and results.png',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('Example::', 1)[-1])
    parser.add_argument('study', nargs='+',
                        help='a study file (configs/studies/*.py) or config '
                        'files, one per variant')
    parser.add_argument('--variants', nargs='+',
                        help='run only these variants (in this order)')
    parser.add_argument('--seeds', nargs='+', type=int,
                        help='seeds (default: the study\'s, else 0)')
    parser.add_argument('--work-dir',
                        help='where runs and results go (default: the '
                        'study\'s work_dir, else work_dirs/studies/<name>)')
    parser.add_argument('--iters', type=int,
                        help='train every run for this many iterations '
                        '(schedulers scaled; for smoke tests)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs at the same time (e.g. several on one '
                        'GPU); s/iter is then measured under contention')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='options applied to every run (part of the '
                        'run fingerprint)')
    parser.add_argument('--report-only', action='store_true',
                        help='only aggregate finished runs')
    parser.add_argument('--externals-only', action='store_true',
                        help='train nothing: test the finished runs on the '
                        'external sets, then report')
    parser.add_argument('--no-external', action='store_true',
                        help='skip the external test sets')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the runs and commands, run nothing')
    return parser.parse_args(argv)


def _fmt_s(seconds):
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f'{h}h{m:02d}m{s:02d}s' if h else f'{m}m{s:02d}s'


def main(argv=None):
    args = parse_args(argv)
    import sgdc_mmseg  # noqa: F401  (compat layer before mmseg imports)
    try:
        study = select(load_study(args.study), args.variants, args.seeds)
        work_dir = osp.abspath(args.work_dir or study['work_dir'] or
                               osp.join('work_dirs', 'studies',
                                        study['name']))
        parse_cfg_options(args.cfg_options)  # fail early on bad syntax
        runs, plans = [], {}
        for seed in study['seeds']:
            for variant, config in study['variants'].items():
                overrides = iters_overrides(config, args.iters) \
                    if args.iters else {}
                run = Run(work_dir, variant, config, seed, overrides,
                          args.cfg_options)
                fp = run.fingerprint()
                run.check(fp)
                iters = args.iters
                if iters is None:
                    from mmengine.config import Config
                    iters = Config.fromfile(config).train_cfg.get(
                        'max_iters')
                runs.append(run)
                plans[id(run)] = (fp, iters)
    except StudyError as exc:
        raise SystemExit(f'error: {exc}')
    os.makedirs(work_dir, exist_ok=True)
    todo = [r for r in runs if not r.finished()]
    print(f'study {study["name"]}: {len(study["variants"])} variants x '
          f'{len(study["seeds"])} seeds = {len(runs)} runs, '
          f'{len(runs) - len(todo)} already finished; work dir {work_dir}')
    if args.dry_run:
        for run in runs:
            state = 'finished' if run.finished() else 'to run'
            print(f'[{state}] {run.variant} seed {run.seed}: '
                  f'{" ".join(run.train_cmd(False))}')
        return 0
    failures = set()
    if not (args.report_only or args.externals_only) and todo:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(todo))
        lock = threading.Lock()
        durations = []
        start = time.time()

        def work(run):
            t0 = time.time()
            fp, iters = plans[id(run)]
            try:
                result = execute(run, fp, iters)
            except Exception as exc:  # noqa: BLE001 - reported, grid goes on
                with lock:
                    failures.add((run.variant, run.seed))
                    print(f'\nFAILED {run.variant} seed {run.seed}: {exc}',
                          flush=True)
                    bar.update()
                return
            with lock:
                durations.append(time.time() - t0)
                left = len(todo) - len(durations) - len(failures)
                eta = statistics.fmean(durations) * left / max(args.jobs, 1)
                m = result['metrics']
                print(f'\n{run.variant} seed {run.seed} done in '
                      f'{_fmt_s(durations[-1])}: IoU '
                      f'{m.get("medical/mIoU", float("nan")):.2f} Dice '
                      f'{m.get("medical/mDice", float("nan")):.2f} HD95 '
                      f'{m.get("medical/mHD95", float("nan")):.2f}; '
                      f'elapsed {_fmt_s(time.time() - start)}, about '
                      f'{_fmt_s(eta)} left', flush=True)
                bar.update()

        if args.jobs > 1:
            with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                list(pool.map(work, todo))
        else:
            for run in todo:
                work(run)
        print()
    rows = collect(study, work_dir, failures)
    external_rows = None
    if study['external'] and not args.no_external:
        external_rows = external_results(
            study, work_dir, rows, run_missing=not args.report_only)
    path = report(study, work_dir, failures, external_rows)
    print(f'results: {path} (+ results.csv, results.png)')
    with open(path, encoding='utf-8') as f:
        print(f.read())
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
