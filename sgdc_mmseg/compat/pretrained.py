"""ImageNet starts of backbones: a clear error when they cannot be fetched.

The paper-protocol configs start their backbones from the ImageNet weights
that mmseg's own configs name, written as mmseg writes them: the backbone's
``init_cfg=dict(type='Pretrained', checkpoint=...)`` with
``open-mmlab://resnet50_v1c`` (ResNet-50-V1c; mmseg's ``pretrained=`` turns
into exactly this ``init_cfg``) or the ``https://download.openmmlab.com/...``
URLs of mmseg's SegFormer (MiT) and Swin configs. mmengine loads them when the
model's weights are initialised (``Runner.train`` calls ``init_weights``
before the first iteration; building a model with ``MODELS.build`` does not
load anything) through ``CheckpointLoader``, i.e. through sgdc_mmseg's safe
loader (:mod:`.checkpoint`): ``open-mmlab://`` names are looked up in
mmengine's table (``MMENGINE_HOME/open_mmlab.json`` may override entries),
the file is downloaded once by torch into ``torch.hub.get_dir()/checkpoints``
(``$TORCH_HOME/hub/checkpoints``), reused afterwards, and unpickled with
``weights_only=True``.

Without network access torch's download fails with a bare urllib error
("<urlopen error [Errno 111] Connection refused>") that names neither the
file nor what to do. :func:`install_pretrained_errors` (run once by
``import sgdc_mmseg``) wraps mmengine's ``PretrainedInit`` so that a failed
download of a checkpoint that is not in the cache raises
:class:`PretrainedUnavailableError` (an :class:`OSError`, raised from the
original error) naming the checkpoint as the config writes it, its URL, the
cache file torch would reuse, and the ways out:

* a local copy of the weights: ``--cfg-options KEY=/path/to.pth``, where KEY
  is ``model.backbone.init_cfg.checkpoint`` for an mmseg backbone that got
  the checkpoint from its ``init_cfg`` (every config of sgdc_mmseg) and
  ``model.pretrained`` for a ResNet that got it from ``pretrained=``
  (mmseg's ``_base_/models``);
* copying the file to the cache path named in the message;
* training from scratch: the config's ``-scratch`` twin (e.g.
  ``sgdc_r50-scratch_1xb8-20k_isic2016-256x256.py``) where configs/sgdc has
  one, or ``--cfg-options model.backbone.init_cfg=None``.

Only download failures (:class:`OSError`, which includes urllib's
``URLError``/``HTTPError``, and ``http.client.HTTPException``) of a
checkpoint that resolves to an ``http(s)`` URL are translated; broken or
untrusted files keep :mod:`.checkpoint`'s errors, local paths keep
``FileNotFoundError``. torch's download has no timeout of its own: a network
that drops packets instead of refusing them fails only when the operating
system gives up.
"""
import http.client
import os.path as osp
from urllib.parse import urlparse

__all__ = ['PretrainedUnavailableError', 'checkpoint_url', 'cached_file',
           'config_key', 'install_pretrained_errors']

_INSTALLED = False
_ORIGINAL_CALL = None


class PretrainedUnavailableError(OSError):
    """Pretrained weights named by a config could not be downloaded.

    Attributes:
        checkpoint (str): The checkpoint as the config names it.
        url (str): The URL it resolves to.
        cached (str): Where torch would keep (and reuse) the download.
        key (str): The config key that takes a local file instead.
    """

    def __init__(self, message, checkpoint, url, cached, key):
        super().__init__(message)
        self.checkpoint = checkpoint
        self.url = url
        self.cached = cached
        self.key = key


def checkpoint_url(checkpoint):
    """The ``http(s)`` URL that ``checkpoint`` downloads from, else ``None``.

    ``open-mmlab://``/``openmmlab://`` names are resolved with mmengine's
    tables (its deprecated names, then ``get_external_models``, which
    includes ``MMENGINE_HOME/open_mmlab.json``); a table entry that is not a
    URL is a local file under mmengine's home (``None``). Other schemes and
    local paths give ``None``.
    """
    if not isinstance(checkpoint, str):
        return None
    if checkpoint.startswith(('http://', 'https://')):
        return checkpoint
    for prefix in ('open-mmlab://', 'openmmlab://'):
        if checkpoint.startswith(prefix):
            from mmengine.runner import checkpoint as mm_ckpt
            name = checkpoint[len(prefix):]
            name = mm_ckpt.get_deprecated_model_names().get(name, name)
            url = mm_ckpt.get_external_models().get(name)
            if isinstance(url, str) and url.startswith(
                    ('http://', 'https://')):
                return url
    return None


def cached_file(url):
    """Where torch's hub download of ``url`` is kept (and reused)."""
    import torch
    return osp.join(torch.hub.get_dir(), 'checkpoints',
                    osp.basename(urlparse(url).path))


def config_key(module, checkpoint):
    """The ``--cfg-options`` key that sets ``module``'s checkpoint.

    ``model.pretrained`` when the module (an mmseg ResNet) got it from
    ``pretrained=``; ``model.backbone.init_cfg.checkpoint`` for an mmseg
    backbone; else ``init_cfg.checkpoint`` of the module's own config.
    """
    if getattr(module, 'pretrained', None) == checkpoint:
        return 'model.pretrained'
    try:
        from mmseg.models import backbones
        is_backbone = type(module).__name__ in backbones.__all__
    except ImportError:  # pragma: no cover (mmseg is a dependency)
        is_backbone = False
    if is_backbone:
        return 'model.backbone.init_cfg.checkpoint'
    return f'<the key of {type(module).__name__}>.init_cfg.checkpoint'


def unavailable_error(module, checkpoint, url, error):
    """The :class:`PretrainedUnavailableError` for a failed download."""
    cached = cached_file(url)
    key = config_key(module, checkpoint)
    named = checkpoint if checkpoint == url else f'{checkpoint} ({url})'
    message = (
        f'Cannot download the pretrained weights {named} of '
        f'{type(module).__name__}: {error}. The config starts this '
        'backbone from them, so it needs network access once (the file '
        f'is then kept in "{cached}" and reused). Without network access, '
        'either use a local copy of the file: --cfg-options '
        f'{key}=/path/to.pth (or copy it to "{cached}"); or train from '
        "scratch: the config's -scratch twin (e.g. configs/sgdc/"
        'sgdc_r50-scratch_1xb8-20k_isic2016-256x256.py for '
        'sgdc_r50_1xb8-20k_isic2016-256x256.py) or --cfg-options '
        'model.backbone.init_cfg=None.')
    return PretrainedUnavailableError(message, checkpoint, url, cached, key)


def _pretrained_call(self, module):
    """``PretrainedInit.__call__`` with a clear error for failed downloads.
    """
    try:
        return _ORIGINAL_CALL(self, module)
    except (OSError, http.client.HTTPException) as err:
        if isinstance(err, (PretrainedUnavailableError, FileNotFoundError)):
            raise
        url = checkpoint_url(self.checkpoint)
        if url is None or osp.isfile(cached_file(url)):
            raise
        raise unavailable_error(module, self.checkpoint, url, err) from err


def install_pretrained_errors():
    """Wrap mmengine's ``PretrainedInit`` (once; later calls do nothing)."""
    global _INSTALLED, _ORIGINAL_CALL
    if _INSTALLED:
        return
    from mmengine.model.weight_init import PretrainedInit
    _ORIGINAL_CALL = PretrainedInit.__call__
    PretrainedInit.__call__ = _pretrained_call
    _INSTALLED = True
