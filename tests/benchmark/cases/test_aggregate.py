"""sgdc_mmseg.benchmark.cases.aggregate: the 'cpp' case skips with the
backend's own reason when its kernel cannot run, and computes what the
reference computes when it can."""
import pytest
import torch

from sgdc_mmseg.benchmark.cases.aggregate import build_aggregate
from sgdc_mmseg.benchmark.harness import SkipCase
from sgdc_mmseg.ops.backends import cpp
from sgdc_mmseg.ops.checks import Verdict

CASE = dict(kind='aggregate', pass_='fwd+bwd', group='g', device='cpu', B=1,
            C=4, H=6, W=5, k=3, heads=2, dtype='float64')


def test_cpp_case_skips_with_the_backends_reason(monkeypatch):
    monkeypatch.setattr(cpp, 'can_run',
                        lambda device, dtype: Verdict('no C++ compiler'))
    with pytest.raises(SkipCase, match='^no C\\+\\+ compiler$'):
        build_aggregate(dict(CASE, impl='cpp'), torch.device('cpu'))


@pytest.mark.skipif(not cpp.extension_ready(),
                    reason='the cpp extension cannot be built here')
def test_cpp_case_matches_the_reference():
    grads = {}
    for impl in ('reference', 'cpp'):
        torch.manual_seed(0)
        step, _, extra = build_aggregate(dict(CASE, impl=impl),
                                         torch.device('cpu'))
        grads[impl] = step()
        assert extra['bytes'] > 0
    for ref, got in zip(grads['reference'], grads['cpp']):
        torch.testing.assert_close(got, ref)
