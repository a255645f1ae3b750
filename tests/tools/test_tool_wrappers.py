"""tools/test.py, train.py, infer.py, analysis/worst_cases.py,
analysis/plot_curves.py, analysis/check_paper_parity.py,
analysis/choose_postprocessing.py, analysis/score_probs.py and
benchmark/*.py are thin: docstring, the repo root on sys.path, the command
line of sgdc_mmseg.cli, its exit status."""
import ast
import importlib
import os.path as osp

import pytest

from helpers import REPO_ROOT, run_tool

TOOLS = {'test': 'tools/test.py', 'train': 'tools/train.py',
         'infer': 'tools/infer.py',
         'worst_cases': 'tools/analysis/worst_cases.py',
         'plot_curves': 'tools/analysis/plot_curves.py',
         'get_flops': 'tools/analysis/get_flops.py',
         'check_paper_parity': 'tools/analysis/check_paper_parity.py',
         'choose_postprocessing': 'tools/analysis/choose_postprocessing.py',
         'score_probs': 'tools/analysis/score_probs.py',
         'benchmark_sgdc': 'tools/benchmark/benchmark_sgdc.py',
         'benchmark_medical_metric': 'tools/benchmark/medical_metric.py'}


def _statements(path):
    with open(osp.join(REPO_ROOT, path), encoding='utf-8') as f:
        tree = ast.parse(f.read())
    return [ast.unparse(node) for node in tree.body[1:]], \
        ast.get_docstring(tree)


@pytest.mark.parametrize('name', sorted(TOOLS))
def test_tool_is_a_thin_wrapper(name):
    statements, doc = _statements(TOOLS[name])
    assert 'Usage' in doc
    assert statements[-2:] == [
        f'from sgdc_mmseg.cli.{name} import main',
        "if __name__ == '__main__':\n    sys.exit(main())"]
    assert statements[:2] == ['import os.path as osp', 'import sys']
    assert statements[2].startswith('_REPO_ROOT = osp.dirname(')
    assert len(statements) == 6


@pytest.mark.parametrize('name', sorted(TOOLS))
def test_tool_help_is_the_cli_parser(name):
    proc = run_tool([osp.join(REPO_ROOT, TOOLS[name]), '--help'])
    assert proc.returncode == 0, proc.stdout[-3000:]
    parser = importlib.import_module(f'sgdc_mmseg.cli.{name}').build_parser()
    parser.prog = osp.basename(TOOLS[name])
    assert proc.stdout == parser.format_help()
