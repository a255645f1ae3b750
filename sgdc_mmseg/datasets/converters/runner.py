"""Running a conversion: the tasks with a progress bar, then the record.

:func:`run_conversion` runs one task per sample (in ``nproc`` worker
processes when ``nproc > 1``) with mmengine's ``track_progress`` /
``track_parallel_progress``; a sample that fails does not stop the others,
and the records of those that passed are saved in the pending record
before the error listing every failure is raised (a rerun skips them).
:func:`finish_conversion` writes the split files and ``conversion.json``
and prints the summary (:func:`summary_text`).
"""
import dataclasses
import sys
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from mmengine.utils import track_parallel_progress, track_progress

from ..utils import MAX_LISTED
from .checks import ConversionError
from .output import SPLITS_DIR, OutputFolder
from .records import RECORD_NAME, SAMPLE_FILES_KEY

#: What a conversion task returns: ``(name, record, written)``.
TaskResult = Tuple[str, dict, bool]


def _guarded(job):
    """Run ``func(task)``; a :class:`ConversionError` is returned, not
    raised, so that one bad sample neither stops the others nor leaves a
    worker pool behind."""
    func, task = job
    try:
        return func(task), None
    except ConversionError as e:
        return None, str(e)


def run_tasks(func: Callable, tasks: Sequence, nproc: int = 1,
              what: str = 'conversion',
              keep: Optional[Callable[[list], None]] = None) -> list:
    """``func`` over ``tasks`` with mmengine's progress bar, in ``nproc``
    processes when ``nproc > 1``.

    Args:
        keep (callable, optional): Called with the results of the tasks that
            passed before the error below is raised.

    Raises:
        ConversionError: After all tasks ran, listing every task that
            failed.
    """
    jobs = [(func, t) for t in tasks]
    if not jobs:
        return []
    if nproc > 1 and len(jobs) > 1:
        results = track_parallel_progress(
            _guarded, jobs, nproc=min(nproc, len(jobs)), file=sys.stdout)
    else:
        results = track_progress(_guarded, jobs, file=sys.stdout)
    errors = [err for _, err in results if err is not None]
    if errors and keep is not None:
        keep([res for res, err in results if err is None])
    if errors:
        shown = '\n  - '.join(errors[:MAX_LISTED])
        more = (f'\n  ... ({len(errors) - MAX_LISTED} more)'
                if len(errors) > MAX_LISTED else '')
        raise ConversionError(
            f'{what}: {len(errors)} of {len(jobs)} sample(s) failed, so no '
            f'{RECORD_NAME} was written (the samples that passed are kept; '
            'a rerun with the same settings skips them):\n  - '
            f'{shown}{more}')
    return [res for res, _ in results]


def with_previous(tasks: Sequence, output: OutputFolder) -> list:
    """``tasks`` (dataclasses with ``name`` and ``previous``), each given
    the record of its sample from an earlier run with the same settings."""
    return [dataclasses.replace(t, previous=output.previous.get(t.name))
            for t in tasks]


def run_conversion(func: Callable, tasks: Sequence, output: OutputFolder,
                   nproc: int, what: str) -> List[TaskResult]:
    """Run the conversion tasks; when some fail, the records of those that
    passed are saved in the pending record first (a rerun skips them)."""
    kept = dict(output.previous)

    def keep(results):
        passed = {name: record for name, record, _ in results}
        for t in tasks:  # a failed sample is converted again by the next run
            if t.name in passed:
                kept[t.name] = passed[t.name]
            else:
                kept.pop(t.name, None)
        output.save_pending(kept)

    return run_tasks(func, with_previous(tasks, output), nproc, what, keep)


def finish_conversion(output: OutputFolder, split_files: Dict[str, List[str]],
                      extra: dict, results: Sequence[TaskResult],
                      missing_splits: Mapping[str, str]) -> dict:
    """Write split files and ``conversion.json`` (with the per-sample
    records of ``results``), print the summary and return the record."""
    record = dict(output.settings)
    record.update(extra)
    record['missing_splits'] = dict(missing_splits)
    record['counts'] = {k: len(v) for k, v in split_files.items()}
    record['split_files'] = [f'{SPLITS_DIR}/{k}.txt' for k in split_files]
    record[SAMPLE_FILES_KEY] = {
        name: rec for name, rec, _ in sorted(results, key=lambda r: r[0])}
    output.finish(split_files, record)
    num_written = sum(1 for _, _, written in results if written)
    print(summary_text(output, split_files, missing_splits, len(results),
                       num_written))
    return record


def summary_text(output: OutputFolder,
                 split_files: Mapping[str, Sequence[str]],
                 missing_splits: Mapping[str, str], num_total: int,
                 num_written: int) -> str:
    """What a finished conversion prints: counts, folders, split files,
    the splits not converted and the record's path."""
    lines = [
        f'{output.converter}: {num_total} sample(s) in {output.root} '
        f'({num_written} written, {num_total - num_written} already there '
        'with the same settings, unchanged source files and intact outputs)'
    ]
    for d in output.data_dirs:
        lines.append(f'  {d + "/":11s}{output.path(d)}')
    lines.append(f'  split files in {output.path(SPLITS_DIR)}:')
    for k, v in split_files.items():
        lines.append(f'    {k + ".txt":24s}{len(v):6d} name(s)')
    for split, why in missing_splits.items():
        lines.append(f'  split {split!r} not converted: {why}')
    lines.append(f'  record: {output.path(RECORD_NAME)}')
    return '\n'.join(lines)
