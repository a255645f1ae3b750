"""Command line of ``tools/analysis/worst_cases.py``: the figure of the
worst test cases; the work is
:func:`sgdc_mmseg.apis.worst_cases.draw_worst_cases`."""
import argparse

from ..apis.worst_cases import (WorstCasesError, WorstCasesOptions,
                                draw_worst_cases)
from ..evaluation.case_ranking import SORT_KEYS
from .common import (add_cfg_options_argument, add_non_strict_argument,
                     options_from_args)


def build_parser():
    parser = argparse.ArgumentParser(
        description='Figure of the worst test cases (image, ground truth, '
        'prediction, SGE edge map, true boundary)')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        'metrics', help='summary.json or per_image_metrics.csv from '
        'tools/test.py --out')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument('--num', type=int, default=8,
                        help='number of cases (default 8)')
    parser.add_argument('--sort-by', choices=sorted(SORT_KEYS),
                        default='dice', help='dice (lowest first, default) '
                        'or hd95 (highest first)')
    parser.add_argument('--class', dest='class_name', default=None,
                        help='rank by this class (default: mean over the '
                        'foreground classes)')
    parser.add_argument('--device', default='auto',
                        help='cpu, cuda:N or auto (default)')
    parser.add_argument('--thumb', type=int, default=160,
                        help='longest side of each panel in pixels '
                        '(default 160)')
    parser.add_argument('--colors', type=int, default=0,
                        help='store a palette PNG with this many colours '
                        '(2-256; default 0: full colour)')
    add_cfg_options_argument(parser)
    add_non_strict_argument(parser)
    return parser


def parse_args(argv=None):
    """Parsed arguments; ``--num`` >= 1 and ``--thumb`` >= 16 (argparse's
    usage error otherwise)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error(f'--num must be >= 1, got {args.num}')
    if args.thumb < 16:
        parser.error(f'--thumb must be >= 16, got {args.thumb}')
    return args


def main(argv=None):
    """Draw the figure; 0 when written."""
    args = parse_args(argv)
    try:
        num = draw_worst_cases(options_from_args(WorstCasesOptions, args))
    except WorstCasesError as e:
        raise SystemExit(f'error: {e}')
    print(f'wrote {args.out} ({num} cases, sorted by {args.sort_by})')
    return 0
