#!/usr/bin/env python
"""FLOPs and parameters of a segmentor, SGDC's aggregation op included.

Usage::

    python tools/analysis/get_flops.py CONFIG [--shape H [W]]
        [--cfg-options k=v ...] [--table] [--json OUT.json]

Counts one ``3 x H x W`` image (default 512 x 512) through the model in
eval mode without its auxiliary heads, with mmengine's FLOP counter and our
handle for ``sgdc_mmseg::sgdc_aggregate`` (``B*C*k^2*H*W``); one FLOP is
one multiply-add, as in mmengine's convolution handle. See
:func:`sgdc_mmseg.compat.flops.model_complexity` (mmseg 1.2.2's own
``get_flops.py`` fails with mmengine 0.10.7). Operators that no handle
counts are listed under "not counted".
"""
import argparse
import json
import os.path as osp
import sys

_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import sgdc_mmseg  # noqa: E402,F401  (compat layer first)
from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs='+', default=[512, 512],
                        help='input H [W] (default: 512 512)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--table', action='store_true',
                        help="also print mmengine's per-module table")
    parser.add_argument('--json', help='also write the numbers to this file')
    return parser.parse_args(argv)


def main(argv=None):
    from mmengine.analysis.print_helper import _format_size

    from sgdc_mmseg.compat.flops import model_complexity, parse_shape
    args = parse_args(argv)
    try:
        shape = parse_shape(args.shape)
    except ValueError as err:
        sys.exit(f'get_flops.py: {err}')
    if not osp.isfile(args.config):
        sys.exit(f'get_flops.py: config "{args.config}" not found')
    result = model_complexity(args.config, shape, args.cfg_options)
    line = '=' * 40
    print(line)
    print(f'config: {args.config}')
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
    if args.table:
        print(result['table'])
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({k: v for k, v in result.items() if k != 'table'}, f,
                      indent=2)
    return result


if __name__ == '__main__':
    main()
