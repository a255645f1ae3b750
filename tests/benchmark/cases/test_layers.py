"""sgdc_mmseg.benchmark.cases.layers: the block and SGE cases; the C x C
SGE is the CxCSobelSGE reference, not a patched module."""
import torch

from sgdc_mmseg.benchmark.cases.layers import build_block, build_sge
from sgdc_mmseg.models.layers import CxCSobelSGE, sge, sobel_modulate

SGE_CASE = dict(kind='sge', group='g', device='cpu', B=1, low=(8, 8),
                high=(16, 2), channels=8)


def test_cxc_case_builds_the_reference_and_patches_nothing():
    torch.manual_seed(0)
    step, cleanup, extra = build_sge(dict(SGE_CASE, impl='cxc',
                                          pass_='fwd+bwd'), 'cpu')
    assert sge.sobel_modulate is sobel_modulate
    assert sge.SGE.modulate is sobel_modulate
    module = step.__closure__  # the module the step runs
    modules = [c.cell_contents for c in module
               if isinstance(c.cell_contents, torch.nn.Module)]
    assert [type(m) for m in modules] == [CxCSobelSGE]
    assert step() is None and extra == {}
    assert modules[0].s1_proj.conv.weight.grad is not None
    cleanup()
    assert modules[0].s1_proj.conv.weight.grad is None


def test_channel_sum_and_cxc_cases_compute_the_same():
    outs = []
    for impl in ('channel-sum', 'cxc'):
        torch.manual_seed(0)
        step, _, _ = build_sge(dict(SGE_CASE, impl=impl, pass_='fwd'), 'cpu')
        outs.append(step())
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_block_case_eval_forward():
    step, _, _ = build_block(dict(kind='block', impl='reference',
                                  pass_='fwd', group='g', B=1, C=8, H=5, W=4,
                                  guide=4), 'cpu')
    assert step().shape == (1, 8, 5, 4)
