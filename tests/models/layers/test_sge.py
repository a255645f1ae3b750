"""SGE: parity with a functional reference, paper-compatible state dict."""
import pytest
import torch
import torch.nn.functional as F

import sgdc_mmseg  # noqa: F401
from mmseg.registry import MODELS
from sgdc_mmseg.models.layers import SGE

# Keys and shapes of the paper's SGE(s4_in=H, s1_in=L, mid=M, guide_ch=G,
# bottleneck=C, reduction_ratio=4) state dict (github solstice0621/SGDC).
def paper_keys(L, H, C, M, G):
    r = C // 4
    keys = {}

    def cbr(prefix, cin, cout, k):
        keys[f'{prefix}.conv.weight'] = (cout, cin, k, k)
        bn(f'{prefix}.bn', cout)

    def bn(prefix, c):
        for n in ('weight', 'bias', 'running_mean', 'running_var'):
            keys[f'{prefix}.{n}'] = (c, )
        keys[f'{prefix}.num_batches_tracked'] = ()

    cbr('s4_proj', H, C, 1)
    cbr('s1_proj', L, C, 1)
    keys['sobel_x.weight'] = (C, C, 3, 3)
    keys['sobel_y.weight'] = (C, C, 3, 3)
    for ref in ('refine4', 'refine1'):
        keys[f'{ref}.refine.0.weight'] = (r, C, 1, 1)
        bn(f'{ref}.refine.1', r)
        keys[f'{ref}.refine.3.weight'] = (r, r, 3, 3)
        bn(f'{ref}.refine.4', r)
        keys[f'{ref}.refine.6.weight'] = (C, r, 1, 1)
        bn(f'{ref}.refine.7', C)
    cbr('fuse', 2 * C, M, 3)
    keys['out_edge_map.weight'] = (1, M, 1, 1)
    keys['out_guidance.weight'] = (G, M, 1, 1)
    return keys


def randomize(module, seed=0):
    g = torch.Generator().manual_seed(seed)
    sd = module.state_dict()
    for k, v in sd.items():
        if 'sobel' in k or 'num_batches' in k:
            continue
        if 'running_var' in k:
            v.copy_(torch.rand(v.shape, generator=g) + 0.5)
        else:
            v.copy_(torch.randn(v.shape, generator=g) * 0.5)
    return module


def bn_eval(x, sd, p):
    return F.batch_norm(x, sd[p + '.running_mean'], sd[p + '.running_var'],
                        sd[p + '.weight'], sd[p + '.bias'], False, 0.0, 1e-5)


def reference_sge(sd, low, high):
    """The SGE equations, eval mode, written from the method description."""
    kx = torch.tensor([[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]])
    ky = kx.t().contiguous()

    def proj(x, p):
        return F.relu(bn_eval(F.conv2d(x, sd[p + '.conv.weight']), sd,
                              p + '.bn'))

    def modulate(x):
        s = x.sum(1, keepdim=True)  # Sobel of the channel sum
        gx = F.conv2d(s, kx.view(1, 1, 3, 3).to(x), padding=1)
        gy = F.conv2d(s, ky.view(1, 1, 3, 3).to(x), padding=1)
        return torch.sigmoid(torch.sqrt(gx**2 + gy**2)) * x

    def refine(x, p):
        y = F.relu(bn_eval(F.conv2d(x, sd[p + '.refine.0.weight']), sd,
                           p + '.refine.1'))
        y = F.relu(bn_eval(F.conv2d(y, sd[p + '.refine.3.weight'], padding=1),
                           sd, p + '.refine.4'))
        y = bn_eval(F.conv2d(y, sd[p + '.refine.6.weight']), sd,
                    p + '.refine.7')
        return F.relu(x + y)

    h = refine(modulate(proj(high, 's4_proj')), 'refine4')
    l = refine(modulate(proj(low, 's1_proj')), 'refine1')
    h = F.interpolate(h, size=l.shape[2:], mode='bilinear',
                      align_corners=False)
    fused = F.relu(bn_eval(F.conv2d(torch.cat([h, l], 1),
                                    sd['fuse.conv.weight'], padding=1), sd,
                           'fuse.bn'))
    return (F.conv2d(fused, sd['out_edge_map.weight']),
            F.conv2d(fused, sd['out_guidance.weight']))


def test_state_dict_matches_paper_layout():
    m = SGE(low_channels=8, high_channels=24, channels=12, fuse_channels=10,
            guide_channels=6)
    got = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert got == paper_keys(8, 24, 12, 10, 6)
    # the Sobel filters are fixed: not parameters, every pair the same kernel
    names = {n for n, _ in m.named_parameters()}
    assert not any('sobel' in n for n in names)
    w = m.state_dict()['sobel_x.weight']
    assert torch.equal(w[3, 5], torch.tensor([[1., 0., -1.], [2., 0., -2.],
                                              [1., 0., -1.]]))
    assert torch.equal(w, w[:1, :1].expand_as(w))
    assert torch.equal(m.state_dict()['sobel_y.weight'][0, 0], w[0, 0].t())


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_matches_reference(dtype):
    torch.manual_seed(0)
    m = randomize(SGE(8, 16, channels=12, fuse_channels=10,
                      guide_channels=5)).to(dtype).eval()
    low = torch.randn(2, 8, 12, 10, dtype=dtype)
    high = torch.randn(2, 16, 2, 3, dtype=dtype)
    edge, guide = m(low, high)
    assert edge.shape == (2, 1, 12, 10) and guide.shape == (2, 5, 12, 10)
    sd = {k: v for k, v in m.state_dict().items()}
    r_edge, r_guide = reference_sge(sd, low, high)
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    torch.testing.assert_close(edge, r_edge, atol=tol, rtol=tol)
    torch.testing.assert_close(guide, r_guide, atol=tol, rtol=tol)


def test_gradients_reach_every_parameter_and_inputs():
    torch.manual_seed(0)
    m = SGE(8, 16, channels=8, fuse_channels=8, guide_channels=4).train()
    low = torch.randn(2, 8, 8, 8, requires_grad=True)
    high = torch.randn(2, 16, 2, 2, requires_grad=True)
    edge, guide = m(low, high)
    (edge.square().mean() + guide.square().mean()).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert low.grad.abs().sum() > 0 and high.grad.abs().sum() > 0


def test_gradient_is_finite_where_sobel_is_zero():
    # A constant (here zero) feature map has zero Sobel response everywhere
    # inside; sqrt'(0) is infinite and the paper's code yields NaN there.
    m = SGE(4, 4, channels=4, fuse_channels=4, guide_channels=2).eval()
    low = torch.zeros(1, 4, 6, 6, requires_grad=True)
    high = torch.zeros(1, 4, 2, 2, requires_grad=True)
    edge, guide = m(low, high)
    (edge.sum() + guide.sum()).backward()
    assert torch.isfinite(low.grad).all() and torch.isfinite(high.grad).all()
    for name, p in m.named_parameters():
        assert torch.isfinite(p.grad).all(), name


def test_no_guidance_branch():
    m = SGE(4, 8, channels=4, fuse_channels=4, guide_channels=0).eval()
    assert m.out_guidance is None
    assert not any('out_guidance' in k for k in m.state_dict())
    edge, guide = m(torch.randn(1, 4, 4, 4), torch.randn(1, 8, 1, 1))
    assert guide is None and edge.shape == (1, 1, 4, 4)


def test_registry_and_errors():
    m = MODELS.build(dict(type='SGE', low_channels=4, high_channels=8,
                          channels=8, fuse_channels=4))
    assert isinstance(m, SGE)
    with pytest.raises(ValueError, match='high input must be'):
        m(torch.randn(1, 4, 4, 4), torch.randn(1, 9, 1, 1))
    with pytest.raises(ValueError, match='reduction_ratio'):
        SGE(4, 8, channels=6, reduction_ratio=4)
    with pytest.raises(ValueError, match='guide_channels'):
        SGE(4, 8, channels=8, guide_channels=-1)


@pytest.mark.parametrize('kwargs,exc,message', [
    (dict(channels='8'), TypeError,
     "SGE: channels must be a positive int, got '8'"),
    (dict(channels=True), TypeError,
     'SGE: channels must be a positive int, got True'),
    (dict(high_channels=8.0), TypeError,
     'SGE: high_channels must be a positive int, got 8.0'),
    (dict(guide_channels=True), TypeError,
     'SGE: guide_channels must be an int >= 0, got True'),
    (dict(reduction_ratio=0), ValueError,
     'SGE: reduction_ratio must be a positive int, got 0'),
    (dict(reduction_ratio='4'), TypeError,
     "SGE: reduction_ratio must be a positive int, got '4'"),
    (dict(channels=6), ValueError,
     'SGE: channels must be divisible by reduction_ratio (4), got 6'),
])
def test_invalid_arguments(kwargs, exc, message):
    args = dict(low_channels=4, high_channels=8, channels=8, fuse_channels=4)
    args.update(kwargs)
    with pytest.raises(exc) as err:
        SGE(**args)
    assert str(err.value) == message
