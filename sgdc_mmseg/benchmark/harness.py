"""The benchmark harness: each case measured in a fresh ``python`` process.

A case is a JSON-serialisable dict with at least ``kind`` (which builder of
:data:`sgdc_mmseg.benchmark.cases.BUILDERS` makes it), ``impl``, ``pass_``,
``group`` and ``device``. :func:`run_in_subprocess` runs it as
``python -m sgdc_mmseg.benchmark.child CASE`` (so imports, caches and the
peak memory of one case never affect another) and returns the child's
result dict: ``times``, ``median_s``, ``peak_bytes`` and the builder's
extras; ``skipped`` (a :class:`SkipCase` reason) or ``error`` (exit status
and the last lines of its output, or a timeout) otherwise. A case with a
``skip`` reason (decided by the parent, e.g. a memory estimate above a
limit) is not run: :func:`run_cases` reports ``{'skipped': reason}``.

In the child, :func:`run_case` calls the builder, which returns ``(step,
cleanup, extra)``; ``step=None`` marks a measurement that is not timed
(e.g. FLOPs, the machine's peaks): ``extra`` is then the whole result (its
``summary``, when given, is the progress line's phrase).

Method. Time: ``warmup`` untimed calls of ``step`` (each followed by
``cleanup``), then the median of ``repeats`` calls timed with
``time.perf_counter`` (``torch.cuda.synchronize()`` before and after on
CUDA). Peak memory of the timed calls (the largest): on CUDA,
``torch.cuda.max_memory_allocated()`` after ``reset_peak_memory_stats()``
minus the memory allocated before the call; on CPU, the peak increase of
the resident set size: before each timed call (outside the timing)
``malloc_trim(0)`` (glibc keeps freed blocks of up to 32 MiB, which a later
call would reuse without the RSS growing) and ``echo 5 >
/proc/self/clear_refs`` (resets ``VmHWM`` to the current RSS), then
``VmHWM`` after the call minus ``VmRSS`` before it: what the call added at
its peak (outputs and gradients included, inputs and parameters not);
None when the kernel refuses the reset.
"""
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import time

from .report import cpu_name

#: The repository root (the child runs there, configs are found from it).
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The module the child process runs (``python -m``).
CHILD_MODULE = 'sgdc_mmseg.benchmark.child'
#: How the child's stdout marks its result line (JSON follows).
RESULT_PREFIX = 'RESULT '


class SkipCase(Exception):
    """A case that cannot run here (printed as a skip, not a failure)."""


# ------------------------------------------------------------ peak memory

def proc_status_kib(field):
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def malloc_trim():
    """Return glibc's freed heap memory to the OS (no-op elsewhere)."""
    try:
        import ctypes
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim


def reset_peak_rss():
    """Return freed heap memory to the OS and reset ``VmHWM`` to the current
    RSS; False when the kernel does not let this process do the latter."""
    malloc_trim()
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        return False
    return True


# ------------------------------------------------------ one case (child)

def time_step(step, cleanup, repeats, warmup, cuda):
    """Time ``step`` and measure its peak memory (module docstring).

    Returns:
        dict: ``times`` (s), ``median_s`` and ``peak_bytes`` (None unless
        every timed call was measured).
    """
    import torch

    def sync():
        if cuda:
            torch.cuda.synchronize()

    for _ in range(warmup):
        result = step()
        sync()
        del result
        cleanup()
    times, peaks = [], []
    for _ in range(repeats):
        sync()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        else:
            rss_ok = reset_peak_rss()
            before = proc_status_kib('VmRSS') * 1024
        start = time.perf_counter()
        result = step()
        sync()
        times.append(time.perf_counter() - start)
        if cuda:
            peaks.append(torch.cuda.max_memory_allocated() - before)
        elif rss_ok:
            peaks.append(proc_status_kib('VmHWM') * 1024 - before)
        del result
        cleanup()
    peak = max(peaks) if len(peaks) == repeats else None
    return dict(times=times, median_s=statistics.median(times),
                peak_bytes=peak)


def run_case(case, build, repeats, warmup, threads):
    """Build ``case`` with ``build(case, device)`` and measure it (seed 0,
    ``threads`` torch threads when given); :class:`SkipCase` without CUDA
    for a CUDA case."""
    import torch
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    device = torch.device(case['device'])
    cuda = device.type == 'cuda'
    if cuda and not torch.cuda.is_available():
        raise SkipCase('CUDA is not available')
    step, cleanup, extra = build(case, device)
    if step is None:
        return dict(extra)
    return dict(time_step(step, cleanup, repeats, warmup, cuda), **extra)


# ------------------------------------------------------------ parent side

def child_command(case, device, repeats, warmup, threads=None):
    """The command line that measures ``case`` in a child process."""
    cmd = [sys.executable, '-m', CHILD_MODULE, json.dumps(case),
           '--device', device, '--repeats', str(repeats),
           '--warmup', str(warmup)]
    if threads:
        cmd += ['--threads', str(threads)]
    return cmd


def result_of(returncode, stdout, stderr):
    """The child's result: its last ``RESULT`` line, else an ``error``
    naming the exit status and the last three lines of its output."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    tail = (stderr or stdout).strip().splitlines()[-3:]
    return dict(error=f'exit {returncode}: ' + ' / '.join(tail))


def run_in_subprocess(case, device, repeats, warmup, threads=None,
                      timeout=1800):
    """Measure ``case`` in a fresh process (``OMP_NUM_THREADS=threads``
    when given), abandoned after ``timeout`` seconds."""
    env = dict(os.environ)
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    try:
        proc = subprocess.run(
            child_command(case, device, repeats, warmup, threads),
            capture_output=True, text=True, env=env, timeout=timeout,
            cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        return dict(error=f'timed out after {timeout:g} s')
    return result_of(proc.returncode, proc.stdout, proc.stderr)


def case_label(case):
    """``group | impl`` (progress lines and failure lists), ``| pass_``
    added when the group does not name the pass."""
    label = f"{case['group']} | {case['impl']}"
    if case.get('pass_') and case['pass_'] not in case['group']:
        label += f" | {case['pass_']}"
    return label


def result_summary(result):
    """One progress phrase: time and peak, or why there are none."""
    from .report import format_bytes, format_count, format_time
    if 'median_s' in result:
        return (f"{format_time(result['median_s'])}, peak "
                f"{format_bytes(result['peak_bytes'])}")
    if 'skipped' in result:
        return 'skipped: ' + result['skipped']
    if 'error' in result:
        return 'FAILED: ' + result['error']
    if 'summary' in result:
        return result['summary']
    return (f"params {format_count(result.get('params'))}, FLOPs "
            f"{format_count(result.get('flops'))}")


def run_cases(cases, device, repeats, warmup, threads=None, timeout=1800,
              log=print):
    """Run every case in its own process (a case with ``skip`` not at all:
    ``{'skipped': case['skip']}``), logging one progress line each; the
    results in the order of ``cases``."""
    results = []
    for i, case in enumerate(cases, 1):
        t0 = time.perf_counter()
        if case.get('skip'):
            result = dict(skipped=case['skip'])
        else:
            result = run_in_subprocess(case, device, repeats, warmup,
                                       threads, timeout)
        results.append(result)
        log(f'[{i}/{len(cases)}] {case_label(case)}: '
            f'{result_summary(result)} '
            f'({time.perf_counter() - t0:.0f} s wall)')
    return results


def machine_info(device, threads):
    """CPU, core counts, versions, torch threads per case and the GPU name
    (on CUDA when available)."""
    import torch
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    info = dict(cpu=cpu_name(), cores=cores, usable_cores=usable,
                torch=torch.__version__, python=platform.python_version(),
                threads=threads, gpu=None)
    if device == 'cuda' and torch.cuda.is_available():
        info['gpu'] = torch.cuda.get_device_name()
    return info
