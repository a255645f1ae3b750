"""Command line of ``tools/analysis/plot_curves.py``: training curves from
mmengine logs (read by :func:`sgdc_mmseg.engine.training_logs.load_runs`,
drawn by :func:`sgdc_mmseg.visualization.curves.plot_curves`)."""
import argparse

from ..engine.training_logs import load_runs
from ..visualization.curves import plot_curves


def build_parser():
    parser = argparse.ArgumentParser(
        description='Plot losses and validation metrics of training runs')
    parser.add_argument('inputs', nargs='+', metavar='WORK_DIR',
                        help='work dir, run folder or scalars.json')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument('--keys', nargs='+', default=None,
                        help='training keys to plot (default: every key '
                        'containing "loss")')
    parser.add_argument('--metrics', nargs='+', default=None,
                        help='validation keys to plot (default: all)')
    parser.add_argument('--title', default=None, help='figure title')
    return parser


def main(argv=None):
    """Plot; 0 when written."""
    args = build_parser().parse_args(argv)
    try:
        curves = load_runs(args.inputs)
        plot_curves(curves, args.out, args.keys, args.metrics, args.title)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    for label, (train, val) in curves.items():
        print(f'{label}: {len(train)} training and {len(val)} validation '
              'entries')
    print(f'wrote {args.out}')
    return 0
