"""Command line of ``tools/analysis/score_probs.py``: score saved class
probabilities with a config's test evaluators, without the model; the work
is :func:`sgdc_mmseg.engine.testing.run_score_probs`."""
import argparse

from ..engine.testing import ScoreProbsOptions, TestRunError, run_score_probs
from .common import add_cfg_options_argument, options_from_args


def build_parser():
    parser = argparse.ArgumentParser(
        description='Score saved probabilities (<image stem>.npz from '
        '--save-probs) against the ground truth of the config\'s test set '
        'with its test evaluators, as tools/test.py would')
    parser.add_argument('config', help='config of the test set')
    parser.add_argument('probs_dir', metavar='PROBS_DIR',
                        help='folder of <image stem>.npz files (DIR/probs '
                        'of tools/test.py or tools/infer.py --save-probs)')
    parser.add_argument(
        '--out', help='write summary.json, the per-image CSV and pred/ '
        'there, as tools/test.py --out does')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing files in --out that this '
                        'tool did not write')
    parser.add_argument('--postprocess', metavar='FILE', default=None,
                        help='post-processing spec applied to the label map')
    add_cfg_options_argument(parser)
    return parser


def main(argv=None):
    """Score; 0 on success (``SystemExit('error: ...')`` when refused)."""
    args = build_parser().parse_args(argv)
    try:
        metrics = run_score_probs(options_from_args(ScoreProbsOptions, args))
    except TestRunError as e:
        raise SystemExit(f'error: {e}')
    for key, value in metrics.items():
        print(f'{key}: {value}')
    return 0
