"""The import graph of ``sgdc_mmseg`` (issue 12): no cycle, module-level or
lazy (an import inside a function counts too), and the package never imports
``tools/``. Read from the source with ``ast``: nothing is imported."""
import ast
import os
import os.path as osp

from helpers import REPO_ROOT

PACKAGE = 'sgdc_mmseg'
ROOT = osp.join(REPO_ROOT, PACKAGE)


def _modules():
    """``{dotted name: file}``; a package is named by its ``__init__``."""
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if not name.endswith('.py'):
                continue
            rel = osp.relpath(osp.join(folder, name), REPO_ROOT)[:-3]
            parts = rel.split(os.sep)
            if parts[-1] == '__init__':
                parts = parts[:-1]
            found['.'.join(parts)] = osp.join(folder, name)
    return found


def _resolve(base, level, module, is_package):
    if level == 0:
        return module
    parts = base.split('.')
    keep = len(parts) - level + (1 if is_package else 0)
    prefix = parts[:keep]
    return '.'.join(prefix + ([module] if module else []))


def import_graph():
    """``{module: set of sgdc_mmseg modules it imports}`` plus the names of
    everything else imported (to look for ``tools``)."""
    modules = _modules()
    graph, others = {}, {}
    for name, path in modules.items():
        is_package = path.endswith('__init__.py')
        tree = ast.parse(open(path, encoding='utf-8').read(), path)
        edges, foreign = set(), set()
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(name, node.level, node.module, is_package)
                targets = [target]
                # ``from . import x`` / ``from .pkg import mod``: x may be a
                # module of its own
                targets += [f'{target}.{alias.name}' for alias in node.names
                            if f'{target}.{alias.name}' in modules]
            for target in targets:
                if target == PACKAGE or target.startswith(PACKAGE + '.'):
                    # the longest existing module of the dotted name
                    while target not in modules and '.' in target:
                        target = target.rsplit('.', 1)[0]
                    if target != name:
                        edges.add(target)
                else:
                    foreign.add(target)
        graph[name], others[name] = edges, foreign
    return graph, others


def _cycles(graph):
    """Strongly connected components with more than one module."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_reader_sees_cycles_and_lazy_imports():
    graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}
    assert _cycles(graph) == [['a', 'b', 'c']]
    real, _ = import_graph()
    # a lazy import inside a function is an edge
    assert 'sgdc_mmseg.compat.checkpoint' in real['sgdc_mmseg.compat']
    assert 'sgdc_mmseg.compat' in real['sgdc_mmseg']


def test_no_import_cycle():
    graph, _ = import_graph()
    assert _cycles(graph) == []


def test_package_never_imports_tools():
    _, others = import_graph()
    offenders = {m: sorted(t for t in targets
                           if t == 'tools' or t.startswith('tools.'))
                 for m, targets in others.items()}
    assert {m: t for m, t in offenders.items() if t} == {}


#: Which sub-packages each sub-package may import (docs/architecture.md).
ALLOWED = {
    'utils': set(),
    'version': set(),
    'ops': set(),
    'compat': {'utils', 'ops'},
    'models': {'ops', 'utils'},
    'datasets': {'utils', 'version'},
    'evaluation': {'utils', 'version'},
}


def _subpackage(module):
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else PACKAGE


def test_layers_import_only_what_they_may():
    graph, _ = import_graph()
    broken = {}
    for module, targets in graph.items():
        allowed = ALLOWED.get(_subpackage(module))
        if allowed is None:
            continue
        bad = sorted(t for t in targets
                     if _subpackage(t) != _subpackage(module)
                     and _subpackage(t) not in allowed)
        if bad:
            broken[module] = bad
    assert broken == {}
