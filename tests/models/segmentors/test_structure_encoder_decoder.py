import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData

import sgdc_mmseg  # noqa: F401
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from sgdc_mmseg.models.segmentors import EDGE_KEY

register_all_modules()

SGE = dict(type='SGEHead', in_channels=(4, 16), in_index=(2, 0), channels=8,
           fuse_channels=8)


def model_cfg(seg_type='StructureEncoderDecoder', sge=SGE, mode='whole',
              kernel_source='structure'):
    test_cfg = dict(mode=mode)
    if mode == 'slide':
        test_cfg.update(crop_size=(24, 24), stride=(16, 16))
    return dict(
        type=seg_type,
        backbone=dict(type='UNet', in_channels=3, base_channels=4,
                      num_stages=3, strides=(1, 1, 1),
                      enc_num_convs=(1, 1, 1), dec_num_convs=(1, 1),
                      downsamples=(True, True), enc_dilations=(1, 1, 1),
                      dec_dilations=(1, 1), norm_cfg=dict(type='BN'),
                      upsample_cfg=dict(type='InterpConv')),
        decode_head=dict(type='SGDCHead', in_channels=[4, 8, 16],
                         in_index=[2, 1, 0], channels=8, num_classes=2,
                         num_blocks=1, num_heads=2, kernel_size=3,
                         norm_cfg=dict(type='BN'), sge=sge,
                         kernel_source=kernel_source,
                         layer_scale_init=1.0),
        test_cfg=ConfigDict(test_cfg))


def pair(**kw):
    """The structure segmentor and a plain EncoderDecoder, same weights."""
    torch.manual_seed(0)
    ours = MODELS.build(model_cfg(**kw)).eval()
    plain = MODELS.build(model_cfg('EncoderDecoder', **kw)).eval()
    plain.load_state_dict(ours.state_dict())
    return ours, plain


def samples(n=2, ori=(40, 48), flip=False):
    out = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(
            ori_shape=ori, img_shape=(32, 32), pad_shape=(32, 32),
            padding_size=[0, 0, 0, 0], flip=flip,
            flip_direction='horizontal' if flip else None))
        out.append(s)
    return out


def run(model, x, data_samples):
    with torch.no_grad():
        return model.predict(x, copy.deepcopy(data_samples))


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_segmentation_unchanged_and_edge_at_original_size(mode):
    ours, plain = pair(mode=mode)
    x = torch.randn(2, 3, 32, 32)
    got, ref = run(ours, x, samples()), run(plain, x, samples())
    for g, r in zip(got, ref):
        assert torch.allclose(g.seg_logits.data, r.seg_logits.data,
                              atol=1e-5)
        assert torch.equal(g.pred_sem_seg.data, r.pred_sem_seg.data)
        assert g.get(EDGE_KEY).data.shape == (1, 40, 48)
        assert EDGE_KEY not in r
    assert ours.out_channels == 2  # restored after the structure pass


def test_edge_is_the_heads_edge_map_resized():
    ours, _ = pair()
    x = torch.randn(2, 3, 32, 32)
    got = run(ours, x, samples())
    with torch.no_grad():
        edge = ours.decode_head.forward_with_structure(
            ours.extract_feat(x))['edge_logits']
    edge = F.interpolate(edge, size=(32, 32), mode='bilinear',
                         align_corners=False)
    edge = F.interpolate(edge, size=(40, 48), mode='bilinear',
                         align_corners=False)
    for i, g in enumerate(got):
        # raw logits (not a sigmoid: values outside [0, 1] survive)
        assert torch.allclose(g.get(EDGE_KEY).data, edge[i], atol=1e-5)


def test_flip_is_undone_like_the_segmentation():
    """A sample whose meta says "flipped" gets both maps flipped back."""
    ours, _ = pair()
    x = torch.randn(1, 3, 32, 32)
    straight = run(ours, x, samples(1))[0]
    flipped = run(ours, x, samples(1, flip=True))[0]
    for key in (EDGE_KEY, 'seg_logits'):
        assert torch.allclose(flipped.get(key).data,
                              straight.get(key).data.flip(-1), atol=1e-5)


def test_without_sge_behaves_like_encoder_decoder():
    ours, plain = pair(sge=None, kernel_source='pool')
    assert not ours.predicts_edges
    x = torch.randn(2, 3, 32, 32)
    got, ref = run(ours, x, samples()), run(plain, x, samples())
    for g, r in zip(got, ref):
        assert EDGE_KEY not in g
        assert torch.equal(g.seg_logits.data, r.seg_logits.data)


def test_without_data_samples():
    ours, _ = pair()
    with torch.no_grad():
        got = ours.predict(torch.randn(2, 3, 32, 32))
    assert [g.get(EDGE_KEY).data.shape for g in got] == [(1, 32, 32)] * 2


def test_out_channels_restored_after_an_error(monkeypatch):
    ours, _ = pair()

    def boom(*args, **kwargs):
        raise RuntimeError('boom')

    monkeypatch.setattr(ours, 'inference', boom)
    with pytest.raises(RuntimeError, match='boom'):
        ours.predict(torch.randn(1, 3, 32, 32), samples(1))
    assert ours.out_channels == 2 and not ours._structure_pass


def test_nuclei_metric_splits_with_the_edge_map():
    """The predicted sample, as mmengine's evaluator hands it over, is
    accepted by NucleiMetric(pred_instances='sge')."""
    from sgdc_mmseg.evaluation.metrics.nuclei_metric import NucleiMetric
    ours, _ = pair()
    got = run(ours, torch.randn(1, 3, 32, 32), samples(1))[0]
    gt = torch.zeros(1, 40, 48, dtype=torch.long)
    gt[:, 5:15, 5:15] = 1
    got.gt_sem_seg = PixelData(data=gt)
    got.set_metainfo(dict(img_path='tile.png'))
    metric = NucleiMetric(pred_instances='sge')
    metric.process({}, [got.to_dict()])
    assert metric.results[0]['pred_source'] == 'sge_watershed'
