"""tools/dataset_converters/*.py as command lines (one run in a subprocess;
the conversions, ``main()``'s exit status and messages are tested in-process
under tests/datasets/converters)."""
import importlib.util
import json
import os
import os.path as osp
import sys

from helpers import REPO_ROOT, run_tool, tool_env

from sgdc_mmseg.datasets.converters import CONVERTERS

sys.path.insert(0, osp.join(REPO_ROOT, 'tests', 'datasets'))
from converters.archives import make_isic2016, snapshot  # noqa: E402

TOOLS = osp.join(REPO_ROOT, 'tools', 'dataset_converters')


def test_tools_are_thin_wrappers_of_the_library():
    for name, module in CONVERTERS.items():
        spec = importlib.util.spec_from_file_location(
            f'_sgdc_converter_tool_{name}', osp.join(TOOLS, f'{name}.py'))
        tool = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tool)  # does not run: guarded by __main__
        assert tool.main is module.main


def test_isic2016_cli_converts_a_zip_source(tmp_path):
    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    make_isic2016(source, 'zip')
    before = snapshot(source)
    env = tool_env()
    env.pop('PYTHONPATH')  # the tool puts the repo root on sys.path itself
    proc = run_tool([osp.join(TOOLS, 'isic2016.py'), source, '-o', out,
                     '--nproc', '2'], cwd=str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'isic2016: 5 sample(s)' in proc.stdout
    assert '5/5' in proc.stdout  # the progress bar
    with open(osp.join(out, 'conversion.json')) as f:
        assert json.load(f)['counts'] == {'train': 3, 'test': 2}
    assert len(os.listdir(osp.join(out, 'images'))) == 5
    assert snapshot(source) == before

