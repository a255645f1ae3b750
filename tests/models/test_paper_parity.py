"""sgdc_mmseg.models.paper_parity: the parity check against a checkout of
the paper's code (here fake checkouts wrapping our layers under the paper's
names and signatures: an exact copy passes, a perturbed one fails)."""
import torch

from sgdc_mmseg.models.paper_parity import (check_paper_parity, max_diff,
                                            randomize_bn)

FAKE_SGE = '''
from sgdc_mmseg.models.layers import SGE as _Ours


class SGE(_Ours):
    def __init__(self, s4_in, s1_in, mid, guide_ch, bottleneck):
        super().__init__(s1_in, s4_in, channels=bottleneck,
                         fuse_channels=mid, guide_channels=guide_ch)

    def forward(self, s4, s1):
        edge, guide = super().forward(s1, s4)
        return edge * SCALE, guide


SCALE = {scale}
'''
FAKE_SGDC = '''
from timm.models.layers import DropPath  # noqa: F401 (as the paper's code)
from sgdc_mmseg.models.layers import SGDC as _Ours

PATTERN = '(hgt*wdt)'


class SGDC(_Ours):
    def __init__(self, dim, guide_ch, num_heads, kernel_size, ls_init=1e-6):
        assert PATTERN == '(hgt wdt)', 'the einops fix was not applied'
        super().__init__(dim, guide_ch, num_heads, kernel_size,
                         layer_scale_init=ls_init)
'''


def fake_checkout(root, scale=1.0):
    (root / 'SGE.py').write_text(FAKE_SGE.format(scale=scale))
    (root / 'sgdc.py').write_text(FAKE_SGDC)
    return str(root)


def test_an_identical_checkout_passes(tmp_path):
    lines = []
    assert check_paper_parity(fake_checkout(tmp_path), log=lines.append)
    assert len(lines) == 2 * 2 * 2 + 1  # modules x dtypes x modes, verdict
    assert lines[0].startswith('SGE   torch.float32  train max|diff| ')
    assert lines[-1] == ('PASS: largest fp32 relative difference 0.00e+00 '
                         '(rtol 1e-05), largest fp64 difference 0.00e+00 '
                         '(atol 1e-10)')


def test_a_different_output_fails(tmp_path):
    lines = []
    assert not check_paper_parity(fake_checkout(tmp_path, scale=1.001),
                                  log=lines.append)
    verdict = lines[-1].split()
    assert verdict[:5] == ['FAIL:', 'largest', 'fp32', 'relative',
                           'difference']
    assert 9e-4 < float(verdict[5]) < 1.1e-3  # the 0.1 % scale


def test_max_diff_and_randomize_bn():
    a, b = torch.tensor([1., 2.]), torch.tensor([1., 4.])
    assert max_diff([(a, b)]) == (2.0, 0.5)
    bn = torch.nn.Sequential(torch.nn.BatchNorm2d(3))
    randomize_bn(bn, torch.Generator().manual_seed(0))
    assert not torch.equal(bn[0].running_var, torch.ones(3))
