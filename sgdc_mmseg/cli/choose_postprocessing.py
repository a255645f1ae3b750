"""Command line of ``tools/analysis/choose_postprocessing.py``: choose the
post-processing of every foreground class on pooled cross-validation
predictions; the work is
:func:`sgdc_mmseg.apis.postprocessing.choose_from_prediction_dirs` and
:func:`sgdc_mmseg.evaluation.postprocessing.save_postprocessing`."""
import argparse

from ..apis.postprocessing import choose_from_prediction_dirs
from ..evaluation.postprocessing import (DEFAULT_MIN_SIZES, METRICS,
                                         default_candidates,
                                         describe_postprocessing,
                                         save_postprocessing)
from .common import add_cfg_options_argument


def build_parser():
    parser = argparse.ArgumentParser(
        description='Choose post-processing (keep the largest component, '
        'remove small components) per class on the pooled held-out '
        'predictions of a cross-validation (nnU-Net\'s rule: kept only '
        'when the pooled mean per-image score strictly improves)')
    parser.add_argument(
        'config', help='config whose test/val/train datasets hold the ground '
        'truth of every predicted image (e.g. one fold\'s config)')
    parser.add_argument(
        'pred_dirs', nargs='+', metavar='PRED_DIR',
        help='prediction folder of tools/test.py --out DIR (DIR/pred, or '
        'DIR itself), one per fold')
    parser.add_argument('-o', '--output', required=True,
                        help='the JSON file to write (conventionally '
                        '<work_dir>/postprocessing.json)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output file')
    parser.add_argument('--metric', choices=METRICS, default='dice',
                        help='per-image score to improve (default dice)')
    parser.add_argument(
        '--min-sizes', type=int, nargs='*', default=list(DEFAULT_MIN_SIZES),
        metavar='N', help='component sizes (pixels) tried by "remove '
        'components below N pixels" (default: '
        f'{" ".join(map(str, DEFAULT_MIN_SIZES))}; none: only "keep the '
        'largest component")')
    parser.add_argument('--connectivity', type=int, choices=(1, 2),
                        default=2, help='1: 4-neighbours, 2: 8-neighbours '
                        '(default)')
    add_cfg_options_argument(parser)
    return parser


def main(argv=None):
    """Choose and write the spec; 0 on success (``SystemExit('error:
    ...')`` on bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    bad = [n for n in args.min_sizes if n < 1]
    if bad:
        parser.error(f'--min-sizes must be >= 1, got {bad}')
    try:
        spec = choose_from_prediction_dirs(
            args.config, args.pred_dirs, args.cfg_options,
            candidates=default_candidates(args.min_sizes),
            metric=args.metric, connectivity=args.connectivity)
        path = save_postprocessing(spec, args.output,
                                   overwrite=args.overwrite)
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        raise SystemExit(f'error: {e}')
    for line in describe_postprocessing(spec):
        print(line)
    print(f'post-processing written to {path}')
    return 0
