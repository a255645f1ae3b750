"""sgdc_mmseg.engine.weights: comparing a checkpoint with a model, strict and
non-strict loading, dataset meta from a config."""
import logging
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.engine import (CheckpointMismatchError, WeightsReport,
                               checkpoint_state_dict, compare_weights,
                               dataset_meta_from_config, load_weights,
                               summary_line, unwrap_model)


class _Net(nn.Sequential):
    def test_step(self, data):  # what BaseTTAModel asks of its module
        return data


def _net():
    torch.manual_seed(0)
    return _Net(
        OrderedDict(conv=nn.Conv2d(3, 4, 3), bn=nn.BatchNorm2d(4),
                    fc=nn.Linear(4, 2)))


def _bad_state(net):
    """``net``'s weights with fc.bias dropped, conv.weight reshaped and an
    extra key."""
    sd = OrderedDict((k, v.clone() + 1) for k, v in net.state_dict().items())
    del sd['fc.bias']
    sd['conv.weight'] = torch.ones(8, 3, 3, 3)
    sd['extra.weight'] = torch.zeros(3)
    return sd


def test_compare_weights_reports_each_kind():
    net = _net()
    report = compare_weights(net, _bad_state(net))
    assert report.missing == ('fc.bias', )
    assert report.unexpected == ('extra.weight', )
    assert report.mismatched == (('conv.weight', (8, 3, 3, 3), (4, 3, 3, 3)),)
    assert 'conv.bias' in report.loaded and 'fc.weight' in report.loaded
    assert not report.fits
    assert report.describe() == (
        '1 unexpected key (extra.weight), 1 missing key (fc.bias), 1 shape '
        'mismatch (conv.weight: checkpoint 8x3x3x3, model 4x3x3x3)')
    assert summary_line(report, 'x.pth') == (
        f'{len(report.loaded)} tensors loaded, 1 missing, 1 unexpected, '
        '1 shape-mismatched, from x.pth')
    assert compare_weights(net, net.state_dict()).fits


def test_describe_counts_and_truncates():
    report = WeightsReport(missing=tuple(f'm{i}' for i in range(245)),
                           unexpected=('foo.weight', ))
    assert report.describe() == ('1 unexpected key (foo.weight), 245 missing '
                                 'keys (m0, m1, m2, ...)')


def test_num_batches_tracked_and_scalar_rule():
    net = _net()
    sd = net.state_dict()
    del sd['bn.num_batches_tracked']  # mmengine ignores these when missing
    assert compare_weights(net, sd).fits

    class Scalar(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.tensor(1.0))

    report = compare_weights(Scalar(), {'scale': torch.tensor([2.0])})
    assert report.fits  # torch copies a 1-element tensor into a 0-dim one
    report = compare_weights(Scalar(), {'scale': 'not a tensor'})
    assert report.mismatched == (('scale', None, ()), )
    assert 'scale: checkpoint not a tensor, model scalar' in report.describe()


def test_prefixes_and_wrappers():
    from mmseg.models import SegTTAModel
    net = _net()
    prefixed = {f'module.{k}': v for k, v in net.state_dict().items()}
    for ckpt in (prefixed, dict(state_dict=prefixed, meta={}),
                 net.state_dict()):
        for model in (net, nn.DataParallel(net), SegTTAModel(module=net)):
            assert compare_weights(model, ckpt).fits
    assert unwrap_model(nn.DataParallel(SegTTAModel(module=net))) is net
    # without the default revise_keys the prefix is a mismatch
    report = compare_weights(net, prefixed, revise_keys=())
    assert len(report.unexpected) == len(prefixed)
    assert checkpoint_state_dict(dict(state_dict=prefixed)).keys() == \
        net.state_dict().keys()


def test_strict_load_names_file_and_keys_and_copies_nothing(tmp_path):
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict=_bad_state(net), meta={}), str(path))
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(net, str(path))
    message = str(info.value)
    assert message.startswith(f'checkpoint "{path}" does not fit the model: ')
    assert '1 unexpected key (extra.weight)' in message
    assert '1 missing key (fc.bias)' in message
    assert 'conv.weight: checkpoint 8x3x3x3, model 4x3x3x3' in message
    assert isinstance(info.value, ValueError)
    assert info.value.filename == str(path)
    assert info.value.report.missing == ('fc.bias', )
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_non_strict_loads_what_fits_and_warns(tmp_path, caplog):
    net = _net()
    bad = _bad_state(net)
    conv_before = net.conv.weight.detach().clone()
    fc_bias_before = net.fc.bias.detach().clone()
    path = tmp_path / 'other.pth'
    torch.save(bad, str(path))
    logger = logging.getLogger('test_weights')
    with caplog.at_level(logging.INFO, logger='test_weights'):
        report = load_weights(net, path, strict=False, logger=logger)
    assert torch.equal(net.fc.weight, bad['fc.weight'])
    assert torch.equal(net.conv.bias, bad['conv.bias'])
    assert torch.equal(net.bn.running_mean, bad['bn.running_mean'])
    assert torch.equal(net.conv.weight, conv_before)  # shape mismatch: kept
    assert torch.equal(net.fc.bias, fc_bias_before)  # missing: kept
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING]
    assert any(f'checkpoint "{path}" does not fit the model: 1 unexpected '
               'key (extra.weight)' in w and 'non-strict' in w
               for w in warnings), warnings
    infos = [r.getMessage() for r in caplog.records]
    assert summary_line(report, str(path)) in infos


def test_fitting_checkpoint_loads_strictly(tmp_path):
    src, dst = _net(), _net()
    with torch.no_grad():
        for p in src.parameters():
            p.add_(1)
    path = tmp_path / 'good.pth'
    torch.save(dict(state_dict={f'module.{k}': v
                                for k, v in src.state_dict().items()}),
               str(path))
    report = load_weights(nn.DataParallel(dst), str(path))
    assert report.fits
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key


def test_not_a_state_dict(tmp_path):
    path = tmp_path / 'list.pth'
    torch.save([torch.zeros(1)], str(path))
    with pytest.raises(CheckpointMismatchError,
                       match=f'checkpoint "{path}" has no state dict: it '
                       'holds a list'):
        load_weights(_net(), str(path))
    with pytest.raises(CheckpointMismatchError,
                       match='"state_dict" entry is a str'):
        load_weights(_net(), dict(state_dict='x'), filename='y.pth')


def test_dataset_meta_from_config():
    base = dict(type='BaseSegDataset', data_root='/nowhere',
                metainfo=dict(classes=('bg', 'cell'),
                              palette=[[0, 0, 0], [1, 2, 3]]))
    cfg = Config(dict(test_dataloader=dict(dataset=base)))
    meta, where = dataset_meta_from_config(cfg)
    assert meta == dict(classes=('bg', 'cell'),
                        palette=[[0, 0, 0], [1, 2, 3]])
    assert where == 'test_dataloader dataset (BaseSegDataset)'
    # wrappers are looked through, later loaders used when earlier have none
    cfg = Config(dict(
        test_dataloader=dict(dataset=dict(type='BaseSegDataset')),
        train_dataloader=dict(dataset=dict(type='RepeatDataset', times=2,
                                           dataset=base))))
    meta, where = dataset_meta_from_config(cfg)
    assert meta['classes'] == ('bg', 'cell')
    assert where.startswith('train_dataloader')
    # a registered dataset's own METAINFO
    cfg = Config(dict(test_dataloader=dict(dataset=dict(
        type='ISIC2016Dataset', data_root='/nowhere'))))
    meta, where = dataset_meta_from_config(cfg)
    assert meta['classes'] == ('background', 'lesion')
    assert 'ISIC2016Dataset' in where
    assert dataset_meta_from_config(Config(dict(model=dict()))) == (None,
                                                                    None)
