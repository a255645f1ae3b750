"""Command line of ``tools/analysis/get_flops.py``: FLOPs and parameters of
a segmentor, SGDC's aggregation included; the work is
:func:`sgdc_mmseg.compat.flops.model_complexity`."""
import argparse

from ..compat.flops import model_complexity, parse_shape
from ..utils.fileio import atomic_write_json
from .common import add_cfg_options_argument


def build_parser():
    parser = argparse.ArgumentParser(
        description='FLOPs and parameters of a segmentor, SGDC\'s '
        'aggregation op included')
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs='+', default=[512, 512],
                        help='input H [W] (default: 512 512)')
    add_cfg_options_argument(parser)
    parser.add_argument('--table', action='store_true',
                        help="also print mmengine's per-module table")
    parser.add_argument('--json', help='also write the numbers to this file')
    return parser


def print_summary(config, result):
    """The numbers of :func:`model_complexity`'s ``result``, one per line
    (sizes as mmengine formats them)."""
    from mmengine.analysis.print_helper import _format_size
    line = '=' * 40
    print(line)
    print(f'config: {config}')
    print(f'input shape: {result["input_shape"]}')
    print(f'FLOPs (multiply-adds): {_format_size(result["flops"])} '
          f'({result["flops"]})')
    print(f'params: {_format_size(result["params"])} ({result["params"]})')
    print('FLOPs by operator: ' + ', '.join(
        f'{k} {_format_size(v)}'
        for k, v in sorted(result['by_operator'].items())))
    if result['uncounted']:
        print('not counted (0 FLOPs): ' + ', '.join(
            f'{k} x{v}' for k, v in sorted(result['uncounted'].items())))
    print(line)


def main(argv=None):
    """Count and print; 0 when done."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        shape = parse_shape(args.shape)
    except ValueError as e:
        parser.error(str(e))
    try:
        result = model_complexity(args.config, shape, args.cfg_options)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    print_summary(args.config, result)
    if args.table:
        print(result['table'])
    if args.json:
        atomic_write_json(args.json, {k: v for k, v in result.items()
                                      if k != 'table'})
    return 0
