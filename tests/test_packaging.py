"""The wheel ships configs, tools and model-index.yml in
``sgdc_mmseg/.mim`` (setup.py), and ``sgdc_mmseg::`` configs load from a
non-editable install of it (sgdc_mmseg.compat.config_scope).

The wheel is built offline (``pip wheel --no-deps --no-build-isolation``)
from a clean copy of the tree (the files git tracks or would track: no
build/, egg-info or work_dirs), installed with ``pip install --target`` into
a temporary folder, and used by a subprocess with that folder first on
``PYTHONPATH`` and the repository nowhere on its path.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from helpers import REPO_ROOT

SHIPPED = (
    'sgdc_mmseg/.mim/model-index.yml',
    'sgdc_mmseg/.mim/configs/sgdc/metafile.yaml',
    'sgdc_mmseg/.mim/configs/_base_/models/sgdc_r50.py',
    'sgdc_mmseg/.mim/configs/_base_/sgdc_runtime.py',
    'sgdc_mmseg/.mim/configs/sgdc/sgdc_r50_1xb8-20k_isic2016-256x256.py',
    'sgdc_mmseg/.mim/configs/sgdc/'
    'sgdc_r50-scratch_1xb8-20k_isic2016-256x256.py',
    'sgdc_mmseg/.mim/configs/studies/isic2017_cpu.py',
    'sgdc_mmseg/.mim/tools/train.py',
    'sgdc_mmseg/.mim/tools/test.py',
    'sgdc_mmseg/compat/config_scope.py',
    # the C++ source the 'cpp' aggregation backend compiles on first use
    'sgdc_mmseg/ops/csrc/sgdc_aggregate_cpu.cpp',
)

LOAD = r'''
import json, sys
import sgdc_mmseg
from mmengine.config import Config
cfg = Config.fromfile(sys.argv[1])
print(json.dumps(dict(
    package=sgdc_mmseg.__file__, depth=cfg.model.backbone.depth,
    init=cfg.model.backbone.init_cfg, classes=cfg.model.decode_head.num_classes,
    iters=cfg.train_cfg.max_iters)))
'''


def _tree_files():
    """Tracked and untracked-but-not-ignored files of the working tree."""
    out = subprocess.run(
        ['git', 'ls-files', '--cached', '--others', '--exclude-standard',
         '-z'], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    return [p for p in out.decode().split('\0')
            if p and osp.isfile(osp.join(REPO_ROOT, p))]


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    if shutil.which('git') is None or not osp.isdir(
            osp.join(REPO_ROOT, '.git')):
        pytest.skip('needs the git work tree to make a clean copy')
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    for rel in _tree_files():
        if rel.split('/')[0] in ('tests', 'docs', 'data', 'work_dirs'):
            continue
        dst = src / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(osp.join(REPO_ROOT, rel), dst)
    dist = tmp / 'dist'
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '--no-index', '-q', '-w', str(dist),
         str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list(dist.glob('sgdc_mmseg-*.whl'))
    assert len(wheels) == 1, wheels
    assert not (src / 'sgdc_mmseg' / '.mim').exists()  # tree untouched
    return tmp, wheels[0]


def test_wheel_ships_configs_tools_and_model_index(wheel):
    _, path = wheel
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        index = zf.read('sgdc_mmseg/.mim/model-index.yml').decode()
    missing = [n for n in SHIPPED if n not in names]
    assert missing == []
    assert not [n for n in names if '__pycache__' in n or
                n.endswith('.pyc')]
    configs = {n for n in names
               if n.startswith('sgdc_mmseg/.mim/configs/sgdc/')}
    tree = {f'sgdc_mmseg/.mim/configs/sgdc/{n}'
            for n in os.listdir(osp.join(REPO_ROOT, 'configs', 'sgdc'))
            if n.endswith(('.py', '.yaml'))}
    assert configs == tree
    assert 'configs/sgdc/metafile.yaml' in index


def test_sgdc_mmseg_configs_load_from_the_installed_wheel(wheel):
    tmp, path = wheel
    target = tmp / 'site'
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-index',
         '-q', '--target', str(target), str(path)],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    user = tmp / 'user'
    user.mkdir()
    (user / 'mine.py').write_text(
        "_base_ = ['sgdc_mmseg::sgdc/"
        "sgdc_r50-scratch_1xb8-20k_isic2016-256x256.py']\n"
        "model = dict(decode_head=dict(num_classes=3))\n"
        "train_cfg = dict(max_iters=9)\n")
    (user / 'base.py').write_text(
        "_base_ = ['sgdc_mmseg::_base_/models/sgdc_r50.py']\n"
        "train_cfg = dict(max_iters=1)\n")
    env = dict(os.environ, PYTHONPATH=str(target))
    results = []
    for name in ('mine.py', 'base.py'):
        proc = subprocess.run(
            [sys.executable, '-c', LOAD, name], cwd=str(user), env=env,
            capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    mine, base = results
    assert mine['package'].startswith(str(target))
    assert (mine['depth'], mine['init'], mine['classes'], mine['iters']) == \
        (50, None, 3, 9)
    assert base['init'] == dict(type='Pretrained',
                                checkpoint='open-mmlab://resnet50_v1c')
