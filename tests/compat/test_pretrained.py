"""ImageNet starts (sgdc_mmseg.compat.pretrained): the shipped config's
``open-mmlab://resnet50_v1c`` start downloaded end to end over loopback HTTP
(mmengine's ``open-mmlab://`` table via ``MMENGINE_HOME/open_mmlab.json``,
torch's hub cache in a temporary ``TORCH_HOME``, the safe unpickler, the
weights really in the model), and the error when the download fails.

The served weights are those of a depth-reduced ResNet-18-V1c at 1/8 width:
the config's backbone with only its size changed, same ``init_cfg``.
"""
import functools
import http.server
import json
import os
import socket
import threading

import pytest
import torch
from mmengine.config import Config

import sgdc_mmseg  # noqa: F401  (applies the compat layer)
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from sgdc_mmseg.compat.checkpoint import UntrustedCheckpointError
from sgdc_mmseg.compat.pretrained import (PretrainedUnavailableError,
                                          checkpoint_url)

from helpers import REPO_ROOT

register_all_modules()
CONFIG = os.path.join(REPO_ROOT, 'configs', 'sgdc',
                      'sgdc_r50_1xb8-20k_isic2016-256x256.py')
SMALL = dict(depth=18, base_channels=8, stem_channels=8)


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests = None  # set per server

    def do_GET(self):
        self.requests.append(self.path)
        return super().do_GET()

    def log_message(self, *args):
        pass


class _SystemCall:
    """Unpickles as ``os.system('touch <marker>')``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@functools.lru_cache(maxsize=None)
def _backbone_cfg():
    """The shipped config's backbone (its init_cfg untouched), smaller."""
    backbone = Config.fromfile(CONFIG).model.backbone.to_dict()
    assert backbone['init_cfg'] == dict(
        type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')
    backbone.update(SMALL)
    return backbone


def _closed_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path, monkeypatch):
    """``(base_url, weights, requests, marker)``: a local HTTP server with
    ``resnet50_v1c.pth`` (a small backbone's state dict, as mmseg's
    ImageNet checkpoints) and ``evil.pth``; temporary TORCH_HOME and
    MMENGINE_HOME."""
    folder = tmp_path / 'www'
    folder.mkdir()
    torch.manual_seed(1)
    cfg = dict(_backbone_cfg(), init_cfg=None)
    weights = MODELS.build(cfg).state_dict()
    torch.save(weights, str(folder / 'resnet50_v1c.pth'))
    marker = tmp_path / 'MARKER'
    torch.save({'state_dict': {}, 'meta': _SystemCall(marker)},
               str(folder / 'evil.pth'))
    requests = []
    handler = type('Handler', (_Handler, ), dict(requests=requests))
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine_home'))
    try:
        yield (f'http://127.0.0.1:{server.server_port}', weights, requests,
               marker)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _open_mmlab_table(tmp_path, **names):
    home = tmp_path / 'mmengine_home'
    home.mkdir(exist_ok=True)
    (home / 'open_mmlab.json').write_text(json.dumps(names))


def _fresh_backbone(**overrides):
    torch.manual_seed(2)
    return MODELS.build(dict(_backbone_cfg(), **overrides))


def test_config_start_downloads_once_and_loads_the_weights(served, tmp_path):
    base, weights, requests, _ = served
    url = f'{base}/resnet50_v1c.pth'
    _open_mmlab_table(tmp_path, resnet50_v1c=url)
    assert checkpoint_url('open-mmlab://resnet50_v1c') == url
    backbone = _fresh_backbone()
    stem = backbone.state_dict()['stem.0.weight']
    assert not torch.equal(stem, weights['stem.0.weight'])  # random start
    backbone.init_weights()
    cached = tmp_path / 'torch_home' / 'hub' / 'checkpoints' / \
        'resnet50_v1c.pth'
    assert cached.is_file()
    assert requests == ['/resnet50_v1c.pth']
    loaded = backbone.state_dict()
    for key in ('stem.0.weight', 'layer4.1.conv2.weight',
                'stem.1.running_mean'):
        assert torch.equal(loaded[key], weights[key]), key
    # a second model reuses torch's cache: no second request
    again = _fresh_backbone()
    again.init_weights()
    assert requests == ['/resnet50_v1c.pth']
    assert torch.equal(again.state_dict()['stem.0.weight'],
                       weights['stem.0.weight'])


def test_pretrained_download_is_unpickled_safely(served, tmp_path):
    base, _, _, marker = served
    _open_mmlab_table(tmp_path, resnet50_v1c=f'{base}/evil.pth')
    with pytest.raises(UntrustedCheckpointError, match='evil.pth'):
        _fresh_backbone().init_weights()
    assert not marker.exists()


def test_offline_config_start_names_url_key_and_scratch_config(tmp_path,
                                                                monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine_home'))
    url = f'http://127.0.0.1:{_closed_port()}/resnet50_v1c.pth'
    _open_mmlab_table(tmp_path, resnet50_v1c=url)
    backbone = _fresh_backbone()
    with pytest.raises(PretrainedUnavailableError) as info:
        backbone.init_weights()
    err = info.value
    message = str(err)
    assert isinstance(err, OSError)
    assert f'open-mmlab://resnet50_v1c ({url})' in message
    assert ('--cfg-options model.backbone.init_cfg.checkpoint=/path/to.pth'
            in message)
    assert 'sgdc_r50-scratch_1xb8-20k_isic2016-256x256.py' in message
    assert 'model.backbone.init_cfg=None' in message
    cached = str(tmp_path / 'torch_home' / 'hub' / 'checkpoints' /
                 'resnet50_v1c.pth')
    assert err.cached == cached and cached in message
    assert (err.url, err.key) == (url, 'model.backbone.init_cfg.checkpoint')
    assert 'Connection refused' in message  # urllib's reason is kept


def test_offline_url_start_and_the_ways_out(tmp_path, monkeypatch):
    """A plain URL (as the MiT/Swin configs have), offline; then the ways
    out the message names: a local file for the checkpoint key, or the
    file copied into torch's cache (no download is tried)."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    url = f'http://127.0.0.1:{_closed_port()}/mit_b0_20220624-7e0fe6dd.pth'
    init = dict(type='Pretrained', checkpoint=url)
    with pytest.raises(PretrainedUnavailableError) as info:
        _fresh_backbone(init_cfg=init).init_weights()
    message = str(info.value)
    assert message.startswith(f'Cannot download the pretrained weights {url} '
                              'of ResNetV1c')
    torch.manual_seed(3)
    weights = _fresh_backbone(init_cfg=None).state_dict()
    local = tmp_path / 'local.pth'
    torch.save(weights, str(local))
    backbone = _fresh_backbone(
        init_cfg=dict(type='Pretrained', checkpoint=str(local)))
    backbone.init_weights()
    assert torch.equal(backbone.state_dict()['stem.0.weight'],
                       weights['stem.0.weight'])
    assert not os.path.exists(info.value.cached)  # nothing half-written
    os.makedirs(os.path.dirname(info.value.cached), exist_ok=True)
    torch.save(weights, info.value.cached)
    backbone = _fresh_backbone(init_cfg=init)
    backbone.init_weights()
    assert torch.equal(backbone.state_dict()['layer1.0.conv1.weight'],
                       weights['layer1.0.conv1.weight'])


def test_pretrained_argument_names_model_pretrained(tmp_path, monkeypatch):
    """mmseg's own style (``model.pretrained``, passed to the ResNet as
    ``pretrained=``) gets that key in the message."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    url = f'http://127.0.0.1:{_closed_port()}/resnet50_v1c.pth'
    backbone = _fresh_backbone(init_cfg=None, pretrained=url)
    with pytest.raises(PretrainedUnavailableError,
                       match='--cfg-options model.pretrained=/path/to.pth'):
        backbone.init_weights()


def test_missing_local_file_is_not_a_download_error(tmp_path):
    backbone = _fresh_backbone(init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'none.pth')))
    with pytest.raises(FileNotFoundError, match='none.pth'):
        backbone.init_weights()
