"""Command line of ``tools/study.py``: argument parsing and wiring over
:mod:`sgdc_mmseg.study`.

Exit status: 0 when every run that was tried finished (or with
``--dry-run``), 1 when a run failed (the others still ran and the report
was written) or on a bad study file or argument (``error: ...``).
"""
import argparse
import os
import warnings

from ..study.ensembles import extra_rows
from ..study.external import external_results
from ..study.folds import write_generated_splits
from ..study.report import (collect_rows, external_rows_from_csv,
                            rows_from_results_csv, write_report)
from ..study.run_config import parse_cfg_options
from ..study.runs import (dry_run_lines, grid_summary_line, plan_runs,
                          run_grid)
from ..study.schema import (StudyError, load_study,
                            select_variants_and_seeds, study_metrics,
                            study_work_dir)

# mmengine imports pkg_resources, which warns on every config load.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

EXAMPLES = '''

    python tools/study.py configs/studies/isic2017_cpu.py
    python tools/study.py configs/studies/isic2017_cpu.py \\
        --variants sgdc pool --seeds 0 --iters 20 --work-dir /tmp/smoke
'''


def build_parser():
    parser = argparse.ArgumentParser(
        description='Train and test every variant x seed of a study and '
        'write results.csv, results.md and results.png',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES)
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
                        '(schedulers scaled; for smoke tests; default: the '
                        'study file\'s `iters`, else the configs\')')
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs at the same time (e.g. several on one '
                        'GPU); s/iter is then measured under contention')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='options applied to every run (part of the '
                        'run fingerprint)')
    parser.add_argument('--report-only', action='store_true',
                        help='only aggregate finished runs')
    parser.add_argument('--from-results-csv', action='store_true',
                        help='with --report-only: rebuild results.md from '
                        'WORK_DIR/results.csv (and results_external.csv) '
                        'instead of the runs, e.g. a shipped report in '
                        'docs/results/<study>; the CSVs and results.png are '
                        'left as they are; per-image statistics need the '
                        'runs and show as —')
    parser.add_argument('--folds', nargs='+', type=int, dest='fold_ids',
                        help='in a study with folds: run only these folds')
    parser.add_argument('--externals-only', action='store_true',
                        help='train nothing: test the finished runs on the '
                        'external sets, then report')
    parser.add_argument('--no-external', action='store_true',
                        help='skip the external test sets')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the runs and commands, run nothing')
    return parser


def _plan(args):
    """(study, work dir, planned runs); SystemExit on a bad study file,
    argument or run directory."""
    try:
        study = select_variants_and_seeds(load_study(args.study),
                                          args.variants, args.seeds)
        if args.fold_ids:
            _select_folds(study, args.fold_ids)
        work_dir = study_work_dir(study, args.work_dir)
        parse_cfg_options(args.cfg_options)  # fail early on bad syntax
        iters = args.iters if args.iters is not None else study.get('iters')
        planned = plan_runs(study, work_dir, iters, args.cfg_options)
    except StudyError as exc:
        raise SystemExit(f'error: {exc}')
    return study, work_dir, planned


def _select_folds(study, fold_ids):
    """Restrict ``study`` to the folds ``fold_ids`` (StudyError naming
    ``--folds`` for a study without folds or an unknown fold)."""
    if not study.get('folds'):
        raise StudyError('--folds: the study has no `folds`')
    k = study['folds']['num_folds']
    bad = [f for f in fold_ids if not 0 <= f < k]
    if bad:
        raise StudyError(f'--folds: {bad} not in 0..{k - 1}')
    study['fold_ids'] = list(fold_ids)


def _report_from_csv(study, work_dir):
    """results.md of ``work_dir`` rebuilt from its results.csv (and
    results_external.csv)."""
    path = os.path.join(work_dir, 'results.csv')
    ext_path = os.path.join(work_dir, 'results_external.csv')
    if not os.path.isfile(path):
        raise SystemExit(f'error: --from-results-csv: no {path}')
    try:
        rows = rows_from_results_csv(path, study_metrics(study))
        ext = external_rows_from_csv(ext_path, study_metrics(study)) \
            if study['external'] and os.path.isfile(ext_path) else None
    except ValueError as exc:
        raise SystemExit(f'error: {exc}')
    return write_report(study, work_dir, external_rows=ext, rows=rows)


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.from_results_csv and not args.report_only:
        raise SystemExit('error: --from-results-csv needs --report-only')
    study, work_dir, planned = _plan(args)
    if args.from_results_csv:
        path = _report_from_csv(study, work_dir)
        print(f'results: {path} (from results.csv)')
        return 0
    os.makedirs(work_dir, exist_ok=True)
    todo = [p for p in planned if not p.run.is_finished()]
    print(grid_summary_line(study, planned, work_dir))
    if args.dry_run:
        for line in dry_run_lines(planned):
            print(line)
        return 0
    failures = set()
    if not (args.report_only or args.externals_only) and todo:
        try:
            write_generated_splits(study.get('folds'), work_dir)
        except StudyError as exc:
            raise SystemExit(f'error: {exc}')
        failures = run_grid(todo, args.jobs, study_metrics(study))
    external_rows = None
    if study['external'] and not args.no_external:
        external_rows = external_results(
            study, work_dir, collect_rows(study, work_dir, failures),
            run_missing=not args.report_only)
    extra = None
    if study.get('ensemble') or study.get('postprocess'):
        try:
            extra = extra_rows(study, work_dir,
                               run_missing=not args.report_only)
        except (RuntimeError, ValueError, FileNotFoundError) as exc:
            print(f'ensembles/post-processing: FAILED: {exc}')
            failures.add(('ensembles', ))
    path = write_report(study, work_dir, failures, external_rows,
                        extra_rows=extra)
    print(f'results: {path} (+ results.csv, results.png)')
    with open(path, encoding='utf-8') as f:
        print(f.read())
    return 1 if failures else 0
