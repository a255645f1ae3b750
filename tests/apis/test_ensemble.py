"""sgdc_mmseg.apis.ensemble: EnsembleSegmentor averages class probabilities
of models and views (checked against hand computations with stub
segmentors whose outputs are set), thresholds sigmoid models like mmseg,
post-processes the label map only, and loads further checkpoints
strictly."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.apis.ensemble import EnsembleSegmentor, flip_views


class _Head(nn.Module):
    threshold = 0.3


class _Stub(nn.Module):
    """Returns fixed ``seg_logits`` (as mmseg's postprocess_result leaves
    them), or, with ``logits=None``, the input channels as logits after
    undoing the view's flip as mmseg does."""

    def __init__(self, logits=None, out_channels=None):
        super().__init__()
        self.logits = logits
        self.out_channels = out_channels or (
            logits.shape[0] if logits is not None else 3)
        self.decode_head = _Head()
        self.w = nn.Parameter(torch.zeros(1))
        self.calls = 0

    def test_step(self, data):
        self.calls += 1
        for x, sample in zip(data['inputs'], data['data_samples']):
            if self.logits is not None:
                logits = self.logits.clone()
            else:
                logits = x.float()
                if sample.metainfo.get('flip', False):
                    dim = 2 if sample.flip_direction == 'horizontal' else 1
                    logits = logits.flip(dim)
            sample.set_data(dict(seg_logits=PixelData(data=logits)))
        return data['data_samples']


def _batch(n=1, shape=(3, 2, 3)):
    inputs = [torch.arange(np.prod(shape), dtype=torch.float32).reshape(
        shape) * (i + 1) / 10 for i in range(n)]
    samples = [SegDataSample(metainfo=dict(img_path=f'/x/{i}.png'))
               for i in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def test_two_models_average_softmax_probabilities_by_hand():
    a = torch.tensor([[[1.0, 0.0]], [[2.0, 0.0]], [[0.0, 3.0]]])  # C=3, 1x2
    b = torch.tensor([[[3.0, 0.0]], [[0.0, 0.0]], [[0.0, -1.0]]])
    ens = EnsembleSegmentor(_Stub(a), members=[_Stub(b)])
    out = ens.test_step(_batch(shape=(3, 1, 2)))
    # hand computation, pixel by pixel
    ea, eb = np.exp(a.numpy()), np.exp(b.numpy())
    mean = (ea / ea.sum(0) + eb / eb.sum(0)) / 2
    got = out[0].seg_logits.data.softmax(0).numpy()
    assert np.allclose(got, mean, atol=1e-6)
    assert np.allclose(out[0].seg_logits.data.exp().numpy(), mean, atol=1e-6)
    assert out[0].pred_sem_seg.data.tolist() == [mean.argmax(0).tolist()]
    # pixel 0: a says class 1 (0.665), b class 0 (0.844): mean picks 0
    assert mean[:, 0, 0].argmax() == 0 and a[:, 0, 0].argmax() == 1


def test_sigmoid_models_average_foreground_probability_and_threshold():
    pa = torch.tensor([[[0.9, 0.2, 0.5]]])   # mmseg keeps sigmoid(p) here
    pb = torch.tensor([[[0.1, 0.5, 0.05]]])
    ens = EnsembleSegmentor(_Stub(pa), members=[_Stub(pb)])
    assert ens.threshold == 0.3
    out = ens.test_step(_batch(shape=(3, 1, 3)))[0]
    assert torch.allclose(out.seg_logits.data,
                          torch.tensor([[[0.5, 0.35, 0.275]]]))
    # mean p > 0.3 (the decode head's threshold), not the argmax (> 0.5)
    assert out.pred_sem_seg.data.tolist() == [[[1, 1, 0]]]


def test_flip_views_are_undone_before_averaging():
    stub = _Stub()
    ens = EnsembleSegmentor(stub, flip=True)
    data = _batch(n=2)
    views = flip_views(data)
    assert [v['data_samples'][0].metainfo.get('flip_direction')
            for v in views] == [None, 'horizontal', 'vertical']
    assert torch.equal(views[1]['inputs'][0], data['inputs'][0].flip(-1))
    out = ens.test_step(_batch(n=2))
    assert stub.calls == 3
    for i, sample in enumerate(out):
        expected = data['inputs'][i].softmax(0)  # every view, flipped back
        assert torch.allclose(sample.seg_logits.data.softmax(0), expected,
                              atol=1e-6)
        assert sample.metainfo.get('flip', False) is False  # first view's


def test_tta_pipeline_views_are_split_and_averaged():
    a = torch.tensor([[[0.0]], [[1.0]]])
    b = torch.tensor([[[2.0]], [[0.0]]])

    class _Views(_Stub):  # view 0 -> a, view 1 -> b
        def test_step(self, data):
            self.logits = a if data['data_samples'][0].view == 0 else b
            return super().test_step(data)

    one = _batch(shape=(2, 1, 1))
    two = _batch(shape=(2, 1, 1))
    one['data_samples'][0].set_metainfo(dict(view=0))
    two['data_samples'][0].set_metainfo(dict(view=1))
    batch = dict(inputs=[one['inputs'], two['inputs']],
                 data_samples=[one['data_samples'], two['data_samples']])
    out = EnsembleSegmentor(_Views(a), views=True).test_step(batch)
    expected = (a.softmax(0) + b.softmax(0)) / 2
    assert torch.allclose(out[0].seg_logits.data.exp(), expected)
    assert out[0].view == 0


def test_postprocessing_changes_the_label_map_not_the_probabilities():
    logits = torch.zeros(2, 3, 5)
    logits[1, 0:2, 0:2] = 5.0    # a 4-px lesion
    logits[1, 2, 4] = 5.0        # a 1-px speck
    spec = dict(connectivity=2, per_class={'1': dict(
        operation='keep_largest_component')})
    plain = EnsembleSegmentor(_Stub(logits)).test_step(
        _batch(shape=(2, 3, 5)))[0]
    post = EnsembleSegmentor(_Stub(logits), postprocess=spec).test_step(
        _batch(shape=(2, 3, 5)))[0]
    assert plain.pred_sem_seg.data.sum() == 5
    assert post.pred_sem_seg.data.sum() == 4
    assert post.pred_sem_seg.data[0, 2, 4] == 0
    assert torch.equal(plain.seg_logits.data, post.seg_logits.data)


def test_members_with_other_outputs_are_refused():
    with pytest.raises(ValueError, match='different numbers of output '
                       r'channels: \[2, 3\]'):
        EnsembleSegmentor(_Stub(torch.zeros(2, 1, 1)),
                          members=[_Stub(torch.zeros(3, 1, 1))])


def test_a_checkpoint_of_another_model_is_named(tiny_config, tmp_path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from sgdc_mmseg.engine.weights import CheckpointMismatchError
    init_default_scope('mmseg')
    cfg = Config.fromfile(tiny_config())
    bad = tmp_path / 'other_model.pth'
    torch.save(dict(state_dict={'foo.weight': torch.zeros(2)}), str(bad))
    ens = EnsembleSegmentor(cfg.model, checkpoints=[str(bad)])
    assert len(ens.members) == 2
    with pytest.raises(CheckpointMismatchError,
                       match=f'checkpoint "{bad}" does not fit the model: '
                       r'1 unexpected key \(foo.weight\)'):
        ens.load_checkpoints(strict=True)
