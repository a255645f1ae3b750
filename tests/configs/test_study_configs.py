"""The study families of configs/sgdc are siblings: in each family every
variant differs from the family's SGDC config only in its model's heads
(and, for fcn_unet, its backbone) -- data, schedule, optimizer, hooks,
randomness and runtime are identical -- so that a difference in results
comes from the model alone. Families: the paper protocol on ResNet-50-V1c
(ISIC 2016, ISIC 2018, CoNIC; 20k SGD iterations at 256x256) and the 2-CPU
protocol (ISIC 2017 at 128x96). The ISIC 2016 models also have PH2 test
twins that change only the test set.

The ResNet-50 configs start from ImageNet (``model.backbone.init_cfg``,
``open-mmlab://resnet50_v1c``, as mmseg's configs); each one a study
trains has a ``-scratch`` twin, the same config with that init_cfg set to
None, which the study files (configs/studies/) use: the finished runs'
fingerprints (the dumped run config) are those of the scratch twins."""
import functools
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.structures import PixelData

import sgdc_mmseg  # noqa: F401  (the compat layer before mmseg)
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from sgdc_mmseg.models.decode_heads import SGDCHead, SGEHead

from helpers import REPO_ROOT

register_all_modules()
SGDC_DIR = osp.join(REPO_ROOT, 'configs', 'sgdc')
# family: config-name suffix -> (backbone tag, name of the FCN-UNet
# baseline, number of classes of the dataset)
FAMILIES = {
    '1xb8-20k_isic2016-256x256': ('r50', 'fcn_unet-s5-d16', 2),
    '1xb8-20k_isic2018-256x256': ('r50', 'fcn_unet-s5-d16', 2),
    '1xb8-20k_conic-256x256': ('r50', 'fcn_unet-s5-d16', 7),
    '1xb8-600_isic2017-128x96': ('r18-half', 'fcn_unet-s5-d16-w16', 2),
}
# SGDCHead variants: name -> (kernel_source, whether the SGE is kept)
SGDC_VARIANTS = {
    'sgdc-pool': ('pool', True),
    'sgdc-pool-nosge': ('pool', False),
    'sgdc-self': ('self', True),
    'sgdc-self-nosge': ('self', False),
}
PH2_FAMILY = '1xb8-20k_isic2016-256x256'
IMAGENET_INIT = dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')
PH2_TEST = dict(type='PH2Dataset', data_root='data/ph2',
                ann_file='splits/all.txt')


def _names(suffix):
    """The config names of a family: its SGDC config and a dict of its
    variants, kind (a key of SGDC_VARIANTS, 'upernet' or 'fcn_unet') ->
    name."""
    backbone, fcn_unet, _ = FAMILIES[suffix]
    variants = {v: f'{v}_{backbone}_{suffix}' for v in SGDC_VARIANTS}
    variants.update(upernet=f'upernet_{backbone}_{suffix}',
                    fcn_unet=f'{fcn_unet}_{suffix}')
    return f'sgdc_{backbone}_{suffix}', variants


@functools.lru_cache(maxsize=None)
def _load(name):
    """The dumped config of configs/sgdc/<name>.py (shared: read only)."""
    return Config.fromfile(osp.join(SGDC_DIR, f'{name}.py')).to_dict()


def dict_diff(a, b, path=''):
    """Paths (dotted, list items as ``[i]``) where ``a`` and ``b`` differ:
    a key only one side has, items of lists of different lengths, or a
    different value (or type) at a leaf."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f'{path}.{key}' if path else str(key)
            if key in a and key in b:
                found += dict_diff(a[key], b[key], sub)
            else:
                found.append(sub)
        return found
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and \
            type(a) is type(b) and len(a) == len(b):
        found = []
        for i, (x, y) in enumerate(zip(a, b)):
            found += dict_diff(x, y, f'{path}[{i}]')
        return found
    return [] if type(a) is type(b) and a == b else [path]


def _drop_default_scope(node, scope):
    """``node`` without the ``_scope_`` keys equal to ``scope``: mmengine
    tags the dicts of an ``mmseg::`` base with ``_scope_='mmseg'``, which is
    every config's default scope (building in it changes nothing)."""
    if isinstance(node, dict):
        return {k: _drop_default_scope(v, scope) for k, v in node.items()
                if not (k == '_scope_' and v == scope)}
    if isinstance(node, (list, tuple)):
        return type(node)(_drop_default_scope(v, scope) for v in node)
    return node


def _sibling_diff(a, b):
    assert a['default_scope'] == b['default_scope'] == 'mmseg'
    return dict_diff(_drop_default_scope(a, 'mmseg'),
                     _drop_default_scope(b, 'mmseg'))


def _downloads(node, path='cfg'):
    """Every place of a dumped config that would fetch weights."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f'{path}.{key}'
            if key in ('pretrained', 'load_from') and value is not None:
                found.append(sub)
            elif key == 'checkpoint' and isinstance(value, str):
                found.append(sub)
            elif key == 'init_cfg' and isinstance(value, dict) and \
                    value.get('type') == 'Pretrained':
                found.append(sub)
            found += _downloads(value, sub)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _downloads(value, f'{path}[{i}]')
    return found


def _expected_downloads(cfg):
    """The one download of a ResNet-50 config: its ImageNet start."""
    backbone = cfg['model']['backbone']
    if backbone['type'] == 'ResNetV1c' and backbone['depth'] == 50:
        assert backbone['init_cfg'] == IMAGENET_INIT
        return ['cfg.model.backbone.init_cfg',
                'cfg.model.backbone.init_cfg.checkpoint']
    return []


def _num_classes(cfg):
    """The class count of the family's dataset (its METAINFO); every loader
    uses the same dataset type."""
    types = {cfg[f'{loader}_dataloader']['dataset']['type']
             for loader in ('train', 'val', 'test')}
    assert len(types) == 1, types
    return len(DATASETS.get(types.pop()).METAINFO['classes'])


def test_dict_diff():
    a = dict(x=1, y=dict(z=[1, dict(w=2)], v=(1, 2)), u=None)
    assert dict_diff(a, a) == []
    b = dict(x=1.0, y=dict(z=[1, dict(w=3)], v=(1, 2, 3)), t=0)
    assert dict_diff(a, b) == ['t', 'u', 'x', 'y.v', 'y.z[1].w']
    assert dict_diff(dict(s=dict(k=1)), dict(s=None)) == ['s']
    assert _drop_default_scope(dict(_scope_='mmseg', m=[dict(
        _scope_='mmseg', k=1), dict(_scope_='x')]), 'mmseg') == dict(
            m=[dict(k=1), dict(_scope_='x')])


def test_every_family_config_exists():
    for suffix in FAMILIES:
        sgdc, variants = _names(suffix)
        for name in (sgdc, *variants.values()):
            assert osp.isfile(osp.join(SGDC_DIR, f'{name}.py')), name
    # and no config of a family is left out of the checks below
    for suffix, (backbone, _, _) in FAMILIES.items():
        found = {osp.basename(p)[:-3] for p in glob.glob(
            osp.join(SGDC_DIR, f'*_{backbone}_{suffix}.py'))}
        sgdc, variants = _names(suffix)
        assert found <= {sgdc, *variants.values()}, found


@pytest.mark.parametrize('suffix', sorted(FAMILIES))
def test_family_sgdc_config(suffix):
    sgdc, _ = _names(suffix)
    cfg = _load(sgdc)
    assert _downloads(cfg) == _expected_downloads(cfg)
    head = cfg['model']['decode_head']
    assert head['type'] == 'SGDCHead'
    assert head['kernel_source'] == 'structure' and head['sge'] is not None
    assert head['num_classes'] == _num_classes(cfg) == FAMILIES[suffix][2]
    assert 'auxiliary_head' not in cfg['model']
    if FAMILIES[suffix][0] == 'r50':
        assert cfg['model']['backbone']['depth'] == 50
        assert cfg['train_cfg']['max_iters'] == 20000
        assert cfg['optim_wrapper']['optimizer']['type'] == 'SGD'
        checkpoint = cfg['default_hooks']['checkpoint']
        assert checkpoint['save_best'] == 'medical/mIoU'
        assert checkpoint['rule'] == 'greater' and checkpoint['save_last']
        assert checkpoint['interval'] == 2000
        assert cfg['model']['data_preprocessor']['size'] == (256, 256)


@pytest.mark.parametrize('suffix,kind', [
    (suffix, kind) for suffix in sorted(FAMILIES)
    for kind in _names(suffix)[1]
])
def test_variant_differs_from_sgdc_only_in_the_model(suffix, kind):
    sgdc, variants = _names(suffix)
    base, cfg = _load(sgdc), _load(variants[kind])
    assert _downloads(cfg) == _expected_downloads(cfg)
    diff = _sibling_diff(base, cfg)
    model = cfg['model']
    classes = FAMILIES[suffix][2]
    assert _num_classes(cfg) == classes
    if kind in SGDC_VARIANTS:
        kernel_source, with_sge = SGDC_VARIANTS[kind]
        expected = {'model.decode_head.kernel_source'}
        if not with_sge:
            expected.add('model.decode_head.sge')
        assert set(diff) == expected
        head = model['decode_head']
        assert head['type'] == 'SGDCHead'
        assert head['kernel_source'] == kernel_source
        assert (head['sge'] is not None) == with_sge
        assert 'auxiliary_head' not in model
        heads = [head]
    else:
        allowed = ('model.decode_head', 'model.auxiliary_head')
        if kind == 'fcn_unet':
            allowed += ('model.backbone', )
            assert model['backbone']['type'] == 'UNet'
            assert model['decode_head']['type'] == 'FCNHead'
            assert model['test_cfg'] == dict(mode='whole')
        else:
            assert kind == 'upernet'
            assert model['decode_head']['type'] == 'UPerHead'
        assert model['auxiliary_head']['type'] == 'FCNHead'
        outside = [p for p in diff
                   if not any(p == a or p.startswith(a + '.')
                              for a in allowed)]
        assert outside == [], outside
        heads = [model['decode_head'], model['auxiliary_head']]
    for head in heads:
        assert head['num_classes'] == classes, head['type']


def _ph2_twins():
    return sorted(glob.glob(osp.join(SGDC_DIR, '*_test-ph2.py')))


def test_every_isic2016_model_has_a_ph2_twin():
    twins = {osp.basename(p)[:-len('_test-ph2.py')] for p in _ph2_twins()}
    sgdc, variants = _names(PH2_FAMILY)
    assert twins == {sgdc, *variants.values()}


@pytest.mark.parametrize('path', _ph2_twins(), ids=osp.basename)
def test_ph2_twin_changes_only_the_test_set(path):
    name = osp.basename(path)[:-3]
    parent = _load(name[:-len('_test-ph2')])
    cfg = _load(name)
    assert _downloads(cfg) == _expected_downloads(cfg)
    assert set(_sibling_diff(parent, cfg)) == {
        f'test_dataloader.dataset.{key}' for key in PH2_TEST}
    dataset = cfg['test_dataloader']['dataset']
    assert {key: dataset[key] for key in PH2_TEST} == PH2_TEST


def test_conic_sgdc_trains_on_seven_classes():
    """One loss evaluation of the CoNIC SGDC model on a 7-class ground
    truth: the decode loss and the SGE's boundary losses (boundaries from
    class changes, between nucleus types too) are finite and reach every
    trained parameter."""
    cfg = Config.fromfile(
        osp.join(SGDC_DIR, 'sgdc_r50_1xb8-20k_conic-256x256.py'))
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).train()
    assert isinstance(model.decode_head, SGDCHead)
    assert isinstance(model.decode_head.sge, SGEHead)
    gt = torch.zeros(2, 1, 64, 64, dtype=torch.long)
    gt[:, :, 8:30, 8:30] = 1
    gt[:, :, 8:30, 30:50] = 4  # touches class 1: a nucleus/nucleus edge
    gt[1, :, 40:60, 10:60] = 6
    samples = []
    for i in range(2):
        sample = SegDataSample(metainfo=dict(
            img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64)))
        sample.gt_sem_seg = PixelData(data=gt[i])
        samples.append(sample)
    edges = model.decode_head.sge.boundary_targets(samples)
    assert edges[0, 20, 29] == edges[0, 20, 30] == 1  # class 1 | class 4
    assert edges[0, 20, 20] == 0 and edges[0, 50, 50] == 0
    losses = model.loss(torch.randn(2, 3, 64, 64), samples)
    assert {'decode.loss_ce', 'decode.loss_boundary_bce',
            'decode.loss_boundary_dice'} <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith('decode.loss'))
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is not None for p in model.decode_head.parameters()
               if p.requires_grad)


def _scratch_twins():
    return sorted(glob.glob(osp.join(SGDC_DIR, '*-scratch_*.py')))


def test_every_r50_study_model_has_a_scratch_twin():
    """The ResNet-50 models of the families and of the GPU protocol (ISIC
    2017, 1500 iterations) have -scratch twins, named by the model tag."""
    twins = {osp.basename(p)[:-3] for p in _scratch_twins()}
    expected = set()
    for suffix, (backbone, _, _) in FAMILIES.items():
        if backbone == 'r50':
            sgdc, variants = _names(suffix)
            expected |= {n.replace('_r50_', '_r50-scratch_')
                         for n in (sgdc, *variants.values()) if '_r50_' in n}
    expected |= {f'{m}_r50-scratch_1xb8-1500_isic2017-256x192'
                 for m in ('sgdc', 'sgdc-pool', 'sgdc-self', 'upernet')}
    assert twins == expected


@pytest.mark.parametrize('path', _scratch_twins(), ids=osp.basename)
def test_scratch_twin_is_its_parent_without_the_imagenet_start(path):
    """The parent with model.backbone.init_cfg=None: nothing else differs,
    nothing is downloaded, and the file inherits the parent instead of
    copying it."""
    name = osp.basename(path)[:-3]
    parent_name = name.replace('_r50-scratch_', '_r50_')
    parent, scratch = _load(parent_name), _load(name)
    assert parent['model']['backbone']['init_cfg'] == IMAGENET_INIT
    assert scratch['model']['backbone']['init_cfg'] is None
    assert dict_diff(parent, scratch) == ['model.backbone.init_cfg']
    assert _downloads(scratch) == []
    with open(path) as f:
        assert f"_base_ = './{parent_name}.py'" in f.read()


@pytest.mark.parametrize('model', ['sgdc', 'sgdc-pool', 'sgdc-self',
                                   'upernet'])
def test_finished_gpu_runs_keep_their_fingerprint(model):
    """The GPU protocol's runs (docs/results.md, protocol B) ran the
    configs now named *_r50-scratch_*: a study fingerprint is the sha256 of
    the dumped run config, and the dump of the scratch twin is the parent's
    with init_cfg=None, key order included -- which is what those configs
    dumped before the ImageNet start was added."""
    from sgdc_mmseg.study.run_config import (inherited_config_text,
                                             run_fingerprint)
    suffix = '1xb8-1500_isic2017-256x192.py'
    scratch = osp.join(SGDC_DIR, f'{model}_r50-scratch_{suffix}')
    parent = osp.join(SGDC_DIR, f'{model}_r50_{suffix}')
    seed = dict(randomness=dict(seed=1))
    assert run_fingerprint(inherited_config_text(scratch, seed), {}) == \
        run_fingerprint(inherited_config_text(parent, seed),
                        {'model.backbone.init_cfg': None})
    assert run_fingerprint(inherited_config_text(scratch, seed), {}) != \
        run_fingerprint(inherited_config_text(parent, seed), {})


def test_study_files_train_from_scratch():
    """The study files that ran (or would run) from scratch use the
    -scratch configs (or UNet/ResNet-18 ones, which have no ImageNet
    start): no study run downloads anything."""
    from sgdc_mmseg.study.schema import load_study
    studies = glob.glob(osp.join(REPO_ROOT, 'configs', 'studies', '*.py'))
    assert len(studies) >= 5
    for study_file in studies:
        study = load_study([study_file])
        for variant, config in study['variants'].items():
            name = osp.basename(config)
            assert '_r50_' not in name, (study_file, variant, name)
            if '_r50-' in name:
                assert '_r50-scratch_' in name, (study_file, name)
