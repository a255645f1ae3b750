"""Command line of ``tools/benchmark/benchmark_sgdc.py``; the cases, tables
and run are :mod:`sgdc_mmseg.benchmark.sgdc` (models table:
:mod:`sgdc_mmseg.benchmark.models`; ``--only bound``:
:mod:`sgdc_mmseg.benchmark.bound`; ``--only scaling``:
:mod:`sgdc_mmseg.benchmark.scaling`; method:
:mod:`sgdc_mmseg.benchmark.harness`)."""
import argparse
import shlex

from ..benchmark.models import MODEL_BATCH, MODEL_CONFIGS, MODEL_SIZES
from ..benchmark.scaling import SCALING_MODELS
from ..benchmark.sgdc import (BEGIN, CPU_KINDS, END, KINDS,
                              SGDCBenchmarkOptions, run_sgdc_benchmark)
from .common import options_from_args

TOOL = 'tools/benchmark/benchmark_sgdc.py'


def build_parser():
    parser = argparse.ArgumentParser(
        description="Benchmark SGDC's aggregation op, the SGDC block, the "
        'SGE and whole models: time and peak memory, every case in a fresh '
        'subprocess')
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
                        help='run only these kinds of cases (models, bound '
                        'and scaling: only when named here; bound and '
                        'scaling on CPU)')
    train = parser.add_mutually_exclusive_group()
    train.add_argument('--train-step', dest='train_step',
                       action='store_true', default=None,
                       help='run the train_step cases (default: on CUDA)')
    train.add_argument('--no-train-step', dest='train_step',
                       action='store_false')
    parser.add_argument('--compile-train-step', action='store_true',
                        help='also time both train steps under '
                        'torch.compile (mmengine\'s compile=True; the '
                        'warm-up calls absorb the compilation)')
    parser.add_argument('--models', nargs='+', choices=tuple(MODEL_CONFIGS),
                        default=list(MODEL_CONFIGS),
                        help='rows of the models table (default: all)')
    parser.add_argument('--model-sizes', nargs='+', type=int,
                        default=list(MODEL_SIZES), metavar='S',
                        help='input sizes S (SxS) of the models table '
                        '(default: %(default)s)')
    parser.add_argument('--model-batch', type=int, default=MODEL_BATCH,
                        help='batch of the models table (default: '
                        '%(default)s)')
    parser.add_argument('--scaling-models', nargs='+',
                        choices=tuple(MODEL_CONFIGS),
                        default=list(SCALING_MODELS),
                        help='models whose train step the scaling kind '
                        'times (default: %(default)s)')
    parser.add_argument('--max-memory-gb', type=float, default=20,
                        metavar='GB',
                        help="scaling: skip a 'reference' op point whose "
                        'unfold is estimated (3 x C*k*k*H*W*4 bytes) above '
                        'this many GB (10^9 bytes; default %(default)g)')
    parser.add_argument('--case-timeout', type=float, default=1800,
                        help='seconds before a case is abandoned')
    parser.add_argument('--out', help='Markdown file whose section between '
                        f'{BEGIN} and {END} (CPU; sgdc-ops-cuda on CUDA; '
                        'the models table: sgdc-models[-cuda]; bound: '
                        'sgdc-bound; scaling: sgdc-scaling, and its plot '
                        '<out stem>_scaling.png next to it) '
                        'is written/replaced')
    parser.add_argument('--note', help='a line added to the written section '
                        '(e.g. the machine was shared)')
    return parser


def check_args(parser, args):
    """Refuse out-of-range numbers, a missing ``--paper-code`` folder and a
    CPU-only kind on CUDA (``parser.error``: usage, the argument, exit
    status 2)."""
    import os.path as osp
    for name, minimum in (('repeats', 1), ('warmup', 0), ('threads', 1),
                          ('model_batch', 1)):
        value = getattr(args, name)
        if value is not None and value < minimum:
            parser.error(f"--{name.replace('_', '-')} must be >= "
                         f'{minimum}, got {value}')
    bad_sizes = [s for s in args.model_sizes if s < 1]
    if bad_sizes:
        parser.error(f'--model-sizes must be positive, got {bad_sizes}')
    if args.paper_code and not osp.isdir(args.paper_code):
        parser.error(f'--paper-code {args.paper_code!r} is not a directory')
    if not args.max_memory_gb > 0:
        parser.error('--max-memory-gb must be > 0, got '
                     f'{args.max_memory_gb:g}')
    cpu_only = [k for k in args.only or () if k in CPU_KINDS]
    if cpu_only and args.device != 'cpu':
        parser.error(f'--only {" ".join(cpu_only)} measures the CPU op: '
                     f'use --device cpu, not {args.device}')


def main(argv=None):
    """Run the benchmark; 1 when a case failed, else 0."""
    import sys
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    args.command = 'python ' + shlex.join(
        [TOOL] + (sys.argv[1:] if argv is None else list(argv)))
    return run_sgdc_benchmark(options_from_args(SGDCBenchmarkOptions, args))
