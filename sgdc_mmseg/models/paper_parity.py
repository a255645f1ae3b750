"""Parity of :class:`~.layers.SGE` and :class:`~.layers.SGDC` with the
paper's public code (github solstice0621/SGDC, loaded by
:mod:`.paper_code`): ``tools/analysis/check_paper_parity.py``.

The paper's modules get random weights and BatchNorm statistics; ours load
their ``state_dict`` with ``strict=True``; outputs, input gradients and
parameter gradients are compared in train and eval mode, fp32 and fp64.
The check passes when, in fp32, no difference relative to the largest
magnitude of the compared tensor exceeds ``rtol`` (gradients of the SGE
reach magnitudes above 100, where fp32 summation order alone moves the last
digits), and no fp64 difference exceeds ``atol64``.
"""
import torch

from .paper_code import load_paper_sgdc, load_paper_sge


def randomize_bn(module, gen):
    """Random affine parameters and running statistics of every
    ``BatchNorm2d`` of ``module`` (drawn from ``gen``)."""
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) - .5)
            m.running_var.copy_(torch.rand(n, generator=gen) + .5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + .5)
            m.bias.data.copy_(torch.rand(n, generator=gen) - .5)


def max_diff(pairs):
    """``(max |a - b|, max |a - b| / max |b|)`` over the pairs."""
    absolute = relative = 0.0
    for a, b in pairs:
        d = (a - b).abs().max().item()
        absolute = max(absolute, d)
        relative = max(relative, d / max(b.abs().max().item(), 1e-30))
    return absolute, relative


def compare(run_a, run_b, inputs, params_a, params_b):
    """Forward both, backward a fixed random projection, diff everything:
    ``max_diff`` of the outputs, input gradients and parameter gradients
    (``params_a`` looked up by the names of ``params_b``)."""
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


def build_module_pairs(paper_sge, paper_sgdc, dtype, gen):
    """The paper's SGE and SGDC (random weights and BN statistics) and ours
    with their state dicts, in ``dtype``: ``(p_sge, o_sge, p_sgdc,
    o_sgdc)``."""
    from .layers import SGDC, SGE
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
    return p_sge, o_sge, p_sgdc, o_sgdc


def parity_rows(paper_sge, paper_sgdc, dtype):
    """``(name, mode, (outputs, input grads, param grads))`` for the SGE and
    the SGDC block in train and eval mode; each entry a :func:`max_diff`."""
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    p_sge, o_sge, p_sgdc, o_sgdc = build_module_pairs(paper_sge, paper_sgdc,
                                                      dtype, gen)
    low = torch.randn(2, 64, 24, 20, generator=gen, dtype=dtype)
    high = torch.randn(2, 128, 3, 3, generator=gen, dtype=dtype)
    x = torch.randn(2, 32, 13, 11, generator=gen, dtype=dtype)
    g = torch.randn(2, 16, 7, 6, generator=gen, dtype=dtype)
    rows = []
    for mode in ('train', 'eval'):
        for m in (p_sge, o_sge, p_sgdc, o_sgdc):
            m.train(mode == 'train')
            m.zero_grad()
        rows.append(('SGE', mode, compare(
            lambda a, b: p_sge(b, a), lambda a, b: o_sge(a, b), [low, high],
            dict(p_sge.named_parameters()), dict(o_sge.named_parameters()))))
        rows.append(('SGDC', mode, compare(
            lambda a, b: (p_sgdc(a, b), ), lambda a, b: (o_sgdc(a, b), ),
            [x, g], dict(p_sgdc.named_parameters()),
            dict(o_sgdc.named_parameters()))))
    return rows


def check_paper_parity(paper_repo, rtol=1e-5, atol64=1e-10, log=print):
    """Compare ours with the paper's code of the checkout ``paper_repo``,
    logging one line per module, dtype and mode and a PASS/FAIL line.

    Returns:
        bool: whether the differences are within ``rtol`` (fp32, relative)
        and ``atol64`` (fp64, absolute).

    Raises:
        FileNotFoundError: ``SGE.py`` or ``sgdc.py`` is missing.
        ImportError: the paper's code needs a package that is missing.
    """
    paper_sge = load_paper_sge(paper_repo)
    paper_sgdc = load_paper_sgdc(paper_repo)
    worst32 = worst64 = 0.0
    for dtype in (torch.float32, torch.float64):
        for name, mode, (out, gin, gpar) in parity_rows(paper_sge,
                                                        paper_sgdc, dtype):
            log(f'{name:5s} {str(dtype):14s} {mode:5s} max|diff| '
                f'(relative) output {out[0]:.2e} ({out[1]:.1e})  '
                f'input grads {gin[0]:.2e} ({gin[1]:.1e})  '
                f'param grads {gpar[0]:.2e} ({gpar[1]:.1e})')
            if dtype == torch.float32:
                worst32 = max(worst32, out[1], gin[1], gpar[1])
            else:
                worst64 = max(worst64, out[0], gin[0], gpar[0])
    ok = worst32 <= rtol and worst64 <= atol64
    log(f'{"PASS" if ok else "FAIL"}: largest fp32 relative difference '
        f'{worst32:.2e} (rtol {rtol}), largest fp64 difference '
        f'{worst64:.2e} (atol {atol64})')
    return ok

