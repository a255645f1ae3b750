"""Downloaded checkpoints go through the safe loader too
(sgdc_mmseg.compat.checkpoint: ``load_url`` and the re-registered schemes).

A real ``http.server`` on 127.0.0.1 serves the files; torch's download cache
is pointed at a temporary ``TORCH_HOME`` and mmengine's home at a temporary
``MMENGINE_HOME`` (whose ``open_mmlab.json`` is how mmengine lets users add
``open-mmlab://`` names).
"""
import functools
import http.server
import json
import os
import os.path as osp
import pickle
import sys
import threading
import types

import pytest
import torch

import sgdc_mmseg  # noqa: F401  (applies the compat layer)
from sgdc_mmseg.compat import checkpoint as safe_ckpt
from sgdc_mmseg.compat.checkpoint import (CorruptCheckpointError,
                                          UntrustedCheckpointError)

from mmengine.logging import MessageHub  # noqa: E402
from mmengine.model import BaseModule  # noqa: E402
from mmengine.runner import (CheckpointLoader, load_checkpoint,  # noqa: E402
                             save_checkpoint)
from mmengine.runner import checkpoint as mm_ckpt  # noqa: E402


class _SystemCall:
    """Unpickles as ``os.system('touch <marker>')``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class Toy(BaseModule):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.linear = torch.nn.Linear(3, 2)
        self.bn = torch.nn.BatchNorm1d(2)


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests = None  # set per server

    def do_GET(self):
        self.requests.append(self.path)
        return super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path, monkeypatch):
    """``(base_url, folder, requests, marker)``: a local HTTP server serving
    ``folder`` with ``evil.pth`` (creates ``marker`` when fully unpickled)
    and ``good.pth`` (written by mmengine's ``save_checkpoint``, with a
    message hub like a Runner's); temporary TORCH_HOME and MMENGINE_HOME."""
    folder = tmp_path / 'www'
    folder.mkdir()
    marker = tmp_path / 'MARKER'
    torch.save({'state_dict': {}, 'meta': _SystemCall(marker)},
               str(folder / 'evil.pth'))
    torch.manual_seed(0)
    model = Toy()
    hub = MessageHub.get_instance('test_checkpoint_remote')
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('iter', 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    save_checkpoint(
        dict(meta=dict(iter=1, epoch=0), state_dict=model.state_dict(),
             message_hub=hub.state_dict(), optimizer=optimizer.state_dict()),
        str(folder / 'good.pth'))
    requests = []
    handler = type('Handler', (_Handler, ), dict(requests=requests))
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine_home'))
    try:
        yield (f'http://127.0.0.1:{server.server_port}', folder, requests,
               marker, model)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _cache_dir(tmp_path):
    return tmp_path / 'torch_home' / 'hub' / 'checkpoints'


def _assert_refused(load, url, cached, marker):
    with pytest.raises(UntrustedCheckpointError) as info:
        load()
    message = str(info.value)
    assert url in message and str(cached) in message
    assert 'posix.system' in message or 'nt.system' in message
    assert 'nothing in it was executed' in message
    assert isinstance(info.value, pickle.UnpicklingError)
    assert info.value.filename == url
    assert not marker.exists()


def test_http_malicious_is_refused_and_good_loads(served, tmp_path):
    base, _, requests, marker, model = served
    url = f'{base}/evil.pth'
    cached = _cache_dir(tmp_path) / 'evil.pth'
    _assert_refused(lambda: CheckpointLoader.load_checkpoint(url), url,
                    cached, marker)
    _assert_refused(lambda: load_checkpoint(Toy(), url), url, cached, marker)
    # torch's cache is used: downloaded once, then the cached copy is reused
    assert cached.is_file() and requests == ['/evil.pth']

    good = f'{base}/good.pth'
    ckpt = CheckpointLoader.load_checkpoint(good, map_location='cpu')
    assert ckpt['meta']['iter'] == 1
    assert 'train/loss' in ckpt['message_hub']['log_scalars']
    target = Toy()
    load_checkpoint(target, good, map_location='cpu', strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    assert (_cache_dir(tmp_path) / 'good.pth').is_file()
    assert requests == ['/evil.pth', '/good.pth']  # second load: cached


def test_init_cfg_pretrained_from_url(served):
    base, _, _, marker, model = served
    evil = Toy(init_cfg=dict(type='Pretrained', checkpoint=f'{base}/evil.pth'))
    with pytest.raises(UntrustedCheckpointError, match='evil.pth'):
        evil.init_weights()
    assert not marker.exists()
    for prefix in (None, 'linear.'):
        cfg = dict(type='Pretrained', checkpoint=f'{base}/good.pth')
        if prefix:
            # _load_checkpoint_with_prefix: keys under "linear." into a Linear
            target = torch.nn.Linear(3, 2)
            from mmengine.model.weight_init import PretrainedInit
            PretrainedInit(cfg['checkpoint'], prefix=prefix)(target)
            assert torch.equal(target.weight, model.linear.weight)
        else:
            target = Toy(init_cfg=cfg)
            target.init_weights()
            assert torch.equal(target.linear.weight, model.linear.weight)


def test_open_mmlab_scheme(served, tmp_path):
    base, folder, _, marker, model = served
    home = tmp_path / 'mmengine_home'
    home.mkdir()
    local_evil = home / 'local_evil.pth'
    local_evil.write_bytes((folder / 'evil.pth').read_bytes())
    (home / 'open_mmlab.json').write_text(json.dumps({
        'sgdc_test/evil': f'{base}/evil.pth',
        'sgdc_test/good': f'{base}/good.pth',
        'sgdc_test/local_evil': 'local_evil.pth',
    }))
    for prefix in ('open-mmlab://', 'openmmlab://'):
        with pytest.raises(UntrustedCheckpointError) as info:
            CheckpointLoader.load_checkpoint(f'{prefix}sgdc_test/evil')
        assert f'{base}/evil.pth' in str(info.value)
        ckpt = CheckpointLoader.load_checkpoint(f'{prefix}sgdc_test/good')
        assert torch.equal(ckpt['state_dict']['linear.weight'],
                           model.linear.weight)
    # a table entry that is a file under MMENGINE_HOME
    with pytest.raises(UntrustedCheckpointError) as info:
        CheckpointLoader.load_checkpoint('open-mmlab://sgdc_test/local_evil')
    assert str(local_evil) in str(info.value)
    with pytest.raises(KeyError, match='no_such_model'):
        CheckpointLoader.load_checkpoint('open-mmlab://no_such_model')
    # the same through a model's init_cfg
    evil = Toy(init_cfg=dict(type='Pretrained',
                             checkpoint='open-mmlab://sgdc_test/evil'))
    with pytest.raises(UntrustedCheckpointError):
        evil.init_weights()
    assert not marker.exists()


def test_torchvision_and_mmcls_schemes(served, monkeypatch):
    base, _, _, marker, model = served
    table = {'toy': f'{base}/evil.pth', 'good': f'{base}/good.pth'}
    # the URL tables (torchvision is not installed here); transport is real
    monkeypatch.setattr(mm_ckpt, 'get_torchvision_models', lambda: table)
    monkeypatch.setattr(mm_ckpt, 'get_mmcls_models', lambda: table)
    for name in ('torchvision://toy', 'modelzoo://toy', 'mmcls://toy'):
        with pytest.raises(UntrustedCheckpointError, match='evil.pth'):
            CheckpointLoader.load_checkpoint(name)
    ckpt = CheckpointLoader.load_checkpoint('torchvision://good')
    assert torch.equal(ckpt['state_dict']['linear.weight'],
                       model.linear.weight)
    # mmcls:// keeps only "backbone." weights (there are none in good.pth)
    assert CheckpointLoader.load_checkpoint('mmcls://good') == dict(
        state_dict={})
    assert not marker.exists()


def test_truncated_download_names_url_and_cache(served, tmp_path):
    base, folder, _, _, _ = served
    data = (folder / 'good.pth').read_bytes()
    (folder / 'cut.pth').write_bytes(data[:len(data) // 2])
    url = f'{base}/cut.pth'
    with pytest.raises(CorruptCheckpointError) as info:
        CheckpointLoader.load_checkpoint(url)
    message = str(info.value)
    assert url in message and 'truncated' in message
    assert str(_cache_dir(tmp_path) / 'cut.pth') in message
    assert 'delete it to download again' in message


def test_download_failure_stays_an_oserror(served):
    base = served[0]
    with pytest.raises(OSError, match='404'):
        CheckpointLoader.load_checkpoint(f'{base}/missing.pth')


def test_pavi_and_ceph_schemes(served, monkeypatch):
    """No pavi/petrel here: stand-in clients hand over the served bytes."""
    _, folder, _, marker, model = served
    import mmengine.fileio.io as fileio_io

    class Model:
        def __init__(self, path):
            self.name = osp.basename(path)

        def download(self, dst):
            with open(dst, 'wb') as f:
                f.write((folder / self.name).read_bytes())

    pavi = types.ModuleType('pavi')
    pavi.modelcloud = types.SimpleNamespace(get=Model)
    monkeypatch.setitem(sys.modules, 'pavi', pavi)

    class Client:
        def __init__(self, conf_path=None, enable_mc=True):
            pass

        def Get(self, path):  # noqa: N802 (petrel's name)
            return (folder / osp.basename(path)).read_bytes()

    petrel = types.ModuleType('petrel_client')
    petrel.client = types.SimpleNamespace(Client=Client)
    monkeypatch.setitem(sys.modules, 'petrel_client', petrel)
    monkeypatch.setitem(sys.modules, 'petrel_client.client', petrel.client)
    monkeypatch.setattr(fileio_io, 'backend_instances', {})
    for uri in ('pavi://proj/evil.pth', 's3://bucket/evil.pth',
                'petrel://bucket/evil.pth', 'cluster:s3://bucket/evil.pth'):
        with pytest.raises(UntrustedCheckpointError) as info:
            CheckpointLoader.load_checkpoint(uri)
        assert uri in str(info.value) and info.value.filename == uri
        good = uri.replace('evil', 'good')
        ckpt = CheckpointLoader.load_checkpoint(good)
        assert torch.equal(ckpt['state_dict']['linear.weight'],
                           model.linear.weight)
    assert not marker.exists()


def test_every_registered_scheme_is_covered():
    """Each scheme's loader is sgdc_mmseg's or unpickles via load_url."""
    import mmengine.utils.dl_utils as dl_utils
    own = {safe_ckpt.load_from_local, safe_ckpt.load_from_pavi,
           safe_ckpt.load_from_ceph, safe_ckpt.load_from_openmmlab}
    via_load_url = {mm_ckpt.load_from_http, mm_ckpt.load_from_torchvision,
                    mm_ckpt.load_from_mmcls}
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader in own | via_load_url, prefix
    assert mm_ckpt.load_url is safe_ckpt.load_url
    assert dl_utils.load_url is safe_ckpt.load_url
    assert mm_ckpt.load_from_local is safe_ckpt.load_from_local
    assert mm_ckpt.load_from_openmmlab is safe_ckpt.load_from_openmmlab
