"""Command line of ``tools/train.py``: train a segmentor with mmengine's
Runner; the config is :func:`sgdc_mmseg.engine.training.build_train_cfg`,
the Runner :func:`sgdc_mmseg.engine.launch.build_runner`."""
import argparse

from ..engine.launch import build_runner, export_local_rank
from ..engine.training import (AUTO_RESUME, AmpUnavailableError,
                               build_train_cfg)
from .common import (add_cfg_options_argument, add_launcher_argument,
                     add_local_rank_argument)


def build_parser():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', const=AUTO_RESUME, default=None,
        metavar='CHECKPOINT',
        help='resume from the latest checkpoint in the work dir, or from '
        'CHECKPOINT when given')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='enable automatic-mixed-precision training (needs a GPU)')
    add_cfg_options_argument(
        parser, help_text='override settings in the config, e.g. '
        'train_cfg.max_iters=100 "model.backbone.depth=50"')
    add_launcher_argument(parser)
    add_local_rank_argument(parser)
    return parser


def cfg_from_args(args):
    """The training config of parsed arguments."""
    return build_train_cfg(args.config, launcher=args.launcher,
                           cfg_options=args.cfg_options,
                           work_dir=args.work_dir, amp=args.amp,
                           resume=args.resume)


def main(argv=None):
    """Train; 0 when done (``SystemExit('error: ...')`` when refused)."""
    args = build_parser().parse_args(argv)
    export_local_rank(args.local_rank)
    try:
        cfg = cfg_from_args(args)
    except AmpUnavailableError as e:
        raise SystemExit(f'error: {e}')
    build_runner(cfg).train()
    return 0
