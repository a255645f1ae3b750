"""Every shipped config builds, downloads nothing, and runs a forward pass;
the demo config trains and tests end to end on tiny synthetic data.

Pretrained configs name their ImageNet start in ``model.backbone.init_cfg``
(the checkpoints mmseg's configs name); building a model does not load it
(only ``init_weights`` does), and every download is refused here."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import sgdc_mmseg  # noqa: F401
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

from helpers import REPO_ROOT, run_tool

register_all_modules()
ALL_CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'sgdc', '*.py')))
# A -scratch config is its parent with the backbone's init_cfg set to None
# (tests/configs/test_study_configs.py); the same model is built once.
CONFIGS = [c for c in ALL_CONFIGS if '-scratch_' not in osp.basename(c)]
R50_IMAGENET = 'open-mmlab://resnet50_v1c'
MMSEG_PRETRAIN = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/'
# The ImageNet start of each pretrained backbone (mmseg's configs' names).
IMAGENET_STARTS = {
    'ResNetV1c': R50_IMAGENET,
    'MixVisionTransformer':
    MMSEG_PRETRAIN + 'segformer/mit_b0_20220624-7e0fe6dd.pth',
    'SwinTransformer': MMSEG_PRETRAIN +
    'swin/swin_tiny_patch4_window7_224_20220317-1cdeb081.pth',
}
DEMO = osp.join(REPO_ROOT, 'configs', 'sgdc',
                'sgdc_r18-tiny_1xb8-600_synthetic-lesion-128x128.py')


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    """Any download attempted in this module fails the test."""
    def refuse(url, *args, **kwargs):
        raise AssertionError(f'download attempted: {url}')
    monkeypatch.setattr(torch.hub, 'download_url_to_file', refuse)
    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url', refuse)


def expects_imagenet_start(name):
    """Configs that start from ImageNet, as mmseg's do: ResNet-50 (not the
    -scratch ones), MiT, Swin, and the SegFormer config of mmseg."""
    return ('_r50_' in name or '_mit-b0_' in name or '_swin-t_' in name
            or name.startswith('sgdc-head_segformer'))


def _no_download(node, path='cfg'):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ('pretrained', 'checkpoint') and v:
                raise AssertionError(f'{path}.{k} = {v!r}')
            if k == 'init_cfg' and isinstance(v, dict) and \
                    v.get('type') == 'Pretrained':
                raise AssertionError(f'{path}.init_cfg loads {v}')
            _no_download(v, f'{path}.{k}')
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            _no_download(v, f'{path}[{i}]')


def _expected_heads(name):
    """(decode head, auxiliary head or None) a config's name promises:
    sgdc* configs have an SGDCHead, upernet_* UPerNet's UPerHead with an
    FCN auxiliary head, fcn_* an FCNHead with an FCN auxiliary head."""
    if name.startswith('sgdc'):
        return 'SGDCHead', None
    if name.startswith('upernet_'):
        return 'UPerHead', 'FCNHead'
    if name.startswith('fcn_'):
        return 'FCNHead', 'FCNHead'
    raise AssertionError(f'{name}: no expected head for this model name')


def test_at_least_the_promised_configs():
    names = {osp.basename(c) for c in ALL_CONFIGS}
    for key in ('r50', 'mit-b0', 'swin-t', 'unet', 'segformer'):
        assert any(key in n for n in names), key
    assert osp.basename(DEMO) in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    assert 'sgdc_mmseg' in cfg.custom_imports['imports']
    assert [h['type'] for h in cfg.custom_hooks].count('RNGStateHook') == 1
    name = osp.basename(path)
    backbone = cfg.model.backbone
    if expects_imagenet_start(name):
        assert cfg.model.get('pretrained') is None
        assert backbone.init_cfg == dict(
            type='Pretrained', checkpoint=IMAGENET_STARTS[backbone.type])
        cfg.model.backbone.init_cfg = None  # the rest downloads nothing
    _no_download(cfg.model)
    model = MODELS.build(cfg.model).eval()
    heads = _expected_heads(osp.basename(path))
    assert type(model.decode_head).__name__ == heads[0]
    if heads[1] is None:
        assert not model.with_auxiliary_head
    else:
        assert type(model.auxiliary_head).__name__ == heads[1]
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, 64, 64))
        outs = [(model.decode_head(feats), cfg.model.decode_head)]
        if model.with_auxiliary_head:
            outs.append((model.auxiliary_head(feats),
                         cfg.model.auxiliary_head))
    for out, head_cfg in outs:
        assert out.shape[:2] == (1, head_cfg.num_classes)
        assert torch.isfinite(out).all()


def test_demo_trains_and_tests_on_tiny_synthetic_data(tmp_path):
    data = tmp_path / 'data'
    work = tmp_path / 'work'
    opts = [
        f'train_dataloader.dataset.data_root={data}',
        f'val_dataloader.dataset.data_root={data}',
        f'test_dataloader.dataset.data_root={data}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'model.data_preprocessor.size=(32,32)',
        'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
        'default_hooks.checkpoint.interval=3',
        'param_scheduler.0.end=1', 'param_scheduler.1.begin=1',
        'param_scheduler.1.end=3',
    ]
    for split in ('train', 'val', 'test'):
        opts += [f'{split}_dataloader.dataset.num_train=4',
                 f'{split}_dataloader.dataset.num_val=2',
                 f'{split}_dataloader.dataset.size=(32,32)']
    proc = run_tool(['tools/train.py', DEMO, '--work-dir', str(work),
                     '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert '|   lesion   |' in proc.stdout
    ckpt = work / 'iter_3.pth'
    assert ckpt.is_file()
    assert len(list((data / 'train' / 'images').glob('*.png'))) == 4
    proc = run_tool(['tools/test.py', DEMO, str(ckpt), '--work-dir',
                     str(tmp_path / 'test'), '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert '|   lesion   |' in proc.stdout and 'mDice' in proc.stdout
    proc = run_tool(['tools/test.py', DEMO, str(ckpt), '--tta', '--work-dir',
                     str(tmp_path / 'tta'), '--cfg-options', *opts])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert '|   lesion   |' in proc.stdout
