"""Command line of ``tools/benchmark/medical_metric.py``; the benchmark is
:func:`sgdc_mmseg.benchmark.medical_metric.run_medical_metric_benchmark`."""
import argparse


def build_parser():
    parser = argparse.ArgumentParser(
        description='Benchmark: scoring mask pairs through MedicalMetric '
        'against a plain scipy HD95 loop')
    parser.add_argument('--num', type=int, default=1000, help='mask pairs')
    parser.add_argument('--size', type=int, default=512, help='mask side')
    parser.add_argument('--threads', type=int, default=2,
                        help='OpenCV / torch threads')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='Markdown file to update')
    return parser


def main(argv=None):
    """Run the benchmark; 0."""
    import sys
    from ..benchmark.medical_metric import run_medical_metric_benchmark
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, minimum in (('num', 1), ('size', 8), ('threads', 1)):
        if getattr(args, name) < minimum:
            parser.error(f'--{name} must be >= {minimum}, got '
                         f'{getattr(args, name)}')
    command = 'python tools/benchmark/medical_metric.py ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    run_medical_metric_benchmark(args.num, args.size, args.threads,
                                 args.seed, command.strip(), out=args.out)
    return 0
