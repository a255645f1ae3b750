"""Command line of ``tools/infer.py``: predict masks (and the SGE's maps)
for images, folders or globs; the work is
:func:`sgdc_mmseg.apis.predict.predict_images`. Exit status 1 when an image
could not be processed (the others are written)."""
import argparse

from ..apis.predict import PredictionRunError, PredictOptions, predict_images
from .common import (add_cfg_options_argument, add_non_strict_argument,
                     options_from_args)
from .test import add_ensemble_arguments


def build_parser():
    parser = argparse.ArgumentParser(
        description='Predict segmentation masks for images, folders or '
        'globs (and, with --edges, the SGE edge and guidance maps)')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        'inputs', nargs='+', metavar='INPUT',
        help='image file, folder or (quoted) glob pattern')
    parser.add_argument('--out-dir', required=True,
                        help='folder for masks/, overlays/, edges/, '
                        'guidance/, probs/ (not an input folder, nor one '
                        'that contains or lies inside one)')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace existing files in --out-dir that this tool did not '
        'write (without it they stop the run; files listed in '
        'DIR/.sgdc_outputs.json are always rewritten)')
    parser.add_argument(
        '--edges', action='store_true',
        help='also write the SGE edge map and the guidance picture')
    parser.add_argument(
        '--device', default='auto',
        help='cpu, cuda, cuda:N or auto (CUDA when available; default)')
    parser.add_argument('--batch-size', type=int, default=4,
                        help='images per forward pass (default 4)')
    parser.add_argument(
        '--resize', default='auto',
        help='auto (default: to the training size when the config implies '
        'one, see docs/inference.md), none (own size), or WIDTHxHEIGHT')
    parser.add_argument('--recursive', action='store_true',
                        help='also take images from sub-folders of a folder')
    parser.add_argument('--opacity', type=float, default=0.4,
                        help='fill opacity of the overlays (default 0.4)')
    parser.add_argument(
        '--tta', action='store_true',
        help='flip test-time augmentation: the image, its horizontal and its '
        'vertical flip, class probabilities averaged (with --ensemble: over '
        'every model and view)')
    add_ensemble_arguments(parser, probs_where='--out-dir DIR')
    add_cfg_options_argument(parser)
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    add_non_strict_argument(parser)
    return parser


def parse_args(argv=None):
    """Parsed arguments; ``--batch-size`` >= 1 and ``--opacity`` in [0, 1]
    (argparse's usage error otherwise)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    if not 0 <= args.opacity <= 1:
        parser.error(f'--opacity must be in [0, 1], got {args.opacity}')
    return args


def main(argv=None):
    """Predict; 0 when every image was written, 1 when some failed."""
    args = parse_args(argv)
    try:
        failures = predict_images(options_from_args(PredictOptions, args))
    except PredictionRunError as e:
        raise SystemExit(f'error: {e}')
    if failures:
        print(f'FAILED: {len(failures)} image(s) could not be processed:')
        for path, reason in failures:
            print(f'  {path}: {reason}')
        return 1
    return 0
