"""Cases of whole segmentors built from configs (SyncBN replaced by BN, no
pretrained weights, the data preprocessor's ``size`` set to the input
size), on a seeded random batch of ``B`` uint8 images with 0/1 masks:

* ``train_step``: one ``model.train_step`` (data preprocessor, forward,
  loss, backward, SGD step) of the SGDC-R50 model
  (``impl='sgdc_r50'``) or mmseg's UPerNet-R50 base model with 2 classes
  (``impl='upernet_r50'``);
* ``models`` (one per ``pass_``) of the config ``case['config']``:
  ``'train step'`` (as above, auxiliary heads included), ``'eval forward'``
  (eval mode, ``no_grad``, the ``mode='tensor'`` forward of the
  preprocessed batch: backbone, neck, decode head logits, as counted for
  FLOPs) and ``'complexity'`` (not timed: parameters and FLOPs of
  :func:`sgdc_mmseg.compat.flops.model_complexity` on one image).
"""
import os.path as osp

from ..harness import REPO_ROOT, SkipCase

SGDC_R50_CONFIG = osp.join(REPO_ROOT, 'configs', 'sgdc',
                           'sgdc_r50_1xb8-20k_isic2017-256x192.py')
UPERNET_R50_BASE = 'mmseg::_base_/models/upernet_r50.py'


def sync_bn_to_bn(node):
    """Replace ``type='SyncBN'`` by ``'BN'`` everywhere in a config dict."""
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
        for value in node.values():
            sync_bn_to_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            sync_bn_to_bn(value)


def import_mmseg():
    """Register mmseg's modules (and ours); :class:`SkipCase` without
    mmseg/mmengine."""
    try:
        import sgdc_mmseg  # noqa: F401
        from mmseg.utils import register_all_modules
    except ImportError as err:
        raise SkipCase(f'needs mmseg/mmengine ({err})')
    register_all_modules(init_default_scope=True)


def load_config(config, size):
    """The mmengine ``Config`` of ``config`` (a file, relative paths from
    the repository root) with the data preprocessor's ``size`` set to
    ``(size, size)``."""
    from mmengine.config import Config
    path = config if osp.isabs(config) else osp.join(REPO_ROOT, config)
    if not osp.isfile(path):
        raise FileNotFoundError(f'config "{config}" not found')
    cfg = Config.fromfile(path)
    cfg.model.data_preprocessor['size'] = (size, size)
    return cfg


def build_segmentor(model_cfg, size, device):
    """The segmentor of the model config dict ``model_cfg`` (SyncBN -> BN,
    no pretrained weights, preprocessor ``size``), on ``device``."""
    from mmseg.registry import MODELS
    model_cfg = dict(model_cfg)
    sync_bn_to_bn(model_cfg)
    model_cfg['pretrained'] = None
    model_cfg['backbone']['init_cfg'] = None
    model_cfg['data_preprocessor']['size'] = (size, size)
    return MODELS.build(model_cfg).to(device)


def random_batch(b, size):
    """``dict(inputs, data_samples)`` of ``b`` seeded random uint8 images
    ``3 x size x size`` with random 0/1 ``gt_sem_seg``."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(b):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=gen,
                                    dtype=torch.uint8))
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, 2, (1, size, size), generator=gen))
        sample.set_metainfo(dict(img_shape=(size, size),
                                 ori_shape=(size, size),
                                 pad_shape=(size, size)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def train_step_of(model, data):
    """``step`` running ``model.train_step`` with SGD (lr 0.01, momentum
    0.9, weight decay 5e-4) on ``data``."""
    import torch
    from mmengine.optim import OptimWrapper
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01,
                                         momentum=0.9, weight_decay=5e-4))

    def step():
        return model.train_step(data, optim)
    return step


def eval_forward_of(model, data):
    """``step`` running the eval-mode ``mode='tensor'`` forward of the
    preprocessed ``data`` under ``no_grad`` (preprocessing not timed)."""
    import torch
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(data, False)

    def step():
        with torch.no_grad():
            return model(data['inputs'], data['data_samples'], mode='tensor')
    return step


def build_train_step(case, device):
    """``train_step`` case: SGDC-R50 or UPerNet-R50 (impl ``sgdc_r50`` or
    ``upernet_r50``, with the suffix ``+compile``: ``model.train_step``
    wrapped in ``torch.compile`` as mmengine's ``compile=True`` does), batch
    ``B`` at ``size x size``."""
    import_mmseg()
    import torch
    from mmengine.config import Config
    name, compiled = case['impl'], case['impl'].endswith('+compile')
    if compiled:
        name = name[:-len('+compile')]
    if name not in ('sgdc_r50', 'upernet_r50'):
        raise ValueError(f"train_step case: unknown impl {case['impl']!r} "
                         "(sgdc_r50 or upernet_r50, optionally +compile)")
    if name == 'sgdc_r50':
        cfg = Config.fromfile(SGDC_R50_CONFIG)
    else:
        cfg = Config.fromstring(f'_base_ = [{UPERNET_R50_BASE!r}]', '.py')
        cfg.model.decode_head.num_classes = 2
        cfg.model.auxiliary_head.num_classes = 2
    model = build_segmentor(cfg.model.to_dict(), case['size'], device)
    if compiled:
        model.train_step = torch.compile(model.train_step)
    step = train_step_of(model, random_batch(case['B'], case['size']))
    return step, lambda: None, {}


def build_model_case(case, device):
    """``models`` case: ``case['pass_']`` of the config ``case['config']``
    at batch ``B``, ``size x size`` (module docstring)."""
    import_mmseg()
    cfg = load_config(case['config'], case['size'])
    if case['pass_'] == 'complexity':
        from sgdc_mmseg.compat.flops import model_complexity
        stats = model_complexity(cfg, (case['size'], case['size']))
        return None, None, dict(params=stats['params'], flops=stats['flops'])
    model = build_segmentor(cfg.model.to_dict(), case['size'], device)
    data = random_batch(case['B'], case['size'])
    if case['pass_'] == 'train step':
        return train_step_of(model, data), lambda: None, {}
    if case['pass_'] == 'eval forward':
        return eval_forward_of(model, data), lambda: None, {}
    raise ValueError(f"models case: unknown pass_ {case['pass_']!r} (one of "
                     "'complexity', 'train step', 'eval forward')")
