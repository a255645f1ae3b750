"""What the benchmark reports share: number formats, the machine's CPU name,
Markdown tables and writing one section of ``docs/benchmarks.md`` between
its own markers (every other line of the file is kept)."""
import os
import os.path as osp
import platform


def cpu_name():
    """The CPU model from /proc/cpuinfo (or what ``platform`` knows)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'unknown CPU'


def write_section(path, text, begin, end):
    """Replace the text between ``begin`` and ``end`` in ``path`` (append the
    section when the markers are absent; create the file if needed)."""
    block = f'{begin}\n{text}\n{end}'
    old = open(path).read() if osp.exists(path) else '# Benchmarks\n'
    if begin in old and end in old:
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip('\n') + '\n\n' + block + '\n'
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(new)


def format_time(seconds):
    """``12.3 ms`` below a second, ``1.23 s`` from there."""
    return f'{seconds * 1e3:.1f} ms' if seconds < 1 else f'{seconds:.2f} s'


def format_bytes(n):
    """``12.3 MiB`` / ``1.23 GiB``; ``n/a`` for None (not measured)."""
    if n is None:
        return 'n/a'
    if abs(n) >= 1 << 30:
        return f'{n / (1 << 30):.2f} GiB'
    return f'{n / (1 << 20):.1f} MiB'


def format_ratio(num, den):
    """``num / den`` as ``0.42x`` / ``2.4x``; ``n/a`` when either is missing
    or not positive."""
    if num is None or den is None or den <= 0 or num <= 0:
        return 'n/a'
    ratio = num / den
    return f'{ratio:.2f}x' if ratio < 1 else f'{ratio:.1f}x'


def format_count(n):
    """A parameter or FLOP count with three decimals and a decimal prefix
    (``28.451 M``, ``20.023 G``); ``n/a`` for None."""
    if n is None:
        return 'n/a'
    for scale, prefix in ((1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'K')):
        if abs(n) >= scale:
            return f'{n / scale:.3f} {prefix}'
    return str(n)


def markdown_table(header, rows):
    """A Markdown table: ``header`` cells, then one line per row of cells."""
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def run_lines(options, info, elapsed, date, gpu):
    """The ``- command / date / machine / software`` lines that open every
    section the benchmarks write."""
    threads = info['threads'] or "torch's default"
    return [
        f'- command: `{options.command}`',
        f'- date: {date}; whole run {elapsed / 60:.1f} min',
        f"- machine: {info['cpu']}, {info['cores']} cores "
        f"({info['usable_cores']} usable), torch threads per case: "
        f'{threads}; GPU: {gpu}',
        f"- software: Python {info['python']}, torch {info['torch']}",
    ]
