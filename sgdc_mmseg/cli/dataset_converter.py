"""Arguments and exit status shared by the command lines of
``tools/dataset_converters/*.py`` (:mod:`.convert_isic2016`,
:mod:`.convert_isic2018`, :mod:`.convert_ph2`, :mod:`.convert_conic`).

Every converter takes SOURCE, ``-o OUT``, ``--size W [H]``, ``--nproc`` and
``--overwrite`` (:func:`base_parser`), some ``--folds`` / ``--seed``
(:func:`add_fold_args`). :func:`run_converter` parses and checks these
arguments (an argparse error: exit status 2), calls the converter's
``convert`` and turns a
:class:`~sgdc_mmseg.datasets.converters.ConversionError` into ``error:
...`` on stderr and exit status 1.
"""
import argparse
import sys
from typing import Callable, Optional, Sequence

from ..datasets.converters.checks import MIN_SIDE, ConversionError, Size


def base_parser(name: str, description: str, epilog: str,
                source_help: str = 'folder holding the official zip files or '
                'their extracted folders',
                data_dirs: Sequence[str] = ('images', 'masks')
                ) -> argparse.ArgumentParser:
    """Arguments every converter takes: SOURCE, -o, --size, --nproc,
    --overwrite."""
    parser = argparse.ArgumentParser(
        prog=f'python tools/dataset_converters/{name}.py',
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'source', metavar='SOURCE',
        help=f'{source_help} (read only, never modified)')
    parser.add_argument(
        '-o', '--out', required=True, metavar='OUT',
        help='output folder (created if missing)')
    parser.add_argument(
        '--size', nargs='+', type=int, metavar=('W', 'H'),
        help='resize every sample to W x H (H defaults to W; both >= 2): '
        'images with '
        'area averaging (bilinear when enlarging), masks nearest; images '
        'are then written as .png. Default: keep the original size')
    parser.add_argument(
        '--nproc', type=int, default=1,
        help='worker processes (default: 1)')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace an existing conversion in OUT made with other '
        'settings, or an incomplete one (removes only the converter\'s own '
        f'outputs: {", ".join(d + "/" for d in data_dirs)}, splits/, '
        'conversion.json)')
    return parser


def add_fold_args(parser: argparse.ArgumentParser, default_folds: int,
                  what: str) -> None:
    parser.add_argument(
        '--folds', type=int, default=default_folds,
        help=f'number of k-fold splits over {what} (0: none; default: '
        f'{default_folds})')
    parser.add_argument(
        '--seed', type=int, default=0,
        help='seed of the k-fold permutation (default: 0)')


def check_args(parser: argparse.ArgumentParser,
               args: argparse.Namespace) -> Optional[Size]:
    """Validate the common arguments; returns ``--size`` as (W, H)."""
    size = None
    if args.size is not None:
        if len(args.size) not in (1, 2) or min(args.size) < MIN_SIDE:
            parser.error(f'--size takes one or two integers >= {MIN_SIDE}: '
                         f'W [H], got {" ".join(map(str, args.size))}')
        size = (args.size[0], args.size[-1])
    if args.nproc < 1:
        parser.error(f'--nproc must be >= 1, got {args.nproc}')
    folds = getattr(args, 'folds', 0)
    if folds is not None and (folds < 0 or folds == 1):
        parser.error(f'--folds must be 0 (no folds) or >= 2, got {folds}')
    return size


def convert_kwargs(args: argparse.Namespace, size: Optional[Size]) -> dict:
    """The keyword arguments of ``convert(source, out, ...)`` that every
    converter takes (``folds`` and ``seed`` when the parser has them)."""
    kwargs = dict(size=size, nproc=args.nproc, overwrite=args.overwrite)
    if hasattr(args, 'folds'):
        kwargs.update(folds=args.folds, seed=args.seed)
    return kwargs


def run_converter(parser: argparse.ArgumentParser, argv, convert: Callable,
                  **extra: Callable[[argparse.Namespace], object]) -> int:
    """Parse ``argv``, call ``convert(source, out, **kwargs)`` (the
    :func:`convert_kwargs`, plus ``name=extra[name](args)``) and turn a
    :class:`ConversionError` into a message on stderr and exit status 1."""
    args = parser.parse_args(argv)
    size = check_args(parser, args)
    kwargs = convert_kwargs(args, size)
    kwargs.update({name: get(args) for name, get in extra.items()})
    try:
        convert(args.source, args.out, **kwargs)
    except ConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0
