"""Command line of ``tools/test.py``: test (and optionally visualise) a
segmentor checkpoint; the work is :func:`sgdc_mmseg.engine.testing.run_test`
(``summary.json``: :mod:`sgdc_mmseg.evaluation.test_outputs`)."""
import argparse

from ..engine.launch import export_local_rank
from ..engine.testing import TestOptions, TestRunError, run_test
from .common import (add_cfg_options_argument, add_launcher_argument,
                     add_local_rank_argument, add_non_strict_argument,
                     options_from_args)


def build_parser():
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a segmentor checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument(
        '--out', help='dir to save the predicted segmentation maps (PNG), '
        'the per-image metrics and summary.json (not a folder of the test '
        'data, nor one that contains or lies inside one)')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace existing files in --out that this tool did not write '
        '(without it they stop the run before the model is built)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir', help='dir where painted images are saved, under '
        'DIR/vis_data/vis_image (relative to the current folder; not a '
        'folder of the test data)')
    parser.add_argument(
        '--wait-time', type=float, default=2,
        help='seconds each shown image stays up')
    add_cfg_options_argument(parser)
    add_launcher_argument(parser)
    parser.add_argument(
        '--tta', action='store_true',
        help='test-time augmentation (needs tta_model and tta_pipeline in '
        'the config)')
    add_non_strict_argument(parser)
    add_local_rank_argument(parser)
    return parser


def main(argv=None):
    """Run the test; 0 on success (``SystemExit('error: ...')`` when
    refused)."""
    args = build_parser().parse_args(argv)
    export_local_rank(args.local_rank)
    try:
        run_test(options_from_args(TestOptions, args))
    except TestRunError as e:
        raise SystemExit(f'error: {e}')
    return 0
