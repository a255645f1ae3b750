import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import PixelData

import sgdc_mmseg  # noqa: F401
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

register_all_modules()

CH = (4, 6, 8, 12)
SGE = dict(type='SGEHead', in_channels=(4, 12), in_index=(0, 3), channels=8,
           fuse_channels=8)


def feats(b=2, size=16):
    return [torch.randn(b, c, size // 2**i, size // 2**i)
            for i, c in enumerate(CH)]


def samples(b=2, size=64):
    out = []
    for i in range(b):
        m = torch.zeros(1, size, size, dtype=torch.long)
        m[:, 8 + i:40, 10:50 - i] = 1
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=m)
        out.append(s)
    return out


def head(**kw):
    cfg = dict(type='SGDCHead', in_channels=list(CH), in_index=[0, 1, 2, 3],
               channels=8, num_classes=3, num_blocks=2, num_heads=2,
               kernel_size=3, norm_cfg=dict(type='BN'), sge=SGE,
               layer_scale_init=1.0)
    cfg.update(kw)
    return MODELS.build(cfg)


def test_train_tuple_eval_tensor():
    h = head().train()
    seg, edge = h(feats())
    assert seg.shape == (2, 3, 16, 16) and edge.shape == (2, 1, 16, 16)
    h.eval()
    out = h(feats())
    assert isinstance(out, torch.Tensor) and out.shape == (2, 3, 16, 16)
    pred = h.predict(feats(), [dict(img_shape=(64, 64))] * 2, None)
    assert pred.shape == (2, 3, 64, 64)


def test_sge_guidance_is_wired():
    h = head()
    assert h.sge.guide_channels == 16
    assert h.blocks[0].proj_guidance.in_channels == 16


@pytest.mark.parametrize('source,with_sge', [('structure', True),
                                             ('pool', True), ('pool', False),
                                             ('self', True), ('self', False)])
def test_losses_and_every_parameter_used(source, with_sge):
    torch.manual_seed(0)
    h = head(kernel_source=source, sge=SGE if with_sge else None).train()
    losses = h.loss_by_feat(h(feats()), samples())
    expected = {'loss_ce', 'acc_seg'}
    if with_sge:
        expected |= {'loss_boundary_bce', 'loss_boundary_dice'}
    assert set(losses) == expected
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(total)
    total.backward()
    unused = [n for n, p in h.named_parameters()
              if p.grad is None or p.grad.abs().sum() == 0]
    assert unused == []
    if with_sge and source != 'structure':
        assert h.sge.guide_channels == 0  # no unused guidance branch
    if not with_sge:
        assert h.sge is None


def test_full_model_and_loss_prefixes():
    model = MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', size=(32, 32)),
        backbone=dict(type='ResNetV1c', depth=18, base_channels=4,
                      stem_channels=4, norm_cfg=dict(type='BN')),
        decode_head=dict(type='SGDCHead', in_channels=[4, 8, 16, 32],
                         in_index=[0, 1, 2, 3], channels=8, num_classes=2,
                         num_heads=2, kernel_size=3, norm_cfg=dict(type='BN'),
                         sge=dict(type='SGEHead', in_channels=(4, 32),
                                  in_index=(0, 3), channels=8,
                                  fuse_channels=8)),
        test_cfg=ConfigDict(mode='whole')))
    ds = samples(2, 32)
    for d in ds:
        d.set_metainfo(dict(img_shape=(32, 32), pad_shape=(32, 32),
                            ori_shape=(32, 32)))
    losses = model.loss(torch.randn(2, 3, 32, 32), ds)
    assert {'decode.loss_ce', 'decode.loss_boundary_bce',
            'decode.loss_boundary_dice'} <= set(losses)
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(2, 3, 32, 32), ds)
    assert out[0].pred_sem_seg.data.shape == (1, 32, 32)


@pytest.mark.parametrize('kw,match', [
    (dict(kernel_size=4), 'odd'),
    (dict(channels=10, num_heads=4), 'divisible by num_heads'),
    (dict(sge=None), 'needs an sge'),
    (dict(kernel_source='mean'), 'kernel_source'),
    (dict(in_channels=[4, 6]), 'differ in length'),
    (dict(input_transform='resize_concat'), 'multiple_select'),
    (dict(kernel_source='pool', sge=dict(SGE, guide_channels=16)),
     'guide_channels'),
    (dict(sge=dict(type='FCNHead', in_channels=4, channels=4,
                   num_classes=2)), 'must build an SGEHead'),
])
def test_invalid_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        head(**kw)


@pytest.mark.parametrize('kw,exc,message', [
    (dict(num_heads=0), ValueError,
     'SGDCHead: num_heads must be a positive int, got 0'),
    (dict(num_heads='4'), TypeError,
     "SGDCHead: num_heads must be a positive int, got '4'"),
    (dict(num_heads=True), TypeError,
     'SGDCHead: num_heads must be a positive int, got True'),
    (dict(channels=10, num_heads=4), ValueError,
     'SGDCHead: channels must be divisible by num_heads (4), got 10'),
    (dict(channels=0), ValueError,
     'SGDCHead: channels must be a positive int, got 0'),
    (dict(channels='8'), TypeError,
     "SGDCHead: channels must be a positive int, got '8'"),
    (dict(kernel_size=4), ValueError,
     'SGDCHead: kernel_size must be a positive odd int, got 4'),
    (dict(kernel_size=True), TypeError,
     'SGDCHead: kernel_size must be a positive odd int, got True'),
    (dict(num_blocks=0), ValueError,
     'SGDCHead: num_blocks must be a positive int, got 0'),
    (dict(num_blocks=True), TypeError,
     'SGDCHead: num_blocks must be a positive int, got True'),
    (dict(guide_channels=0), ValueError,
     'SGDCHead: guide_channels must be a positive int, got 0'),
    (dict(guide_channels='16'), TypeError,
     "SGDCHead: guide_channels must be a positive int, got '16'"),
    (dict(mlp_ratio=0), ValueError,
     'SGDCHead: mlp_ratio must be a positive number, got 0'),
    (dict(drop_path_rate=1.0), ValueError,
     'SGDCHead: drop_path_rate must be a number in [0, 1), got 1.0'),
    (dict(drop_path_rate=True), TypeError,
     'SGDCHead: drop_path_rate must be a number in [0, 1), got True'),
    (dict(layer_scale_init=float('inf')), ValueError,
     'SGDCHead: layer_scale_init must be a finite number, got inf'),
    (dict(kernel_source='pool', sge=None, pool_size=0), ValueError,
     'SGDCHead: pool_size must be a positive int or None, got 0'),
    (dict(backend='gpu'), ValueError,
     "SGDCHead: backend must be one of ('auto', 'reference', 'shift', "
     "'cpp', 'triton'), got 'gpu'"),
    (dict(in_index=[0, 1, 2, True]), TypeError,
     'SGDCHead: in_index must be a list of ints, got [0, 1, 2, True]'),
    (dict(in_channels=[4, 6, 0, 12]), ValueError,
     'SGDCHead: in_channels must be a list of positive ints, got '
     '[4, 6, 0, 12]'),
    (dict(in_channels=[], in_index=[]), ValueError,
     'SGDCHead: in_index must not be empty'),
])
def test_argument_types_and_ranges(kw, exc, message):
    with pytest.raises(exc) as err:
        head(**kw)
    assert str(err.value) == message


def test_forward_errors():
    with pytest.raises(ValueError, match='out of range'):
        head(in_index=[0, 1, 2, 5])(feats())
    with pytest.raises(ValueError, match='expects 7 channels'):
        head(in_channels=[4, 7, 8, 12])(feats())


@pytest.mark.parametrize('source,with_sge', [('structure', True),
                                             ('pool', True), ('pool', False),
                                             ('self', True)])
def test_forward_with_structure(source, with_sge):
    torch.manual_seed(0)
    h = head(kernel_source=source, sge=SGE if with_sge else None).eval()
    x = feats()
    with torch.no_grad():
        out = h.forward_with_structure(x)
        ref = h(x)
    assert set(out) == {'seg_logits', 'edge_logits', 'guidance'}
    # the eval predictions are unchanged
    assert torch.equal(out['seg_logits'], ref)
    if with_sge:
        assert out['edge_logits'].shape == (2, 1, 16, 16)
        with torch.no_grad():
            edge, guidance = h.sge(x)
        assert torch.equal(out['edge_logits'], edge)
    else:
        assert out['edge_logits'] is None
    if source == 'structure':
        assert out['guidance'].shape == (2, 16, 16, 16)
    else:
        assert out['guidance'] is None


@pytest.mark.parametrize('mode', ['train', 'eval'])
@pytest.mark.parametrize('source,with_sge', [('structure', True),
                                             ('pool', True), ('pool', False),
                                             ('self', True),
                                             ('self', False)])
def test_forward_and_structure_path_give_identical_seg_logits(
        source, with_sge, mode):
    # one forward path: return_structure only adds what the SGE sees
    torch.manual_seed(0)
    h = head(kernel_source=source, sge=SGE if with_sge else None)
    h.train(mode == 'train')
    x = feats()

    def run(call):  # the same dropout mask in train mode
        torch.manual_seed(1)
        with torch.no_grad():
            return call(x)

    plain = run(h)
    out = run(lambda x: h.forward(x, return_structure=True))
    thin = run(h.forward_with_structure)
    seg = plain[0] if mode == 'train' else plain
    assert torch.equal(out['seg_logits'], seg)
    assert torch.equal(thin['seg_logits'], seg)
    if mode == 'train':
        # the training forward's edge logits are the SGE's as well
        if with_sge:
            assert torch.equal(out['edge_logits'], plain[1])
        else:
            assert plain[1] is None and out['edge_logits'] is None
    assert (out['guidance'] is None) == (source != 'structure')
