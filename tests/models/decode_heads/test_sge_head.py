import pytest
import torch
from mmengine.structures import PixelData

import sgdc_mmseg  # noqa: F401
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

register_all_modules()


def feats(b=2, chans=(4, 6, 8, 12), size=16):
    return [torch.randn(b, c, size // 2**i, size // 2**i)
            for i, c in enumerate(chans)]


def samples(masks, edges=None):
    out = []
    for i, m in enumerate(masks):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=m[None].long())
        if edges is not None:
            s.gt_edge_map = PixelData(data=edges[i][None].long())
        out.append(s)
    return out


def head(**kw):
    cfg = dict(type='SGEHead', in_channels=(4, 12), in_index=(0, 3),
               channels=8, fuse_channels=8)
    cfg.update(kw)
    return MODELS.build(cfg)


def test_forward_shapes_and_no_classifier():
    h = head()
    assert not hasattr(h, 'conv_seg')
    edge, guide = h(feats())
    assert edge.shape == (2, 1, 16, 16) and guide is None
    edge, guide = head(guide_channels=5)(feats())
    assert guide.shape == (2, 5, 16, 16)


def test_boundary_targets_from_gt_sem_seg():
    h = head(boundary_width=1)
    m = torch.zeros(6, 6, dtype=torch.long)
    m[2:4, 2:4] = 1
    m[0, :] = 255  # padding / ignore
    t = h.boundary_targets(samples([m]))[0]
    expected = torch.zeros(6, 6, dtype=torch.long)
    expected[1:5, 1:5] = 1
    expected[0, :] = 255
    assert torch.equal(t, expected)


def test_gt_edge_map_takes_precedence():
    h = head()
    m = torch.zeros(4, 4, dtype=torch.long)
    edge = torch.eye(4, dtype=torch.long)
    t = h.boundary_targets(samples([m], [edge]))[0]
    assert torch.equal(t, edge)


def test_loss_keys_values_and_gradients():
    torch.manual_seed(0)
    h = head().train()
    masks = [torch.zeros(64, 64, dtype=torch.long) for _ in range(2)]
    masks[0][10:40, 20:50] = 1
    masks[1][5:20, 5:60] = 1
    losses = h.loss(feats(), samples(masks), None)
    assert set(losses) == {'loss_boundary_bce', 'loss_boundary_dice'}
    for v in losses.values():
        assert torch.isfinite(v) and v > 0
    sum(losses.values()).backward()
    for name, p in h.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_custom_losses_including_mmseg_bce():
    h = head(loss_decode=[dict(type='CrossEntropyLoss', use_sigmoid=True,
                               loss_name='loss_boundary_ce')])
    m = torch.zeros(16, 16, dtype=torch.long)
    m[4:10, 4:10] = 1
    losses = h.loss(feats(b=1), samples([m]), None)
    assert list(losses) == ['loss_boundary_ce']
    with pytest.raises(ValueError, match='distinct loss_name'):
        head(loss_decode=[dict(type='BinaryDiceLoss'),
                          dict(type='BinaryDiceLoss')]).loss(
                              feats(b=1), samples([m]), None)


def test_as_auxiliary_head_of_encoder_decoder():
    model = MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', size=(32, 32)),
        backbone=dict(type='ResNetV1c', depth=18, base_channels=4,
                      stem_channels=4, norm_cfg=dict(type='BN')),
        decode_head=dict(type='FCNHead', in_channels=32, channels=8,
                         num_convs=1, in_index=3, num_classes=2,
                         norm_cfg=dict(type='BN')),
        auxiliary_head=dict(type='SGEHead', in_channels=(4, 32),
                            in_index=(0, 3), channels=8, fuse_channels=8)))
    model.train()
    m = torch.zeros(32, 32, dtype=torch.long)
    m[8:20, 8:24] = 1
    inputs = torch.randn(2, 3, 32, 32)
    ds = samples([m, m])
    for d in ds:
        d.set_metainfo(dict(img_shape=(32, 32), pad_shape=(32, 32)))
    losses = model.loss(inputs, ds)
    assert {'aux.loss_boundary_bce', 'aux.loss_boundary_dice',
            'decode.loss_ce'} <= set(losses)


@pytest.mark.parametrize('kw,match', [
    (dict(in_index=(0, 1, 3), in_channels=(4, 6, 12)), 'exactly 2'),
    (dict(in_channels=(4, )), 'differ in length'),
    (dict(boundary_width=0), 'boundary_width'),
])
def test_invalid_config(kw, match):
    with pytest.raises(ValueError, match=match):
        head(**kw)


@pytest.mark.parametrize('kw,exc,message', [
    (dict(channels=0), ValueError,
     'SGEHead: channels must be a positive int, got 0'),
    (dict(channels='8'), TypeError,
     "SGEHead: channels must be a positive int, got '8'"),
    (dict(fuse_channels=True), TypeError,
     'SGEHead: fuse_channels must be a positive int, got True'),
    (dict(guide_channels=-2), ValueError,
     'SGEHead: guide_channels must be an int >= 0, got -2'),
    (dict(reduction_ratio=0), ValueError,
     'SGEHead: reduction_ratio must be a positive int, got 0'),
    (dict(channels=6), ValueError,
     'SGEHead: channels must be divisible by reduction_ratio (4), got 6'),
    (dict(boundary_width=0), ValueError,
     'SGEHead: boundary_width must be a positive int, got 0'),
    (dict(boundary_width=True), TypeError,
     'SGEHead: boundary_width must be a positive int, got True'),
    (dict(boundary_width=1.5), TypeError,
     'SGEHead: boundary_width must be a positive int, got 1.5'),
    (dict(in_channels=(4, '12')), TypeError,
     "SGEHead: in_channels must be a list of positive ints, got "
     "(4, '12')"),
    (dict(in_channels=(0, 12)), ValueError,
     'SGEHead: in_channels must be a list of positive ints, got (0, 12)'),
    (dict(in_index=(0, False)), TypeError,
     'SGEHead: in_index must be a list of ints, got (0, False)'),
    (dict(in_index=3), TypeError,
     'SGEHead: in_index must be a list of ints, got 3'),
])
def test_argument_types_and_ranges(kw, exc, message):
    with pytest.raises(exc) as err:
        head(**kw)
    assert str(err.value) == message


def test_forward_errors():
    with pytest.raises(ValueError, match='out of range'):
        head(in_index=(0, 7))(feats())
    with pytest.raises(ValueError, match='expects 10 channels'):
        head(in_channels=(4, 10))(feats())
