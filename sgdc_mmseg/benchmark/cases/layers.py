"""The ``block`` and ``sge`` cases: the SGDC block and the SGE, ours
against their references (the block with ``backend='reference'``, the SGE
with the paper's ``C x C`` Sobel convolutions, :class:`CxCSobelSGE`) and,
with ``case['paper_code']``, the paper's own modules
(:mod:`sgdc_mmseg.models.paper_code`)."""
import torch


def module_step(module, inputs, pass_):
    """``step`` and ``cleanup`` running ``module(*inputs)`` (eval, no_grad)
    for ``pass_='fwd'``, else (train mode) forward+backward of a fixed
    random projection of the outputs (drawn on the first call)."""
    if pass_ == 'fwd':
        module.eval()

        def step():
            with torch.no_grad():
                return module(*inputs)
        return step, lambda: None
    module.train()
    for t in inputs:
        t.requires_grad_()
    projections = []  # made on the first call, reused after

    def step():
        outs = module(*inputs)
        outs = outs if isinstance(outs, (tuple, list)) else (outs, )
        if not projections:
            gen = torch.Generator(device=outs[0].device).manual_seed(1)
            projections.extend(
                torch.randn(o.shape, generator=gen, device=o.device,
                            dtype=o.dtype) for o in outs)
        torch.autograd.backward(list(outs), projections)

    def cleanup():
        module.zero_grad(set_to_none=True)
        for t in inputs:
            t.grad = None
    return step, cleanup


def build_block(case, device):
    """The SGDC block (4 heads, k=7): ``impl`` ``'default'`` (backend
    ``'auto'``), ``'reference'`` or ``'paper'``."""
    b, c, h, w, guide = (case[n] for n in ('B', 'C', 'H', 'W', 'guide'))
    if case['impl'] == 'paper':
        from sgdc_mmseg.models.paper_code import load_paper_sgdc
        paper = load_paper_sgdc(case['paper_code'])
        block = paper.SGDC(dim=c, guide_ch=guide, num_heads=4, kernel_size=7)
    else:
        import sgdc_mmseg  # noqa: F401
        from sgdc_mmseg.models.layers import SGDC
        backend = 'auto' if case['impl'] == 'default' else case['impl']
        block = SGDC(c, guide, num_heads=4, kernel_size=7, backend=backend)
    block.to(device)
    x = torch.randn(b, c, h, w, device=device)
    g = torch.randn(b, guide, h, w, device=device)
    step, cleanup = module_step(block, [x, g], case['pass_'])
    return step, cleanup, {}


def build_sge(case, device):
    """The SGE (16 guidance channels): ``impl`` ``'channel-sum'`` (ours),
    ``'cxc'`` (:class:`CxCSobelSGE`) or ``'paper'``."""
    b, channels = case['B'], case['channels']
    (low_c, low_s), (high_c, high_s) = case['low'], case['high']
    low = torch.randn(b, low_c, low_s, low_s, device=device)
    high = torch.randn(b, high_c, high_s, high_s, device=device)
    if case['impl'] == 'paper':
        from sgdc_mmseg.models.paper_code import load_paper_sge
        paper = load_paper_sge(case['paper_code'])
        sge = paper.SGE(s4_in=high_c, s1_in=low_c, mid=channels, guide_ch=16,
                        bottleneck=channels)
        inputs = [high, low]
    else:
        import sgdc_mmseg  # noqa: F401
        from sgdc_mmseg.models.layers import SGE, CxCSobelSGE
        sge_cls = CxCSobelSGE if case['impl'] == 'cxc' else SGE
        sge = sge_cls(low_c, high_c, channels=channels,
                      fuse_channels=channels, guide_channels=16)
        inputs = [low, high]
    sge.to(device)
    step, cleanup = module_step(sge, inputs, case['pass_'])
    return step, cleanup, {}
