"""What the benchmark scripts share: the machine's name and writing one
Markdown section of ``docs/benchmarks.md`` between its own markers."""
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
