#!/usr/bin/env python
"""Benchmark SGDC's aggregation op, the SGDC block, the SGE and whole models:
time and peak memory, every case in a fresh subprocess.

Usage::

    python tools/benchmark/benchmark_sgdc.py [--device cpu|cuda] [--quick]
        [--repeats N] [--warmup N] [--threads N] [--paper-code DIR]
        [--only aggregate block sge train_step models bound scaling]
        [--train-step|--no-train-step] [--models NAME ...]
        [--model-sizes S ...] [--model-batch B] [--scaling-models NAME ...]
        [--max-memory-gb GB] [--case-timeout S]
        [--out docs/benchmarks.md] [--note TEXT]

Cases (``--quick``: a tiny grid that only checks that everything runs):
``aggregate`` (the op, ``'reference'`` against ``'shift'`` and, on CPU,
``'cpp'`` (the fused C++ kernel) or, on CUDA, ``'triton'``, with the
effective bandwidth on CUDA), ``block`` (the SGDC block against
``backend='reference'`` and, with ``--paper-code DIR``, a checkout of
github solstice0621/SGDC, the paper's ``sgdc.py``), ``sge``
(channel-sum Sobel against the paper's ``C x C`` convolutions and the
paper's ``SGE.py``), ``train_step`` (CUDA by default, ``--train-step``
forces it: SGDC-R50 against UPerNet-R50) write the section between
``<!-- sgdc-ops:begin/end -->`` (``sgdc-ops-cuda`` on CUDA) of ``--out``.

``--only models`` (never part of a default run) writes the models table
between ``<!-- sgdc-models:begin/end -->``: params, FLOPs, latency of a
training step (forward, backward, SGD step) and of the eval forward, and
their peak memory, of SGDC, pool, self, UPerNet-R50 and FCN-UNet at
256x256 and 512x512, batch 2, fp32, in one run::

    python tools/benchmark/benchmark_sgdc.py --only models --out docs/benchmarks.md

``--only bound`` (CPU, only when named) writes
``<!-- sgdc-bound:begin/end -->``: the op at B=2, C=256, 128x128, k=7, 4
heads, fp32, forward+backward, its FLOPs and compulsory bytes, the bound
``max(FLOPs / sgemm FLOP/s, bytes / copy bandwidth)`` from the machine's
measured peaks, and per backend (reference, shift, cpp) the achieved
GFLOP/s, GB/s and time / bound::

    python tools/benchmark/benchmark_sgdc.py --only bound --out docs/benchmarks.md

``--only scaling`` (CPU, only when named) writes
``<!-- sgdc-scaling:begin/end -->`` and the log-log plot
``docs/benchmarks_scaling.png`` (``<out stem>_scaling.png``): time and
peak memory against the image size of the op (64^2 to 1024^2; cpp, shift,
and reference while its unfold fits ``--max-memory-gb``), the SGDC block
(64^2 to 512^2) and train steps of SGDC and UPerNet-R50 (128^2 to 512^2),
with a line ``time = a + b * pixels`` fitted per series::

    python tools/benchmark/benchmark_sgdc.py --only scaling --out docs/benchmarks.md

Each case runs in its own ``python`` process; the time is the median of
``--repeats`` timed calls after ``--warmup`` untimed ones, the peak memory
the largest increase over a timed call (method:
``sgdc_mmseg/benchmark/harness.py``; cases: ``sgdc_mmseg/benchmark/sgdc.py``,
``models.py``, ``bound.py`` and ``scaling.py``).
"""
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from sgdc_mmseg.cli.benchmark_sgdc import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
