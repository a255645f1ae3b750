"""SGDC block: parity with the equations (unfold form), paper-compatible
state dict, kernel sources."""
import pytest
import torch
import torch.nn.functional as F

import sgdc_mmseg  # noqa: F401
from mmseg.registry import MODELS
from sgdc_mmseg.models.layers import SGDC


def paper_keys(C, G, heads, k, mlp_ratio=4.0):
    hidden = int(C * mlp_ratio)
    return {
        'proj_guidance.weight': (C, G, 1, 1), 'proj_guidance.bias': (C, ),
        'attn.weight': (2 * C + heads * k * k, C, 1, 1),
        'attn.bias': (2 * C + heads * k * k, ),
        'norm1.weight': (C, ), 'norm1.bias': (C, ),
        'norm2.weight': (C, ), 'norm2.bias': (C, ),
        'dwconv.weight': (C, 1, 3, 3), 'dwconv.bias': (C, ),
        'mlp.0.weight': (hidden, C, 1, 1), 'mlp.0.bias': (hidden, ),
        'mlp.2.weight': (C, hidden, 1, 1), 'mlp.2.bias': (C, ),
        'ls1': (C, ), 'ls2': (C, ),
    }


def ln(x, w, b):
    return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1], ), w, b,
                        1e-6).permute(0, 3, 1, 2)


def reference_sgdc(p, x, g, heads, k):
    """The block's equations with the unfold form of the aggregation."""
    b, c, h, w = x.shape
    g = F.interpolate(g, size=(h, w), mode='bilinear', align_corners=False)
    g = F.conv2d(g, p['proj_guidance.weight'], p['proj_guidance.bias'])
    a = F.conv2d(x + g, p['attn.weight'], p['attn.bias'])
    a1, a2, kern = a[:, :c], a[:, c:2 * c], a[:, 2 * c:]
    b1 = F.conv2d(x * torch.sigmoid(a1), p['dwconv.weight'], p['dwconv.bias'],
                  padding=1, groups=c)
    xn = ln(x, p['norm1.weight'], p['norm1.bias'])
    patches = F.unfold(xn, k, padding=k // 2).reshape(b, heads, c // heads,
                                                      k * k, h * w)
    kern = kern.reshape(b, heads, k * k, h * w).softmax(2)
    b2 = (patches * kern[:, :, None]).sum(3).reshape(b, c, h, w)
    b2 = b2 * torch.sigmoid(a2)
    x = x + p['ls1'].view(1, -1, 1, 1) * (b1 + b2)
    y = ln(x, p['norm2.weight'], p['norm2.bias'])
    y = F.conv2d(F.gelu(F.conv2d(y, p['mlp.0.weight'], p['mlp.0.bias'])),
                 p['mlp.2.weight'], p['mlp.2.bias'])
    return x + p['ls2'].view(1, -1, 1, 1) * y


def randomized(module, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return module


def test_state_dict_matches_paper_layout():
    m = SGDC(8, guide_channels=6, num_heads=2, kernel_size=5, mlp_ratio=2.0)
    got = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert got == paper_keys(8, 6, 2, 5, 2.0)
    assert torch.allclose(m.ls1, torch.full((8, ), 1e-6))


@pytest.mark.parametrize('dtype,tol', [(torch.float32, 1e-5),
                                       (torch.float64, 1e-10)])
@pytest.mark.parametrize('heads,k,size', [(4, 7, (9, 11)), (2, 3, (4, 4)),
                                          (1, 5, (6, 3))])
def test_matches_reference_values_and_gradients(dtype, tol, heads, k, size):
    torch.manual_seed(0)
    m = randomized(SGDC(8, guide_channels=3, num_heads=heads,
                        kernel_size=k)).to(dtype)
    x = torch.randn(2, 8, *size, dtype=dtype, requires_grad=True)
    g = torch.randn(2, 3, 3, 2, dtype=dtype, requires_grad=True)
    params = dict(m.named_parameters())
    out = m(x, g)
    ref = reference_sgdc(params, x, g, heads, k)
    torch.testing.assert_close(out, ref, atol=tol, rtol=tol)
    grad_out = torch.randn_like(out)
    inputs = (x, g, *params.values())
    got = torch.autograd.grad(out, inputs, grad_out)
    exp = torch.autograd.grad(ref, inputs, grad_out)
    for name, a, b in zip(['x', 'g', *params], got, exp):
        torch.testing.assert_close(a, b, atol=tol, rtol=tol, msg=name)


@pytest.mark.parametrize('source', ['structure', 'pool', 'self'])
def test_kernel_sources_train_every_parameter(source):
    torch.manual_seed(0)
    m = SGDC(8, guide_channels=4, num_heads=2, kernel_size=3,
             layer_scale_init=1.0, kernel_source=source)
    assert (m.proj_guidance is not None) == (source == 'structure')
    assert (m.kernel_gen is not None) == (source == 'pool')
    x = torch.randn(2, 8, 6, 5, requires_grad=True)
    g = torch.randn(2, 4, 3, 3) if source == 'structure' else None
    m(x, g).square().mean().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_pool_kernels_come_from_pooled_context():
    # With 'pool', the kernels of a pixel depend on the whole map through
    # the pooled context: changing a far-away pixel changes them.
    torch.manual_seed(0)
    m = SGDC(8, num_heads=2, kernel_size=3, kernel_source='pool')
    x = torch.randn(1, 8, 16, 16)
    k1 = m.kernel_gen(x)
    x2 = x.clone()
    x2[..., 15, 15] += 5
    k2 = m.kernel_gen(x2)
    assert k1.shape == (1, 2 * 9, 16, 16)
    assert not torch.allclose(k1[..., 0, 0], k2[..., 0, 0])


def test_guidance_changes_structure_output_only():
    torch.manual_seed(0)
    m = randomized(SGDC(8, guide_channels=2, num_heads=2, kernel_size=3))
    x = torch.randn(1, 8, 5, 5)
    assert not torch.allclose(m(x, torch.zeros(1, 2, 5, 5)),
                              m(x, torch.ones(1, 2, 5, 5)))


def test_drop_path_only_in_training():
    m = randomized(SGDC(8, guide_channels=2, num_heads=2, kernel_size=3,
                        drop_path=0.5))
    x, g = torch.randn(4, 8, 5, 5), torch.randn(4, 2, 5, 5)
    m.eval()
    assert torch.equal(m(x, g), m(x, g))


BACKENDS_MSG = "('auto', 'reference', 'shift', 'cpp', 'triton')"


@pytest.mark.parametrize('kwargs,exc,message', [
    (dict(num_heads='4'), TypeError,
     "SGDC: num_heads must be a positive int, got '4'"),
    (dict(num_heads=True), TypeError,
     'SGDC: num_heads must be a positive int, got True'),
    (dict(num_heads=4.0), TypeError,
     'SGDC: num_heads must be a positive int, got 4.0'),
    (dict(kernel_size=6), ValueError,
     'SGDC: kernel_size must be a positive odd int, got 6'),
    (dict(kernel_size=True), TypeError,
     'SGDC: kernel_size must be a positive odd int, got True'),
    (dict(channels=10, num_heads=4), ValueError,
     'SGDC: channels must be divisible by num_heads (4), got 10'),
    (dict(channels=0), ValueError,
     'SGDC: channels must be a positive int, got 0'),
    (dict(channels='8'), TypeError,
     "SGDC: channels must be a positive int, got '8'"),
    (dict(kernel_source='avg'), ValueError,
     "SGDC: kernel_source must be one of ('structure', 'pool', 'self'), "
     "got 'avg'"),
    (dict(guide_channels=0), ValueError,
     'SGDC: guide_channels must be a positive int, got 0'),
    (dict(guide_channels=True), TypeError,
     'SGDC: guide_channels must be a positive int, got True'),
    (dict(mlp_ratio=0), ValueError,
     'SGDC: mlp_ratio must be a positive number, got 0'),
    (dict(mlp_ratio='4'), TypeError,
     "SGDC: mlp_ratio must be a positive number, got '4'"),
    (dict(mlp_ratio=0.1), ValueError,
     'SGDC: mlp_ratio must give at least one hidden channel '
     '(int(channels * mlp_ratio) >= 1), got 0.1 with channels=8'),
    (dict(drop_path=1.0), ValueError,
     'SGDC: drop_path must be a number in [0, 1), got 1.0'),
    (dict(drop_path=-0.1), ValueError,
     'SGDC: drop_path must be a number in [0, 1), got -0.1'),
    (dict(layer_scale_init=float('nan')), ValueError,
     'SGDC: layer_scale_init must be a finite number, got nan'),
    (dict(kernel_source='pool', pool_size=0), ValueError,
     'SGDC: pool_size must be a positive int or None, got 0'),
    (dict(kernel_source='pool', pool_size=2.5), TypeError,
     'SGDC: pool_size must be a positive int or None, got 2.5'),
    (dict(backend='cuda'), ValueError,
     f"SGDC: backend must be one of {BACKENDS_MSG}, got 'cuda'"),
])
def test_invalid_arguments(kwargs, exc, message):
    args = dict(channels=8, guide_channels=4, num_heads=4, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(exc) as err:
        SGDC(**args)
    assert str(err.value) == message


def test_forward_errors_and_registry():
    m = MODELS.build(dict(type='SGDC', channels=8, guide_channels=2,
                          num_heads=2, kernel_size=3))
    with pytest.raises(ValueError, match='needs a guidance map'):
        m(torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match='guidance must be'):
        m(torch.randn(1, 8, 4, 4), torch.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match='x must be'):
        m(torch.randn(1, 6, 4, 4), torch.randn(1, 2, 4, 4))
