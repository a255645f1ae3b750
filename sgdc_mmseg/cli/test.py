"""Command line of ``tools/test.py``: test (and optionally visualise) a
segmentor checkpoint; the work is :func:`sgdc_mmseg.engine.testing.run_test`
(``summary.json``: :mod:`sgdc_mmseg.evaluation.test_outputs`)."""
import argparse

from ..engine.launch import export_local_rank
from ..engine.testing import TestOptions, TestRunError, run_test
from .common import (add_cfg_options_argument, add_launcher_argument,
                     add_local_rank_argument, add_non_strict_argument,
                     options_from_args)


def add_ensemble_arguments(parser, probs_where='--out DIR'):
    """``--ensemble CKPT [CKPT ...]``, ``--save-probs`` and ``--postprocess
    FILE`` (``tools/test.py`` and ``tools/infer.py``)."""
    parser.add_argument(
        '--ensemble', nargs='+', metavar='CKPT', default=None,
        help='further checkpoints of the same config: the class '
        'probabilities of all models (softmax, or sigmoid for a single-logit '
        'model) are averaged before the argmax; each must fit the model '
        'like CHECKPOINT')
    parser.add_argument(
        '--save-probs', action='store_true',
        help=f'save per-image class probabilities to {probs_where}/probs/'
        '<image stem>.npz (array "probs": float16, num_classes x H x W at '
        'the original size; not post-processed)')
    parser.add_argument(
        '--postprocess', metavar='FILE', default=None,
        help='post-processing spec (JSON, e.g. <work_dir>/postprocessing.json '
        'from tools/analysis/choose_postprocessing.py) applied to the label '
        'map after the argmax, before metrics and files; never picked up '
        'unless given')


def build_parser():
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a segmentor checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument(
        '--out', help='dir for summary.json, the per-image metrics CSV, the '
        'predicted segmentation maps (DIR/pred/<image stem>.png, what '
        "mmseg's confusion_matrix.py reads) and, with --save-probs, "
        'DIR/probs (not a folder of the test data, nor one that contains '
        'or lies inside one)')
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
        'the config; with --ensemble, --postprocess or --save-probs only '
        'tta_pipeline: the views are averaged in probability space)')
    add_ensemble_arguments(parser)
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
