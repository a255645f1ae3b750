"""The converters' error type and the checks of their arguments.

:class:`ConversionError` is what every converter raises for bad input (or
a bad output folder); its message names the file(s) or argument at fault,
and :func:`raise_problems` gathers several problems into one. The
``check_*`` functions validate the arguments of the library functions
(``convert(source, out, size=..., nproc=..., folds=..., seed=...)``) and
the least size of an image or mask.
"""
from typing import Optional, Sequence, Tuple

#: Images and masks need at least this many rows and columns (mmseg's
#: ``LoadAnnotations`` squeezes a dimension of size 1 away).
MIN_SIDE = 2

Size = Tuple[int, int]  # (width, height)


class ConversionError(ValueError):
    """Bad or unexpected input (or output folder) for a converter; the
    message names the file(s) or argument at fault."""


def raise_problems(what: str, problems: Sequence[str]) -> None:
    """Raise one :class:`ConversionError` listing all ``problems``."""
    if problems:
        raise ConversionError(
            f'{what}: nothing was written because of '
            f'{len(problems)} problem(s):\n  - ' + '\n  - '.join(problems))


def check_min_side(shape: Sequence[int], what: str) -> None:
    """Refuse an image or mask less than :data:`MIN_SIDE` pixels high or
    wide (the datasets could not load it as an H x W map)."""
    h, w = int(shape[0]), int(shape[1])
    if min(h, w) < MIN_SIDE:
        raise ConversionError(
            f'{what} is {h}x{w} (H x W); images and masks must be at least '
            f'{MIN_SIDE}x{MIN_SIDE} (mmseg\'s LoadAnnotations squeezes a '
            'dimension of size 1 away).')


def check_size(size) -> Optional[Size]:
    """Normalise a ``size`` argument of the library functions."""
    if size is None:
        return None
    if isinstance(size, int):
        size = (size, size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < MIN_SIDE:
        raise ConversionError(
            f'size must be W or (W, H) with integers >= {MIN_SIDE}, got '
            f'{size!r}.')
    return size


def check_nproc(nproc: int) -> int:
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ConversionError(
            f'nproc must be an integer >= 1, got {nproc!r}.')
    return nproc


def check_folds(folds: int, seed: int) -> None:
    if isinstance(folds, bool) or not isinstance(folds, int) or \
            folds < 0 or folds == 1:
        raise ConversionError(
            f'folds must be 0 (no folds) or an integer >= 2, got {folds!r}.')
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConversionError(f'seed must be an integer, got {seed!r}.')
