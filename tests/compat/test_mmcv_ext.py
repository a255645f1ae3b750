"""mmseg under mmcv-lite (sgdc_mmseg.compat.mmcv_ext)."""
import subprocess
import sys

import pytest

import sgdc_mmseg  # noqa: F401
from helpers import tool_env
from sgdc_mmseg.compat.mmcv_ext import (BUILD_HINT, EXT_NAME,
                                        MissingMMCVOpError, has_compiled_ops,
                                        install_missing_ext)

lite_only = pytest.mark.skipif(
    has_compiled_ops(), reason='full mmcv with compiled ops is installed')
full_only = pytest.mark.skipif(
    not has_compiled_ops(), reason='needs full mmcv (compiled ops)')


def _python(code, **env):
    return subprocess.run([sys.executable, '-c', code],
                          env=dict(tool_env(), **env),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=120)


@lite_only
def test_mmseg_models_import_under_lite():
    import mmseg.models  # noqa: F401
    from mmseg.registry import MODELS
    assert MODELS.get('EncoderDecoder') is not None
    assert sys.modules[EXT_NAME].is_sgdc_mmseg_placeholder


@lite_only
def test_install_is_idempotent_and_never_raises():
    assert install_missing_ext() is True
    assert install_missing_ext() is True
    import mmcv.ops  # noqa: F401
    import importlib.util
    assert importlib.util.find_spec(EXT_NAME) is not None  # no ValueError


@lite_only
def test_missing_op_raises_with_name_and_hint():
    import torch
    from mmcv.ops import nms
    boxes = torch.tensor([[0., 0., 1., 1.], [0., 0., 1., 1.]])
    scores = torch.tensor([0.9, 0.8])
    with pytest.raises(MissingMMCVOpError) as info:
        nms(boxes, scores, 0.5)
    message = str(info.value)
    assert '"nms"' in message
    assert BUILD_HINT in message and 'mmcv-lite' in message
    assert isinstance(info.value, RuntimeError)


@lite_only
def test_info_functions_answer():
    from mmcv.ops import get_compiler_version, get_compiling_cuda_version
    assert 'mmcv-lite' in get_compiler_version()
    assert 'mmcv-lite' in get_compiling_cuda_version()
    from mmengine.utils.dl_utils import collect_env, mmcv_full_available
    assert mmcv_full_available() is False
    collect_env()  # what a Runner logs at start-up


@lite_only
def test_fresh_interpreter_sgdc_before_mmseg_models():
    proc = _python('import sgdc_mmseg, mmseg.models, mmcv.ops; '
                   'from mmseg.registry import MODELS; '
                   'print(MODELS.get("FCNHead").__name__)')
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.strip().endswith('FCNHead')


@lite_only
def test_fresh_interpreter_without_compat_fails():
    # Documents why the compat layer exists (with the start-up hook that
    # tools/install.py installs switched off: tests/compat/test_startup_hook.py
    # covers the hook).
    proc = _python('import mmseg.models', SGDC_MMSEG_STARTUP_HOOK='0')
    assert proc.returncode != 0
    assert 'mmcv._ext' in proc.stdout or '_ext' in proc.stdout


@full_only
def test_full_mmcv_is_left_alone():
    assert install_missing_ext() is False
    import mmcv._ext
    assert not getattr(mmcv._ext, 'is_sgdc_mmseg_placeholder', False)
