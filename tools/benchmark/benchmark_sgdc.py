#!/usr/bin/env python
"""Benchmark SGDC's aggregation op, the SGDC block and the SGE: time and peak
memory, every case in a fresh subprocess.

    python tools/benchmark/benchmark_sgdc.py [--device cpu|cuda] [--quick]
        [--repeats N] [--warmup N] [--threads N] [--paper-code DIR]
        [--only aggregate block sge train_step] [--train-step|--no-train-step]
        [--out docs/benchmarks.md] [--note TEXT]

Cases (``--quick``: a tiny grid that only checks that everything runs):

* ``aggregate``: :func:`sgdc_mmseg.ops.sgdc_aggregate`, k=7, 4 heads,
  forward (under ``no_grad``) and forward+backward (gradients of ``x`` and
  the logits), ``'reference'`` (unfold) against ``'shift'`` and, on CUDA
  when Triton imports, ``'triton'``. CPU: B=2, C=64, 64x64 and the target
  B=2, C=256, 128x128, fp32. CUDA: also B=8, C=256, 128x128 in fp32 and
  bf16, with the effective bandwidth (see below) next to the GPU's peak.
* ``block``: the SGDC block (``channels=256``, 16 guidance channels at the
  same size), forward+backward in train mode (on CUDA and with ``--quick``
  also the forward in eval mode under ``no_grad``): the default backend
  against
  ``backend='reference'`` (the paper's block math) and, with
  ``--paper-code DIR`` (a checkout of github solstice0621/SGDC; needs
  einops), the paper's own ``sgdc.py`` loaded as
  ``tools/analysis/check_paper_parity.py`` does.
* ``sge``: the SGE (low 256 ch at 128x128, high 2048 ch at 16x16, as for
  ResNet-50), forward (eval) and forward+backward (train): the channel-sum
  Sobel against the paper's ``C x C`` Sobel convolutions (the same module
  with ``sobel_modulate`` swapped in this subprocess for the ``C x C``
  form), and the paper's ``SGE.py`` with ``--paper-code``.
* ``train_step`` (CUDA by default, ``--train-step`` forces it; needs mmseg):
  one ``model.train_step`` (data preprocessor, forward, loss, backward, SGD
  step) of the SGDC-R50 model of
  ``configs/sgdc/sgdc_r50_1xb8-20k_isic2017-256x192.py`` against mmseg's
  UPerNet-R50 (``mmseg::_base_/models/upernet_r50.py``), both with SyncBN
  replaced by BN, no pretrained weights, 2 classes, batch 8 at 512x512
  (``--quick``: batch 2 at 64x64).

Method: each case runs in its own ``python`` process, so imports, caches and
the peak memory of one case never affect another. Time: ``--warmup`` untimed
calls, then the median of ``--repeats`` calls timed with
``time.perf_counter`` (``torch.cuda.synchronize()`` before and after on
CUDA). Peak memory of the timed calls (the largest): on CUDA,
``torch.cuda.max_memory_allocated()`` after ``reset_peak_memory_stats()``
minus the memory allocated before the call; on CPU, the peak increase of
the resident set size: before each timed call (outside the timing)
``malloc_trim(0)`` (glibc keeps freed blocks of up to 32 MiB, which a later
call would reuse without the RSS growing) and ``echo 5 >
/proc/self/clear_refs`` (resets ``VmHWM`` to the current RSS), then
``VmHWM`` after the call minus ``VmRSS`` before it: what the call added at
its peak (outputs and gradients included, inputs and parameters not).
Ratios are the baseline's median time (peak memory) divided by the row's.

Effective bandwidth (``aggregate`` on CUDA): the bytes the three fused
kernels of ``sgdc_mmseg.ops.sgdc_aggregate_triton`` must move if each reads
each input once and writes each output once (forward: ``x``, logits in;
output, fp32 log-sum-exp out; backward, grad-x kernel: ``g``, logits,
log-sum-exp in, grad ``x`` out; grad-logits kernel: ``g``, ``x``, logits,
log-sum-exp in, grad logits out) divided by the time; the same byte count is
used for every backend, so the column compares times, not actual traffic.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import shlex
import statistics
import subprocess
import sys
import time

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from _report import cpu_name, write_section  # noqa: E402  (this folder)

# One section per device, so a GPU run never replaces the CPU numbers.
BEGIN, END = '<!-- sgdc-ops:begin -->', '<!-- sgdc-ops:end -->'


def markers(device):
    """The section markers of ``device`` (the CPU keeps the plain ones)."""
    if device == 'cpu':
        return BEGIN, END
    return (f'<!-- sgdc-ops-{device}:begin -->',
            f'<!-- sgdc-ops-{device}:end -->')
SGDC_R50_CONFIG = osp.join(_REPO_ROOT, 'configs', 'sgdc',
                           'sgdc_r50_1xb8-20k_isic2017-256x192.py')
UPERNET_R50_BASE = 'mmseg::_base_/models/upernet_r50.py'
KINDS = ('aggregate', 'block', 'sge', 'train_step')
# the row every other row of its group is divided by, in order of preference
BASELINES = {
    'aggregate': ('reference', ),
    'block': ('paper', 'reference'),
    'sge': ('cxc', ),
    'train_step': ('upernet_r50', ),
}
# Peak DRAM bandwidth (TB/s) by a substring of torch.cuda.get_device_name(),
# most specific first.
GPU_PEAK_TBPS = (
    (('h200', ), 4.8),
    (('h100', 'pcie'), 2.0),
    (('h100', 'hbm3'), 3.35),
    (('h100', 'sxm'), 3.35),
    (('a100', '80gb'), 2.0),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu')
    parser.add_argument('--quick', action='store_true',
                        help='tiny grid (checks that every case runs)')
    parser.add_argument('--repeats', type=int, default=None,
                        help='timed calls per case (default 3; 2 --quick; '
                        '10 on CUDA)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='untimed calls first (default 1; 3 on CUDA)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads in each case (default 2 on CPU, '
                        "torch's default on CUDA)")
    parser.add_argument('--paper-code', metavar='DIR',
                        help='checkout of github solstice0621/SGDC: adds its '
                        'SGDC block and SGE as rows')
    parser.add_argument('--only', nargs='+', choices=KINDS,
                        help='run only these kinds of cases')
    train = parser.add_mutually_exclusive_group()
    train.add_argument('--train-step', dest='train_step',
                       action='store_true', default=None,
                       help='run the train_step cases (default: on CUDA)')
    train.add_argument('--no-train-step', dest='train_step',
                       action='store_false')
    parser.add_argument('--case-timeout', type=float, default=1800,
                        help='seconds before a case is abandoned')
    parser.add_argument('--out', help='Markdown file whose section between '
                        f'{BEGIN} and {END} (CPU; sgdc-ops-cuda on CUDA) '
                        'is written/replaced')
    parser.add_argument('--note', help='a line added to the written section '
                        '(e.g. the machine was shared)')
    parser.add_argument('--case', help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    for name in ('repeats', 'warmup', 'threads'):
        value = getattr(args, name)
        if value is not None and value < (0 if name == 'warmup' else 1):
            parser.error(f'--{name} must be >= '
                         f'{0 if name == "warmup" else 1}, got {value}')
    if args.paper_code and not osp.isdir(args.paper_code):
        parser.error(f'--paper-code {args.paper_code!r} is not a directory')
    cuda = args.device == 'cuda'
    if args.repeats is None:
        args.repeats = 2 if args.quick else (10 if cuda else 3)
    if args.warmup is None:
        args.warmup = 3 if cuda else 1
    if args.threads is None and not cuda:
        args.threads = 2
    if args.train_step is None:
        args.train_step = cuda
    return args


# --------------------------------------------------------------- case list

def build_cases(args, triton_ok):
    """The cases of a run, as JSON-serialisable dicts."""
    cuda = args.device == 'cuda'
    cases = []

    def add(kind, impl, pass_, group, **spec):
        cases.append(dict(kind=kind, impl=impl, pass_=pass_, group=group,
                          device=args.device, **spec))

    # aggregation
    if args.quick:
        sizes = [(1, 16, 12, 10, 'float32')]
    elif cuda:
        sizes = [(2, 64, 64, 64, 'float32'), (8, 256, 128, 128, 'float32'),
                 (8, 256, 128, 128, 'bfloat16')]
    else:
        sizes = [(2, 64, 64, 64, 'float32'), (2, 256, 128, 128, 'float32')]
    impls = ['reference', 'shift'] + (['triton'] if cuda and triton_ok
                                      else [])
    for b, c, h, w, dtype in sizes:
        for pass_ in ('fwd', 'fwd+bwd'):
            group = (f'aggregate B={b} C={c} {h}x{w} k=7 heads=4 {dtype} '
                     f'{pass_}')
            for impl in impls:
                add('aggregate', impl, pass_, group, B=b, C=c, H=h, W=w, k=7,
                    heads=4, dtype=dtype)

    # SGDC block
    b, c, hw, guide = ((1, 32, 16, 16) if args.quick else
                       ((8 if cuda else 2), 256, 128, 16))
    block_impls = ['default', 'reference'] + (['paper']
                                              if args.paper_code else [])
    for pass_ in (('fwd', 'fwd+bwd') if cuda or args.quick else
                  ('fwd+bwd', )):
        group = f'SGDC block B={b} C={c} {hw}x{hw} guide={guide} {pass_}'
        for impl in block_impls:
            add('block', impl, pass_, group, B=b, C=c, H=hw, W=hw,
                guide=guide, paper_code=args.paper_code)

    # SGE
    if args.quick:
        b, low, high, size, channels = 1, (16, 16), (32, 2), 16, 16
    else:
        b, low, high, size, channels = ((8 if cuda else 2), (256, 128),
                                        (2048, 16), 128, 256)
    sge_impls = ['channel-sum', 'cxc'] + (['paper'] if args.paper_code
                                          else [])
    for pass_ in ('fwd', 'fwd+bwd'):
        group = (f'SGE B={b} low {low[0]}ch@{low[1]}x{low[1]} high '
                 f'{high[0]}ch@{high[1]}x{high[1]} {pass_}')
        for impl in sge_impls:
            add('sge', impl, pass_, group, B=b, low=low, high=high,
                channels=channels, paper_code=args.paper_code)

    # training step
    if args.train_step:
        b, size = (2, 64) if args.quick else (8, 512)
        group = f'train step batch {b} {size}x{size}'
        for impl in ('upernet_r50', 'sgdc_r50'):
            add('train_step', impl, 'train step', group, B=b, size=size)

    if args.only:
        cases = [case for case in cases if case['kind'] in args.only]
    return cases


# ------------------------------------------------------ one case (child)

def proc_status_kib(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def malloc_trim():
    try:
        import ctypes
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim


def reset_peak_rss():
    """Return freed heap memory to the OS and reset ``VmHWM`` to the current
    RSS; False when the kernel does not let this process do the latter."""
    malloc_trim()
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        return False
    return True


def load_paper(paper_code, name):
    """The paper's ``SGE.py`` or ``sgdc.py`` via the loader of
    ``tools/analysis/check_paper_parity.py`` (``sgdc.py``'s einops pattern
    ``(hgt*wdt)`` fixed to ``(hgt wdt)`` in memory)."""
    import importlib.util
    path = osp.join(_REPO_ROOT, 'tools', 'analysis', 'check_paper_parity.py')
    spec = importlib.util.spec_from_file_location('check_paper_parity', path)
    parity = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(parity)
    parity.ensure_timm_droppath()
    if name == 'sgdc':
        return parity.load_paper_module(
            osp.join(paper_code, 'sgdc.py'), 'paper_sgdc',
            patch=('(hgt*wdt)', '(hgt wdt)'))
    return parity.load_paper_module(osp.join(paper_code, 'SGE.py'),
                                    'paper_sge')


def cxc_sobel_modulate(x, sobel_x, sobel_y):
    """The paper's Sobel modulation: two ``C x C x 3 x 3`` convolutions."""
    import torch
    import torch.nn.functional as F
    from sgdc_mmseg.models.layers import safe_magnitude
    gx = F.conv2d(x, sobel_x.weight, padding=1)
    gy = F.conv2d(x, sobel_y.weight, padding=1)
    return torch.sigmoid(safe_magnitude(gx, gy)) * x


def aggregate_bytes(case, itemsize):
    """Bytes each fused kernel must read and write once (module docstring)."""
    b, c, h, w, k, heads = (case[n] for n in ('B', 'C', 'H', 'W', 'k',
                                              'heads'))
    x = b * c * h * w * itemsize
    logits = b * heads * k * k * h * w * itemsize
    lse = b * heads * h * w * 4
    fwd = x + logits + x + lse
    if case['pass_'] == 'fwd':
        return fwd
    grad_x = x + logits + lse + x
    grad_logits = x + x + logits + lse + logits
    return fwd + grad_x + grad_logits


def build_aggregate(case, device):
    import torch
    from sgdc_mmseg.ops import sgdc_aggregate
    dtype = getattr(torch, case['dtype'])
    b, c, h, w, k, heads = (case[n] for n in ('B', 'C', 'H', 'W', 'k',
                                              'heads'))
    x = torch.randn(b, c, h, w, device=device, dtype=dtype)
    logits = torch.randn(b, heads * k * k, h, w, device=device, dtype=dtype)
    impl = case['impl']
    if case['pass_'] == 'fwd':
        def step():
            with torch.no_grad():
                return sgdc_aggregate(x, logits, k, heads, backend=impl)
    else:
        x.requires_grad_()
        logits.requires_grad_()
        grad = torch.randn_like(x)

        def step():
            out = sgdc_aggregate(x, logits, k, heads, backend=impl)
            return torch.autograd.grad(out, (x, logits), grad)

    extra = dict(bytes=aggregate_bytes(case, x.element_size()))
    return step, lambda: None, extra


def module_step(module, inputs, pass_):
    """``step`` and ``cleanup`` running ``module(*inputs)`` (eval, no_grad)
    or forward+backward of a fixed random projection of the outputs."""
    import torch
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
    import torch
    b, c, h, w, guide = (case[n] for n in ('B', 'C', 'H', 'W', 'guide'))
    if case['impl'] == 'paper':
        paper = load_paper(case['paper_code'], 'sgdc')
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
    import torch
    b, channels = case['B'], case['channels']
    (low_c, low_s), (high_c, high_s) = case['low'], case['high']
    low = torch.randn(b, low_c, low_s, low_s, device=device)
    high = torch.randn(b, high_c, high_s, high_s, device=device)
    if case['impl'] == 'paper':
        paper = load_paper(case['paper_code'], 'sge')
        sge = paper.SGE(s4_in=high_c, s1_in=low_c, mid=channels, guide_ch=16,
                        bottleneck=channels)
        inputs = [high, low]
    else:
        import sgdc_mmseg  # noqa: F401
        from sgdc_mmseg.models.layers import SGE
        if case['impl'] == 'cxc':
            from sgdc_mmseg.models.layers import sge as sge_module
            sge_module.sobel_modulate = cxc_sobel_modulate
        sge = SGE(low_c, high_c, channels=channels, fuse_channels=channels,
                  guide_channels=16)
        inputs = [low, high]
    sge.to(device)
    step, cleanup = module_step(sge, inputs, case['pass_'])
    return step, cleanup, {}


def _sync_bn_to_bn(node):
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
        for value in node.values():
            _sync_bn_to_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _sync_bn_to_bn(value)


def build_train_step(case, device):
    try:
        import torch
        import sgdc_mmseg  # noqa: F401
        from mmengine.config import Config
        from mmengine.optim import OptimWrapper
        from mmengine.structures import PixelData
        from mmseg.registry import MODELS
        from mmseg.structures import SegDataSample
        from mmseg.utils import register_all_modules
    except ImportError as err:
        raise SkipCase(f'needs mmseg/mmengine ({err})')
    register_all_modules(init_default_scope=True)
    b, size = case['B'], case['size']
    if case['impl'] == 'sgdc_r50':
        cfg = Config.fromfile(SGDC_R50_CONFIG)
    else:
        cfg = Config.fromstring(f'_base_ = [{UPERNET_R50_BASE!r}]', '.py')
        cfg.model.decode_head.num_classes = 2
        cfg.model.auxiliary_head.num_classes = 2
    model_cfg = cfg.model.to_dict()
    _sync_bn_to_bn(model_cfg)
    model_cfg['pretrained'] = None
    model_cfg['backbone']['init_cfg'] = None
    model_cfg['data_preprocessor']['size'] = (size, size)
    model = MODELS.build(model_cfg).to(device).train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01,
                                         momentum=0.9, weight_decay=5e-4))
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(b):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=gen,
                                    dtype=torch.uint8))
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, 2, (1, size, size), generator=gen))
        sample.set_metainfo(dict(img_shape=(size, size),
                                 ori_shape=(size, size),
                                 pad_shape=(size, size)))
        samples.append(sample)
    data = dict(inputs=inputs, data_samples=samples)

    def step():
        return model.train_step(data, optim)
    return step, lambda: None, {}


class SkipCase(Exception):
    """A case that cannot run here (printed as a skip, not a failure)."""


BUILDERS = dict(aggregate=build_aggregate, block=build_block, sge=build_sge,
                train_step=build_train_step)


def run_case(case, repeats, warmup, threads):
    import torch
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    device = torch.device(case['device'])
    cuda = device.type == 'cuda'
    if cuda and not torch.cuda.is_available():
        raise SkipCase('CUDA is not available')
    if case['kind'] == 'aggregate' and case['impl'] == 'triton':
        from sgdc_mmseg.ops.sgdc_aggregate_triton import triton_available
        if not triton_available():
            raise SkipCase('Triton is not importable')
    step, cleanup, extra = BUILDERS[case['kind']](case, device)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    for _ in range(warmup):
        result = step()
        sync()
        del result
        cleanup()
    times, peaks = [], []
    for _ in range(repeats):
        sync()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        else:
            rss_ok = reset_peak_rss()
            before = proc_status_kib('VmRSS') * 1024
        start = time.perf_counter()
        result = step()
        sync()
        times.append(time.perf_counter() - start)
        if cuda:
            peaks.append(torch.cuda.max_memory_allocated() - before)
        elif rss_ok:
            peaks.append(proc_status_kib('VmHWM') * 1024 - before)
        del result
        cleanup()
    peak = max(peaks) if len(peaks) == repeats else None
    return dict(times=times, median_s=statistics.median(times),
                peak_bytes=peak, **extra)


def child_main(args):
    case = json.loads(args.case)
    try:
        result = run_case(case, args.repeats, args.warmup, args.threads)
    except SkipCase as err:
        result = dict(skipped=str(err))
    print('RESULT ' + json.dumps(result), flush=True)


# ------------------------------------------------------------ parent side

def case_label(case):
    return f"{case['group']} | {case['impl']}"


def run_in_subprocess(case, args):
    cmd = [sys.executable, osp.abspath(__file__), '--case', json.dumps(case),
           '--device', args.device, '--repeats', str(args.repeats),
           '--warmup', str(args.warmup)]
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    env = dict(os.environ)
    if args.threads:
        env['OMP_NUM_THREADS'] = str(args.threads)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              timeout=args.case_timeout, cwd=_REPO_ROOT)
    except subprocess.TimeoutExpired:
        return dict(error=f'timed out after {args.case_timeout:g} s')
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return dict(error=f'exit {proc.returncode}: ' + ' / '.join(tail))


def gpu_peak_tbps(name):
    lowered = name.lower()
    for keys, tbps in GPU_PEAK_TBPS:
        if all(key in lowered for key in keys):
            return tbps
    return None


def machine_info(args):
    import torch
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    info = dict(cpu=cpu_name(), cores=cores, usable_cores=usable,
                torch=torch.__version__, python=platform.python_version(),
                threads=args.threads, gpu=None, gpu_peak_tbps=None)
    if args.device == 'cuda' and torch.cuda.is_available():
        info['gpu'] = torch.cuda.get_device_name()
        info['gpu_peak_tbps'] = gpu_peak_tbps(info['gpu'])
    return info


def fmt_time(seconds):
    return f'{seconds * 1e3:.1f} ms' if seconds < 1 else f'{seconds:.2f} s'


def fmt_bytes(n):
    if n is None:
        return 'n/a'
    if abs(n) >= 1 << 30:
        return f'{n / (1 << 30):.2f} GiB'
    return f'{n / (1 << 20):.1f} MiB'


def fmt_ratio(num, den):
    if num is None or den is None or den <= 0 or num <= 0:
        return 'n/a'
    ratio = num / den
    return f'{ratio:.2f}x' if ratio < 1 else f'{ratio:.1f}x'


def make_table(cases, results, info):
    cuda_bw = any(c['kind'] == 'aggregate' and c['device'] == 'cuda'
                  for c in cases)
    header = ['case', 'impl', 'median time', 'peak memory', 'baseline',
              'time ratio', 'memory ratio']
    if cuda_bw:
        header.append('effective GB/s')
    rows = ['| ' + ' | '.join(header) + ' |',
            '|' + '---|' * len(header)]
    groups = {}
    for case, result in zip(cases, results):
        groups.setdefault(case['group'], []).append((case, result))
    peak_gbps = (info['gpu_peak_tbps'] * 1000
                 if info.get('gpu_peak_tbps') else None)
    for group, members in groups.items():
        ok = {c['impl']: r for c, r in members if 'median_s' in r}
        base = next((n for n in BASELINES[members[0][0]['kind']] if n in ok),
                    None)
        for case, result in members:
            cells = [group, case['impl']]
            if 'median_s' not in result:
                why = result.get('skipped') or result.get('error')
                kind = 'skipped' if 'skipped' in result else 'failed'
                cells += [f'{kind}: {why}'] + [''] * (len(header) - 3)
                rows.append('| ' + ' | '.join(cells) + ' |')
                continue
            cells += [fmt_time(result['median_s']),
                      fmt_bytes(result['peak_bytes'])]
            if base is None or base == case['impl']:
                cells += [base or 'none', '1.0x' if base else '',
                          '1.0x' if base else '']
            else:
                b = ok[base]
                cells += [base, fmt_ratio(b['median_s'], result['median_s']),
                          fmt_ratio(b['peak_bytes'], result['peak_bytes'])]
            if cuda_bw:
                if 'bytes' in result:
                    gbps = result['bytes'] / result['median_s'] / 1e9
                    share = (f' ({100 * gbps / peak_gbps:.0f}% of '
                             f'{peak_gbps:.0f})' if peak_gbps else '')
                    cells.append(f'{gbps:.0f}{share}')
                else:
                    cells.append('')
            rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)


def make_section(args, info, table, command, elapsed):
    date = datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%d %H:%M UTC')
    gpu = info['gpu'] or 'none'
    if info['gpu'] and info['gpu_peak_tbps']:
        gpu += f" (peak {info['gpu_peak_tbps']} TB/s)"
    elif info['gpu']:
        gpu += ' (peak bandwidth not in the table)'
    threads = info['threads'] or "torch's default"
    lines = [
        f'## SGDC op / block / SGE ({args.device.upper()})',
        '',
        'Written by `tools/benchmark/benchmark_sgdc.py` (method in its '
        'docstring).',
        '',
        f'- command: `{command}`',
        f'- date: {date}; whole run {elapsed / 60:.1f} min',
        f"- machine: {info['cpu']}, {info['cores']} cores "
        f"({info['usable_cores']} usable), torch threads per case: "
        f'{threads}; GPU: {gpu}',
        f"- software: Python {info['python']}, torch {info['torch']}",
        f'- time: median of {args.repeats} timed calls after '
        f'{args.warmup} warm-up call(s), each case in a fresh process; peak '
        'memory (largest over the timed calls): '
        + ('`max_memory_allocated` increase over the call'
           if args.device == 'cuda' else
           'peak RSS increase over the call (`clear_refs` / `VmHWM`)'),
        '- ratios: baseline / row (above 1 = faster / smaller than the '
        'baseline)',
    ]
    if args.note:
        lines.append(f'- note: {args.note}')
    lines += ['', table]
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.case:
        return child_main(args)
    from sgdc_mmseg.ops.sgdc_aggregate_triton import triton_available
    triton_ok = triton_available()
    cases = build_cases(args, triton_ok)
    if args.device == 'cuda' and not triton_ok:
        print('triton is not importable: no triton rows', flush=True)
    if not args.train_step and (not args.only or 'train_step' in args.only):
        print('train_step cases skipped: they run on CUDA (or with '
              '--train-step)', flush=True)
    info = machine_info(args)
    start = time.perf_counter()
    results = []
    for i, case in enumerate(cases, 1):
        t0 = time.perf_counter()
        result = run_in_subprocess(case, args)
        results.append(result)
        if 'median_s' in result:
            what = (f"{fmt_time(result['median_s'])}, peak "
                    f"{fmt_bytes(result['peak_bytes'])}")
        else:
            what = ('skipped: ' + result['skipped'] if 'skipped' in result
                    else 'FAILED: ' + result['error'])
        print(f'[{i}/{len(cases)}] {case_label(case)}: {what} '
              f'({time.perf_counter() - t0:.0f} s wall)', flush=True)
    elapsed = time.perf_counter() - start
    table = make_table(cases, results, info)
    command = 'python ' + shlex.join(
        [osp.relpath(osp.abspath(__file__), _REPO_ROOT)] +
        (sys.argv[1:] if argv is None else list(argv)))
    section = make_section(args, info, table, command, elapsed)
    print()
    print(section)
    if args.out:
        write_section(args.out, section, *markers(args.device))
        print(f'\nwrote the section to {args.out}')
    failed = [case_label(c) for c, r in zip(cases, results) if 'error' in r]
    if failed:
        print(f'{len(failed)} case(s) failed: ' + '; '.join(failed),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
