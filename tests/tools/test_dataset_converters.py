"""tools/dataset_converters/*.py as command lines, run in subprocesses:
each is a thin wrapper of ``sgdc_mmseg.cli.convert_<name>`` (the
conversions, ``main()``'s exit status and messages are tested in-process
under tests/datasets/converters)."""
import importlib
import json
import os
import os.path as osp
import sys

import pytest
from helpers import REPO_ROOT, run_tool, tool_env

from sgdc_mmseg.cli import convert_isic2016
from sgdc_mmseg.datasets.converters import CONVERTERS

sys.path.insert(0, osp.join(REPO_ROOT, 'tests', 'datasets'))
from converters.archives import make_isic2016, snapshot  # noqa: E402

TOOLS = osp.join(REPO_ROOT, 'tools', 'dataset_converters')


@pytest.mark.parametrize('name', sorted(CONVERTERS))
def test_tool_prints_the_help_of_its_cli_module(name, monkeypatch):
    """The tool is the command line of ``sgdc_mmseg.cli.convert_<name>``:
    its ``--help`` is that module's parser's, word for word (the usage
    names the tool, the epilog the SOURCE layout and split protocol)."""
    cli = importlib.import_module(f'sgdc_mmseg.cli.convert_{name}')
    monkeypatch.setenv('COLUMNS', '100')  # argparse wraps to this width
    proc = run_tool([osp.join(TOOLS, f'{name}.py'), '--help'])
    assert proc.returncode == 0, proc.stdout[-3000:]
    expected = cli.build_parser().format_help()
    assert proc.stdout == expected
    assert f'usage: python tools/dataset_converters/{name}.py' in expected
    assert 'Split protocol' in expected


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



def _start_tool(args, log_path):
    import subprocess
    env = tool_env()
    log = open(log_path, 'wb')
    try:
        return subprocess.Popen([sys.executable] + list(args), cwd=REPO_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def _wait_for(proc, ready, log_path, what, limit=240.0):
    """Poll (a guard against hanging, not a timing assertion) until
    ``ready()``; the converter must still be running then."""
    import time
    deadline = time.monotonic() + limit
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            with open(log_path, 'rb') as f:
                log = f.read().decode(errors='replace')[-3000:]
            raise AssertionError(f'converter never reached {what} '
                                 f'(exit {proc.returncode}):\n{log}')
        time.sleep(0.05)
    assert proc.poll() is None


def _kill(proc):
    import signal
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL


def _block_on_fifo(path):
    """Replace a SOURCE file by a named pipe: the converter blocks when it
    opens it, at a known sample."""
    with open(path, 'rb') as f:
        data = f.read()
    os.remove(path)
    os.mkfifo(path)
    return data


def _unblock(path, data):
    os.remove(path)
    with open(path, 'wb') as f:
        f.write(data)


def test_sigkilled_converter_resumes_to_identical_outputs(tmp_path, capsys):
    """SIGKILL isic2016.py mid-run (blocked, deterministically, on the last
    sample's mask), then re-run: every output is byte-identical to an
    uninterrupted run's, and no file under a final name is truncated. Then
    the same after a complete run: the records survive the kill."""
    import cv2
    from converters.archives import ISIC2016, read_tree

    source, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    written = make_isic2016(source, 'dir')
    last_mask = osp.join(source, ISIC2016['test'][1],
                         'ISIC_0000101_Segmentation.png')
    data = _block_on_fifo(last_mask)
    log = str(tmp_path / 'run1.log')
    proc = _start_tool([osp.join(TOOLS, 'isic2016.py'), source, '-o', out],
                       log)
    try:
        _wait_for(proc, lambda: osp.exists(
            osp.join(out, 'masks', 'ISIC_0000100.png')), log,
            'the 4th sample')
    finally:
        if proc.poll() is None:
            _kill(proc)
    # killed: incomplete, recognisably, and nothing truncated
    assert not osp.exists(osp.join(out, 'conversion.json'))
    assert osp.exists(osp.join(out, '.conversion_pending.json'))
    done = ['ISIC_0000000', 'ISIC_0000001', 'ISIC_0000002', 'ISIC_0000100']
    assert sorted(os.listdir(osp.join(out, 'images'))) == \
        [n + '.jpg' for n in done]
    assert sorted(os.listdir(osp.join(out, 'masks'))) == \
        [n + '.png' for n in done]
    jpegs = {n: j for split in written.values() for n, (j, _) in
             split.items()}
    for n in done:
        with open(osp.join(out, 'images', n + '.jpg'), 'rb') as f:
            assert f.read() == jpegs[n]
        assert cv2.imread(osp.join(out, 'masks', n + '.png'),
                          cv2.IMREAD_UNCHANGED) is not None

    _unblock(last_mask, data)
    assert convert_isic2016.main([source, '-o', out]) == 0
    ref = str(tmp_path / 'reference')
    assert convert_isic2016.main([source, '-o', ref]) == 0  # uninterrupted
    assert read_tree(out) == read_tree(ref)
    assert sorted(os.listdir(out)) == ['conversion.json', 'images', 'masks',
                                       'splits']

    # killed during a re-run after a corrected mask: the records of the
    # complete run are kept, so only that sample is converted again
    mask = osp.join(source, ISIC2016['train'][1],
                    'ISIC_0000001_Segmentation.png')
    _block_on_fifo(mask)
    log = str(tmp_path / 'run2.log')
    proc = _start_tool([osp.join(TOOLS, 'isic2016.py'), source, '-o', out],
                       log)
    try:
        _wait_for(proc, lambda: not osp.exists(
            osp.join(out, 'conversion.json')), log, 'the conversion')
    finally:
        if proc.poll() is None:
            _kill(proc)
    import numpy as np
    from converters.archives import encode, SIZE
    fixed = np.zeros(SIZE[::-1], np.uint8)
    fixed[3:9, 4:20] = 255
    _unblock(mask, encode('.png', fixed))
    capsys.readouterr()
    assert convert_isic2016.main([source, '-o', out]) == 0
    assert '(1 written, 4 already there' in capsys.readouterr().out
    ref2 = str(tmp_path / 'reference2')
    assert convert_isic2016.main([source, '-o', ref2]) == 0
    assert read_tree(out) == read_tree(ref2)
    assert (cv2.imread(osp.join(out, 'masks', 'ISIC_0000001.png'),
                       cv2.IMREAD_UNCHANGED) == (fixed // 255)).all()
