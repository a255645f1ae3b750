"""sgdc_mmseg.benchmark.cases.segmentors: the train-step case builder
(plain and under torch.compile, as mmengine's compile=True wraps
train_step) and its error for an unknown impl."""
import pytest
import torch

from sgdc_mmseg.benchmark.cases.segmentors import build_train_step


def _case(impl):
    return dict(kind='train_step', impl=impl, B=1, size=32)


def test_compiled_impl_wraps_train_step(monkeypatch):
    compiled = []

    def fake_compile(fn, **kwargs):
        compiled.append(fn)
        return fn

    monkeypatch.setattr(torch, 'compile', fake_compile)
    step, _, extra = build_train_step(_case('upernet_r50+compile'), 'cpu')
    assert len(compiled) == 1 and extra == {}
    assert compiled[0].__name__ == 'train_step'
    build_train_step(_case('upernet_r50'), 'cpu')
    assert len(compiled) == 1     # the plain impl is not compiled


def test_unknown_impl_is_named():
    with pytest.raises(ValueError, match="unknown impl 'fcn\\+compile'"):
        build_train_step(_case('fcn+compile'), 'cpu')
