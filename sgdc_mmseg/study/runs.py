"""Run directories of a study, and training and testing them.

Each run (variant, seed) lives in ``WORK_DIR/runs/<variant>/seed<k>/``
(``WORK_DIR/runs/<variant>/fold<f>/seed<k>/`` in a study with folds,
:mod:`.folds`):

* ``config.py``: the run's config (:mod:`.run_config`); ``run.json``: the
  variant, seed, config, overrides, ``--cfg-options`` and the fingerprint,
  written before training. A run directory whose ``run.json`` holds another
  fingerprint is refused (:meth:`Run.check_fingerprint`).
* ``train.log``, ``test.log``: the output of ``tools/train.py`` and
  ``tools/test.py`` (subprocesses; appended, each attempt after a
  ``$ command`` line), and mmengine's work dir (checkpoints,
  ``last_checkpoint``, ``<timestamp>/vis_data/scalars.json``).
* ``test/``: ``tools/test.py --out`` of the LAST checkpoint (no checkpoint
  selection on the test data), with ``summary.json``.
* ``result.json``: written last; it marks the run finished. Finished runs
  are skipped; an unfinished run with a checkpoint resumes from it
  (``tools/train.py --resume``), except when that checkpoint is the last
  iteration of its schedule (a run stopped while it was being tested): it
  is tested as it is, since mmengine's resume would first replay the data
  loader through every iteration already trained.

Runs go seed by seed (all variants of seed 0 first, :func:`plan_runs`; with
folds, seed by seed and within a seed fold by fold), so a grid stopped early
still has complete seeds; :func:`run_grid` runs them,
one or several at a time, and goes on past a failed run.
"""
import collections
import concurrent.futures
import datetime
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import threading
import time

from ..evaluation.test_outputs import (KEY_METRICS, KEY_NUM_IMAGES,
                                       KEY_PER_CLASS, SUMMARY_NAME,
                                       read_summary)
from .run_config import (configured_iters, inherited_config_text,
                         parse_cfg_options, run_fingerprint,
                         schedule_overrides, to_plain)
from .schema import METRICS, StudyError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN_TOOL = osp.join(REPO_ROOT, 'tools', 'train.py')
TEST_TOOL = osp.join(REPO_ROOT, 'tools', 'test.py')
RESULT_NAME = 'result.json'
RUN_META_NAME = 'run.json'


class Run:
    """One (variant, seed) -- or (variant, seed, fold) -- of a study in
    ``work_dir``.

    ``overrides`` (config keys -> values) are set on top of the variant's
    ``config`` together with ``randomness.seed``; ``cfg_options`` (strings
    as for ``tools/train.py --cfg-options``) are passed on unchanged. The
    fold's split files must be in ``overrides``
    (:func:`.folds.fold_overrides`); ``fold`` (None without folds) only
    names the run directory.
    """

    def __init__(self, work_dir, variant, config, seed, overrides=None,
                 cfg_options=(), fold=None):
        self.variant = variant
        self.config = config
        self.seed = seed
        self.fold = fold
        self.overrides = dict(overrides or {})
        self.overrides['randomness'] = dict(
            self.overrides.get('randomness', {}), seed=seed)
        self.cfg_options = list(cfg_options)
        parts = [work_dir, 'runs', variant]
        if fold is not None:
            parts.append(f'fold{fold}')
        self.run_dir = osp.join(*parts, f'seed{seed}')

    @property
    def label(self):
        """``sgdc seed 0`` or ``sgdc seed 0 fold 1``."""
        fold = '' if self.fold is None else f' fold {self.fold}'
        return f'{self.variant} seed {self.seed}{fold}'

    @property
    def result_path(self):
        return osp.join(self.run_dir, RESULT_NAME)

    @property
    def run_config(self):
        return osp.join(self.run_dir, 'config.py')

    def config_text(self):
        return inherited_config_text(self.config, self.overrides)

    def fingerprint(self):
        return run_fingerprint(self.config_text(),
                               parse_cfg_options(self.cfg_options))

    def check_fingerprint(self, fp):
        """Raise :class:`StudyError` if the run dir holds a run of a
        configuration whose fingerprint is not ``fp``."""
        meta = osp.join(self.run_dir, RUN_META_NAME)
        if osp.isfile(meta):
            with open(meta, encoding='utf-8') as f:
                old = json.load(f).get('fingerprint')
            if old != fp:
                raise StudyError(
                    f'{self.run_dir} holds a run of a different configuration '
                    '(config, --iters or --cfg-options changed since it ran); '
                    'use another --work-dir or delete that directory')

    def is_finished(self):
        return osp.isfile(self.result_path)

    def _cfg_options_args(self):
        return ['--cfg-options'] + self.cfg_options if self.cfg_options \
            else []

    def train_cmd(self, resume):
        cmd = [sys.executable, TRAIN_TOOL, self.run_config, '--work-dir',
               self.run_dir]
        if resume:
            cmd.append('--resume')
        return cmd + self._cfg_options_args()

    def test_cmd(self, checkpoint, out_dir, config=None):
        return [sys.executable, TEST_TOOL, config or self.run_config,
                checkpoint, '--work-dir', out_dir, '--out', out_dir
                ] + self._cfg_options_args()

    def last_checkpoint(self):
        """The checkpoint mmengine's ``last_checkpoint`` names, or None
        when there is none (or it is gone)."""
        marker = osp.join(self.run_dir, 'last_checkpoint')
        if not osp.isfile(marker):
            return None
        with open(marker, encoding='utf-8') as f:
            path = f.read().strip()
        if not osp.isabs(path):
            path = osp.join(self.run_dir, path)
        return path if osp.isfile(path) else None


def run_logged(cmd, log_path, env=None):
    """Run ``cmd`` with its output appended to ``log_path`` (after a
    ``$ cmd`` line); returns (exit status, wall seconds)."""
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    start = time.time()
    with open(log_path, 'a', encoding='utf-8') as log:
        log.write(f'$ {" ".join(cmd)}\n')
        log.flush()
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                              cwd=os.getcwd(), env=env)
    return proc.returncode, time.time() - start


def log_tail(path, n=15):
    """The last ``n`` lines of a log ('' when it cannot be read)."""
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


def write_run_files(run, fp):
    """Write the run's ``config.py`` and ``run.json`` (fingerprint ``fp``)."""
    os.makedirs(run.run_dir, exist_ok=True)
    with open(run.run_config, 'w', encoding='utf-8') as f:
        f.write(run.config_text())
    with open(osp.join(run.run_dir, RUN_META_NAME), 'w',
              encoding='utf-8') as f:
        json.dump(dict(variant=run.variant, seed=run.seed,
                       **_fold_item(run), config=run.config,
                       overrides=to_plain(run.overrides),
                       cfg_options=run.cfg_options, fingerprint=fp), f,
                  indent=2)


def _fold_item(run):
    """``{'fold': f}`` for a run of a fold, else ``{}`` (files of runs
    without folds stay as they were)."""
    return {} if run.fold is None else dict(fold=run.fold)


_ITER_CHECKPOINT = re.compile(r'(?:^|[\\/])iter_(\d+)\.pth$')


def final_iteration(run):
    """The iteration at which ``run``'s training ends: ``train_cfg.max_iters``
    of its ``config.py`` after its ``--cfg-options`` (None for an
    epoch-based config)."""
    from mmengine.config import Config
    cfg = Config.fromfile(run.run_config)
    options = parse_cfg_options(run.cfg_options)
    if options:
        cfg.merge_from_dict(options)
    train_cfg = cfg.get('train_cfg') or {}
    return train_cfg.get('max_iters')


def checkpoint_iteration(path):
    """The iteration in an mmengine iteration checkpoint's name
    (``.../iter_1000.pth`` -> 1000), None for any other name."""
    match = _ITER_CHECKPOINT.search(path)
    return int(match.group(1)) if match else None


def train_run(run, log=print):
    """Train ``run`` (resuming from its last checkpoint if it has one);
    returns (checkpoint, wall seconds, resumed). A last checkpoint at the
    final iteration is returned as it is (wall 0, resumed)."""
    train_log = osp.join(run.run_dir, 'train.log')
    last = run.last_checkpoint()
    done = checkpoint_iteration(last) if last else None
    if done is not None and done == final_iteration(run):
        log(f'  {run.label}: {last} is the last iteration ({done}): '
            'testing it, nothing to train')
        return last, 0.0, True
    resume = last is not None
    if resume:
        log(f'  {run.label}: resuming from {last}')
    rc, wall = run_logged(run.train_cmd(resume), train_log)
    if rc != 0:
        raise RuntimeError(f'training failed (exit {rc}); see {train_log}:\n'
                           + log_tail(train_log))
    checkpoint = run.last_checkpoint()
    if checkpoint is None:
        raise RuntimeError(f'training wrote no checkpoint; see {train_log}')
    return checkpoint, wall, resume


def score_checkpoint(run, checkpoint):
    """Test ``checkpoint`` of ``run`` into ``run_dir/test``; returns (the
    ``summary.json`` object, wall seconds)."""
    test_dir = osp.join(run.run_dir, 'test')
    test_log = osp.join(run.run_dir, 'test.log')
    rc, wall = run_logged(run.test_cmd(checkpoint, test_dir), test_log)
    if rc != 0:
        raise RuntimeError(f'testing failed (exit {rc}); see {test_log}:\n'
                           + log_tail(test_log))
    return read_summary(osp.join(test_dir, SUMMARY_NAME)), wall


def train_and_test(run, fp, iters, log=print):
    """Train and test one run; returns its result dict (also written to
    ``result.json``, which marks the run finished)."""
    write_run_files(run, fp)
    checkpoint, train_wall, resumed = train_run(run, log)
    summary, test_wall = score_checkpoint(run, checkpoint)
    result = dict(
        variant=run.variant, seed=run.seed, **_fold_item(run),
        config=run.config, overrides=to_plain(run.overrides),
        cfg_options=run.cfg_options,
        fingerprint=fp, iters=iters,
        checkpoint=checkpoint, train_wall_s=round(train_wall, 1),
        test_wall_s=round(test_wall, 1), resumed=resumed,
        num_test_images=summary.get(KEY_NUM_IMAGES),
        metrics=summary.get(KEY_METRICS, {}),
        per_class=summary.get(KEY_PER_CLASS, {}),
        finished=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'),
        **train_log_stats(run.run_dir))
    with open(run.result_path, 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=2)
    return result


def load_result(run):
    """The ``result.json`` of a finished run."""
    with open(run.result_path, encoding='utf-8') as f:
        return json.load(f)


#: A run of the grid with its fingerprint and its number of iterations.
PlannedRun = collections.namedtuple('PlannedRun',
                                    ('run', 'fingerprint', 'iters'))


def study_folds(study):
    """The folds of ``study`` (``[None]`` without folds)."""
    folds = study.get('folds')
    if not folds:
        return [None]
    return list(study.get('fold_ids') or range(folds['num_folds']))


def study_runs(study, work_dir, iters=None, cfg_options=()):
    """Every :class:`Run` of ``study``, seed by seed (then fold by fold,
    then variant by variant), with the schedule scaled to ``iters`` when
    given and the fold's split files."""
    from .folds import fold_overrides
    runs = []
    for seed in study['seeds']:
        for fold in study_folds(study):
            for variant, config in study['variants'].items():
                overrides = schedule_overrides(config, iters) if iters \
                    else {}
                if fold is not None:
                    overrides.update(fold_overrides(study['folds'], fold,
                                                    work_dir))
                runs.append(Run(work_dir, variant, config, seed, overrides,
                                cfg_options, fold=fold))
    return runs


def plan_runs(study, work_dir, iters=None, cfg_options=()):
    """Every run of ``study`` in ``work_dir`` (:func:`study_runs`) with
    its fingerprint. Raises :class:`StudyError` for a run dir that holds
    another configuration."""
    planned = []
    for run in study_runs(study, work_dir, iters, cfg_options):
        fp = run.fingerprint()
        run.check_fingerprint(fp)
        planned.append(PlannedRun(run, fp,
                                  configured_iters(run.config, iters)))
    return planned


def grid_summary_line(study, planned, work_dir):
    """``study NAME: V variants x S seeds = N runs, F already finished;
    work dir DIR``."""
    finished = sum(p.run.is_finished() for p in planned)
    folds = study_folds(study)
    fold_part = '' if folds == [None] else f' x {len(folds)} folds'
    return (f'study {study["name"]}: {len(study["variants"])} variants x '
            f'{len(study["seeds"])} seeds{fold_part} = {len(planned)} runs, '
            f'{finished} already finished; work dir {work_dir}')


def dry_run_lines(planned):
    """One line per run: its state and training command."""
    lines = []
    for plan in planned:
        run = plan.run
        state = 'finished' if run.is_finished() else 'to run'
        lines.append(f'[{state}] {run.label}: '
                     f'{" ".join(run.train_cmd(False))}')
    return lines


def format_duration(seconds):
    """``3725`` -> ``1h02m05s``; ``65`` -> ``1m05s``."""
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f'{h}h{m:02d}m{s:02d}s' if h else f'{m}m{s:02d}s'


class _GridProgress:
    """A progress bar and a line per finished or failed run of a grid of
    ``total`` runs with ``jobs`` at a time (thread-safe); a finished run's
    line shows the first three of ``metrics`` (the study's metric set)."""

    def __init__(self, total, jobs, metrics=METRICS):
        from mmengine.utils import ProgressBar
        self.bar = ProgressBar(total)
        self.total, self.jobs = total, jobs
        self.metrics = tuple(metrics)[:3]
        self.lock = threading.Lock()
        self.durations, self.failures = [], set()
        self.start = time.time()

    def failed(self, run, exc):
        with self.lock:
            self.failures.add(run_key(run))
            print(f'\nFAILED {run.label}: {exc}',
                  flush=True)
            self.bar.update()

    def finished(self, run, result, duration):
        with self.lock:
            self.durations.append(duration)
            left = self.total - len(self.durations) - len(self.failures)
            eta = statistics.fmean(self.durations) * left / max(self.jobs, 1)
            m = result['metrics']
            scores = ' '.join(f'{metric.column} '
                              f'{m.get(metric.key, float("nan")):.2f}'
                              for metric in self.metrics)
            print(f'\n{run.label} done in '
                  f'{format_duration(duration)}: {scores}; '
                  f'elapsed {format_duration(time.time() - self.start)}, '
                  f'about {format_duration(eta)} left', flush=True)
            self.bar.update()


def run_key(run):
    """(variant, seed) of a run, (variant, seed, fold) of a run of a
    fold."""
    if run.fold is None:
        return (run.variant, run.seed)
    return (run.variant, run.seed, run.fold)


def run_grid(planned, jobs=1, metrics=METRICS):
    """Train and test the ``planned`` runs, ``jobs`` at a time; a failed
    run is reported and the grid goes on (each finished run's line shows
    the first three of ``metrics``, the study's metric set). Returns the
    :func:`run_key` of the runs that failed."""
    progress = _GridProgress(len(planned), jobs, metrics)

    def work(plan):
        t0 = time.time()
        try:
            result = train_and_test(plan.run, plan.fingerprint, plan.iters)
        except Exception as exc:  # noqa: BLE001 - reported, grid goes on
            progress.failed(plan.run, exc)
            return
        progress.finished(plan.run, result, time.time() - t0)

    if jobs > 1:
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            list(pool.map(work, planned))
    else:
        for plan in planned:
            work(plan)
    print()
    return progress.failures
