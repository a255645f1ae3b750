"""The child process of the benchmark harness: ``python -m
sgdc_mmseg.benchmark.child CASE_JSON --device D --repeats N --warmup N
[--threads N]`` builds the case with its builder
(:data:`sgdc_mmseg.benchmark.cases.BUILDERS`), measures it
(:func:`~.harness.run_case`) and prints one line ``RESULT {json}``
(``{"skipped": reason}`` for a :class:`~.harness.SkipCase`); any other
error ends the process with a traceback, which the parent reports."""
import argparse
import json
import sys

from .harness import RESULT_PREFIX, SkipCase, run_case


def build_parser():
    parser = argparse.ArgumentParser(
        prog=f'python -m {__name__}',
        description='Measure one benchmark case (run by the harness)')
    parser.add_argument('case', help='the case as JSON')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--repeats', type=int, required=True)
    parser.add_argument('--warmup', type=int, required=True)
    parser.add_argument('--threads', type=int, default=None)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    case = json.loads(args.case)
    case.setdefault('device', args.device)
    from .cases import BUILDERS
    try:
        result = run_case(case, BUILDERS[case['kind']], args.repeats,
                          args.warmup, args.threads)
    except SkipCase as err:
        result = dict(skipped=str(err))
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
