#!/usr/bin/env python
"""Check SGE/SGDC against the paper's public code (github solstice0621/SGDC).

Usage::

    git clone https://github.com/solstice0621/SGDC /path/to/SGDC
    pip install einops            # the paper's code needs it
    python tools/analysis/check_paper_parity.py /path/to/SGDC

The paper's ``SGE.py`` and ``sgdc.py`` are read, not modified: ``sgdc.py`` is
executed from memory with its einops pattern ``(hgt*wdt)`` (rejected by
einops) replaced by the intended ``(hgt wdt)``; timm, which it imports only
for ``DropPath``, is replaced by mmcv's ``DropPath`` when timm is absent.
The paper's modules get random weights and BatchNorm statistics; ours load
their ``state_dict`` with ``strict=True``; outputs, input gradients and
parameter gradients are compared in train and eval mode, fp32 and fp64.
Exit status 1 when, in fp32, a difference relative to the largest magnitude
of the compared tensor exceeds ``--rtol`` (default 1e-5; gradients of the
SGE reach magnitudes above 100, where fp32 summation order alone moves the
last digits), or when an fp64 difference exceeds ``--atol64``.
"""
import argparse
import os.path as osp
import sys
import types

import torch

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

def load_paper_module(path, name, patch=None):
    if not osp.isfile(path):
        sys.exit(f'check_paper_parity: {path} not found (pass the folder of '
                 'a checkout of github solstice0621/SGDC)')
    with open(path, encoding='utf-8') as f:
        source = f.read()
    if patch:
        source = source.replace(*patch)
    module = types.ModuleType(name)
    module.__file__ = path
    exec(compile(source, path, 'exec'), module.__dict__)
    return module


def ensure_timm_droppath():
    try:
        import timm.models.layers  # noqa: F401
    except ImportError:
        from mmcv.cnn.bricks import DropPath
        layers = types.ModuleType('timm.models.layers')
        layers.DropPath = DropPath
        timm = types.ModuleType('timm')
        models = types.ModuleType('timm.models')
        timm.models, models.layers = models, layers
        sys.modules.update({'timm': timm, 'timm.models': models,
                            'timm.models.layers': layers})


def randomize_bn(module, gen):
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - .5)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + .5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + .5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=gen) - .5)


def max_diff(pairs):
    """``(max |a - b|, max |a - b| / max |b|)`` over the pairs."""
    absolute = relative = 0.0
    for a, b in pairs:
        d = (a - b).abs().max().item()
        absolute = max(absolute, d)
        relative = max(relative, d / max(b.abs().max().item(), 1e-30))
    return absolute, relative


def compare(run_a, run_b, inputs, params_a, params_b):
    """Forward both, backward a fixed random projection, diff everything."""
    ins_a = [t.clone().requires_grad_() for t in inputs]
    ins_b = [t.clone().requires_grad_() for t in inputs]
    outs_a, outs_b = run_a(*ins_a), run_b(*ins_b)
    gen = torch.Generator().manual_seed(1)
    weights = [torch.randn(o.shape, generator=gen, dtype=o.dtype)
               for o in outs_a]
    sum((o * w).sum() for o, w in zip(outs_a, weights)).backward()
    sum((o * w).sum() for o, w in zip(outs_b, weights)).backward()
    grads = [(params_a[n].grad, p.grad) for n, p in params_b.items()]
    return (max_diff(zip(outs_a, outs_b)),
            max_diff((a.grad, b.grad) for a, b in zip(ins_a, ins_b)),
            max_diff(grads))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('paper_repo', help='checkout of solstice0621/SGDC')
    parser.add_argument('--rtol', type=float, default=1e-5,
                        help='fp32 tolerance, relative to max |paper|')
    parser.add_argument('--atol64', type=float, default=1e-10,
                        help='fp64 absolute tolerance')
    args = parser.parse_args()

    import sgdc_mmseg  # noqa: F401
    from sgdc_mmseg.models.layers import SGDC, SGE
    ensure_timm_droppath()
    try:
        paper_sge = load_paper_module(
            osp.join(args.paper_repo, 'SGE.py'), 'paper_sge')
        paper_sgdc = load_paper_module(
            osp.join(args.paper_repo, 'sgdc.py'), 'paper_sgdc',
            patch=('(hgt*wdt)', '(hgt wdt)'))
    except ImportError as err:
        sys.exit(f'check_paper_parity: the paper\'s code needs {err.name}: '
                 f'pip install {err.name}')

    worst32 = worst64 = 0.0
    for dtype in (torch.float32, torch.float64):
        gen = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        p_sge = paper_sge.SGE(s4_in=128, s1_in=64, mid=48, guide_ch=16,
                              bottleneck=32).to(dtype)
        randomize_bn(p_sge, gen)
        o_sge = SGE(64, 128, channels=32, fuse_channels=48,
                    guide_channels=16).to(dtype)
        o_sge.load_state_dict(p_sge.state_dict(), strict=True)
        p_sgdc = paper_sgdc.SGDC(dim=32, guide_ch=16, num_heads=4,
                                 kernel_size=7, ls_init=0.5).to(dtype)
        o_sgdc = SGDC(32, 16, 4, 7).to(dtype)
        o_sgdc.load_state_dict(p_sgdc.state_dict(), strict=True)
        low = torch.randn(2, 64, 24, 20, generator=gen, dtype=dtype)
        high = torch.randn(2, 128, 3, 3, generator=gen, dtype=dtype)
        x = torch.randn(2, 32, 13, 11, generator=gen, dtype=dtype)
        g = torch.randn(2, 16, 7, 6, generator=gen, dtype=dtype)
        for mode in ('train', 'eval'):
            for m in (p_sge, o_sge, p_sgdc, o_sgdc):
                m.train(mode == 'train')
            for m in (p_sge, o_sge, p_sgdc, o_sgdc):
                m.zero_grad()
            rows = [
                ('SGE', compare(lambda a, b: p_sge(b, a),
                                lambda a, b: o_sge(a, b), [low, high],
                                dict(p_sge.named_parameters()),
                                dict(o_sge.named_parameters()))),
                ('SGDC', compare(lambda a, b: (p_sgdc(a, b), ),
                                 lambda a, b: (o_sgdc(a, b), ), [x, g],
                                 dict(p_sgdc.named_parameters()),
                                 dict(o_sgdc.named_parameters()))),
            ]
            for name, (out, gin, gpar) in rows:
                print(f'{name:5s} {str(dtype):14s} {mode:5s} max|diff| '
                      f'(relative) output {out[0]:.2e} ({out[1]:.1e})  '
                      f'input grads {gin[0]:.2e} ({gin[1]:.1e})  '
                      f'param grads {gpar[0]:.2e} ({gpar[1]:.1e})')
                if dtype == torch.float32:
                    worst32 = max(worst32, out[1], gin[1], gpar[1])
                else:
                    worst64 = max(worst64, out[0], gin[0], gpar[0])
    ok = worst32 <= args.rtol and worst64 <= args.atol64
    print(f'{"PASS" if ok else "FAIL"}: largest fp32 relative difference '
          f'{worst32:.2e} (rtol {args.rtol}), largest fp64 difference '
          f'{worst64:.2e} (atol {args.atol64})')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
