"""FixedSobel / sobel_modulate: the channel-sum shortcut against the paper's
``C x C`` convolution (``cxc_sobel_modulate``, ``CxCSobelSGE``), state-dict
layout, checkpoint loading, finite gradients."""
import pytest
import torch
import torch.nn.functional as F

import sgdc_mmseg  # noqa: F401
from sgdc_mmseg.models.layers import (SGE, CxCSobelSGE, FixedSobel,
                                     cxc_sobel_modulate, sobel_modulate)

KX = torch.tensor([[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]])


def test_state_dict_is_the_paper_buffer():
    m = FixedSobel(5, 'x')
    sd = m.state_dict()
    assert list(sd) == ['weight'] and sd['weight'].shape == (5, 5, 3, 3)
    assert torch.equal(sd['weight'], KX.expand(5, 5, 3, 3))
    assert torch.equal(FixedSobel(5, 'y').weight[2, 4], KX.t())
    assert not list(m.parameters())


@pytest.mark.parametrize('dtype,tol', [(torch.float32, 1e-5),
                                       (torch.float64, 1e-12)])
def test_forward_equals_cxc_conv(dtype, tol):
    torch.manual_seed(0)
    x = torch.randn(2, 6, 7, 5, dtype=dtype)
    for axis in ('x', 'y'):
        m = FixedSobel(6, axis).to(dtype)
        out = m(x)
        assert out.shape == x.shape
        ref = F.conv2d(x, m.weight, padding=1)
        torch.testing.assert_close(out, ref, atol=tol, rtol=tol)


@pytest.mark.parametrize('dtype,tol', [(torch.float32, 1e-5),
                                       (torch.float64, 1e-12)])
def test_modulate_values_and_gradients_equal_cxc(dtype, tol):
    torch.manual_seed(0)
    sx, sy = FixedSobel(8, 'x').to(dtype), FixedSobel(8, 'y').to(dtype)
    x = torch.randn(2, 8, 9, 6, dtype=dtype, requires_grad=True)
    out = sobel_modulate(x, sx, sy)
    ref = cxc_sobel_modulate(x, sx, sy)
    torch.testing.assert_close(out, ref, atol=tol, rtol=tol)
    g = torch.randn_like(out)
    (gx, ) = torch.autograd.grad(out, x, g)
    (rx, ) = torch.autograd.grad(ref, x, g)
    torch.testing.assert_close(gx, rx, atol=tol, rtol=tol)


@pytest.mark.parametrize('mode', ['train', 'eval'])
def test_sge_outputs_and_gradients_equal_cxc_sge(mode):
    torch.manual_seed(0)
    m = SGE(8, 16, channels=12, fuse_channels=10, guide_channels=5)
    ref = CxCSobelSGE(8, 16, channels=12, fuse_channels=10, guide_channels=5)
    ref.load_state_dict(m.state_dict(), strict=True)
    low = torch.randn(2, 8, 12, 10)
    high = torch.randn(2, 16, 3, 2)
    results = []
    for module in (m, ref):
        module.train(mode == 'train')
        a, b = low.clone().requires_grad_(), high.clone().requires_grad_()
        edge, guide = module(a, b)
        (edge.sum() * 0.3 + (guide * torch.linspace(-1, 1, 5).view(
            1, 5, 1, 1)).sum()).backward()
        results.append([edge, guide, a.grad, b.grad] +
                       [p.grad.clone() for p in module.parameters()])
    for new, old in zip(*results):
        torch.testing.assert_close(new, old, atol=1e-5, rtol=1e-5)


def test_cxc_sge_runs_the_full_convolutions(monkeypatch):
    # the reference really is the C x C form: its convolutions take the
    # full [C, C, 3, 3] buffers, the shortcut's a [2, 1, 3, 3] kernel
    seen = []
    conv2d = F.conv2d

    def spy(x, weight, *args, **kwargs):
        seen.append(tuple(weight.shape))
        return conv2d(x, weight, *args, **kwargs)

    monkeypatch.setattr(F, 'conv2d', spy)
    x = torch.randn(1, 6, 5, 5)
    sx, sy = FixedSobel(6, 'x'), FixedSobel(6, 'y')
    cxc_sobel_modulate(x, sx, sy)
    assert seen == [(6, 6, 3, 3), (6, 6, 3, 3)]
    seen.clear()
    sobel_modulate(x, sx, sy)
    assert seen == [(2, 1, 3, 3)]
    assert CxCSobelSGE.modulate is cxc_sobel_modulate
    assert SGE.modulate is sobel_modulate


def test_kernel_is_read_from_the_buffer():
    # a checkpoint's (uniform) kernel is what the shortcut uses
    torch.manual_seed(0)
    m = FixedSobel(3, 'x')
    kernel = torch.randn(3, 3)
    m.load_state_dict({'weight': kernel.expand(3, 3, 3, 3).clone()})
    x = torch.randn(1, 3, 5, 4)
    torch.testing.assert_close(
        m(x), F.conv2d(x, kernel.expand(3, 3, 3, 3), padding=1))


def test_non_uniform_weight_is_refused_on_load():
    m = SGE(4, 8, channels=4, fuse_channels=4, guide_channels=2)
    sd = {k: v.clone() for k, v in m.state_dict().items()}
    sd['sobel_y.weight'][1, 2, 0, 0] += 1
    with pytest.raises(RuntimeError, match='sobel_y.weight: FixedSobel'):
        m.load_state_dict(sd)
    # the buffer was left as it was
    assert torch.equal(m.sobel_y.weight, KX.t().expand(4, 4, 3, 3))


def test_gradients_are_finite_where_sobel_is_zero():
    sx, sy = FixedSobel(2, 'x'), FixedSobel(2, 'y')
    torch.manual_seed(0)
    a = torch.randn(5, 5)
    # constant map (zero response inside), and a map whose channel sum is 0
    # everywhere although its channels are not (zero response everywhere)
    for x, everywhere in ((torch.ones(1, 2, 5, 5), False),
                          (torch.stack([a, -a])[None], True)):
        x.requires_grad_()
        out = sobel_modulate(x, sx, sy)
        out.sum().backward()
        assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
        if everywhere:
            # magnitude 0: out = sigmoid(0) * x and d out / d x = 1/2
            torch.testing.assert_close(out, x.detach() / 2)
            torch.testing.assert_close(x.grad, torch.full_like(x, 0.5))


def test_wrong_channels_name_the_argument():
    with pytest.raises(ValueError, match=r'x must be \[B, 4, H, W\]'):
        FixedSobel(4, 'x')(torch.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match=r'x must be \[B, 4, H, W\]'):
        sobel_modulate(torch.randn(1, 3, 4, 4), FixedSobel(4, 'x'),
                       FixedSobel(4, 'y'))
    with pytest.raises(ValueError, match='channels must be'):
        FixedSobel(0, 'x')
    with pytest.raises(ValueError, match='axis'):
        FixedSobel(2, 'z')
