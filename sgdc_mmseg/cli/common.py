"""Arguments several command lines share, and turning parsed arguments into
the package's option dataclasses."""
from dataclasses import fields


def add_cfg_options_argument(parser,
                             help_text='override settings in the config'):
    """``--cfg-options KEY=VALUE ...`` (mmengine's ``DictAction``)."""
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        metavar='KEY=VALUE', help=help_text)


def add_non_strict_argument(parser):
    """``--non-strict``: load a checkpoint that does not fit the model."""
    parser.add_argument(
        '--non-strict', action='store_true',
        help='load a checkpoint that does not fit the model (missing, '
        'unexpected or differently shaped tensors): what fits is loaded, '
        'with a warning')


def add_launcher_argument(parser):
    """``--launcher none|pytorch|slurm|mpi``."""
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')


def add_local_rank_argument(parser):
    """The ``--local-rank`` older launchers pass (``torch.distributed.launch``;
    even older ones ``--local_rank``); see
    :func:`sgdc_mmseg.engine.launch.export_local_rank`."""
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def options_from_args(options_cls, args, **renamed):
    """An ``options_cls`` dataclass filled from the argparse namespace
    ``args`` (attribute of the same name, or ``renamed[field]``)."""
    return options_cls(**{
        f.name: getattr(args, renamed.get(f.name, f.name))
        for f in fields(options_cls)})
