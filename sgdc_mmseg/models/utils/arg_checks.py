"""Construction-time argument checks shared by the SGDC layers and heads.

Every check raises with the owner (class name), the argument and the given
value, e.g. ``SGDCHead: num_heads must be a positive int, got 0``:

* ``TypeError`` when the value has the wrong type (a string, a float where
  an int is needed, ``None`` where a number is needed);
* ``ValueError`` when the type is right but the value is out of range or
  breaks a constraint (even kernel size, channels not divisible by heads).

``bool`` is never accepted as an int or a number (``True`` would otherwise
pass as 1). Ints must be Python ``int`` (what the aggregation op
:func:`sgdc_mmseg.ops.sgdc_aggregate` and torch's layer constructors
accept; a numpy integer is refused here rather than deep inside); numbers
may be any real number type (``int``, ``float``, numpy floats).
"""
import math
import numbers


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _int_phrase(minimum, odd):
    if minimum == 1:
        kind = 'a positive odd int' if odd else 'a positive int'
    else:
        kind = f'an{" odd" if odd else ""} int >= {minimum}'
    return kind


def check_int(owner, name, value, minimum=1, odd=False, allow_none=False):
    """``value`` as an ``int >= minimum`` (odd when ``odd``).

    Args:
        owner (str): class name put in front of the message.
        name (str): argument name.
        value: the given value.
        minimum (int): smallest allowed value (1: "a positive int").
        odd (bool): the value must also be odd.
        allow_none (bool): ``None`` is allowed and returned as is.

    Raises:
        TypeError: not an int (bools are not ints here).
        ValueError: below ``minimum`` or even when ``odd``.
    """
    if value is None and allow_none:
        return None
    kind = _int_phrase(minimum, odd)
    if allow_none:
        kind += ' or None'
    message = f'{owner}: {name} must be {kind}, got {value!r}'
    if not _is_int(value):
        raise TypeError(message)
    if value < minimum or (odd and value % 2 == 0):
        raise ValueError(message)
    return int(value)


def check_int_list(owner, name, values, minimum=None):
    """``values`` as a list of ints (each ``>= minimum`` unless None)."""
    kind = 'ints' if minimum is None else (
        'positive ints' if minimum == 1 else f'ints >= {minimum}')
    message = f'{owner}: {name} must be a list of {kind}, got {values!r}'
    if not isinstance(values, (list, tuple)) or not all(
            _is_int(v) for v in values):
        raise TypeError(message)
    if minimum is not None and any(v < minimum for v in values):
        raise ValueError(message)
    return [int(v) for v in values]


def check_number(owner, name, value, minimum=None, maximum=None,
                 min_inclusive=True, max_inclusive=True):
    """``value`` as a finite ``float`` within the given bounds.

    Raises:
        TypeError: not a real number (bools are not numbers here).
        ValueError: NaN, infinite or out of the bounds.
    """
    lo = '' if minimum is None else ('[' if min_inclusive else '(') + \
        f'{minimum}'
    hi = '' if maximum is None else f'{maximum}' + (
        ']' if max_inclusive else ')')
    if minimum is None and maximum is None:
        kind = 'a finite number'
    elif maximum is None:
        kind = f'a number {">=" if min_inclusive else ">"} {minimum}'
        if minimum == 0 and not min_inclusive:
            kind = 'a positive number'
    elif minimum is None:
        kind = f'a number {"<=" if max_inclusive else "<"} {maximum}'
    else:
        kind = f'a number in {lo}, {hi}'
    message = f'{owner}: {name} must be {kind}, got {value!r}'
    if not _is_real(value):
        raise TypeError(message)
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(message)
    if minimum is not None and (value < minimum or
                                (not min_inclusive and value == minimum)):
        raise ValueError(message)
    if maximum is not None and (value > maximum or
                                (not max_inclusive and value == maximum)):
        raise ValueError(message)
    return value


def check_choice(owner, name, value, choices):
    """``value`` when it is one of ``choices`` (compared by ``==`` on
    strings only, so ``1`` never matches ``'1'``)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f'{owner}: {name} must be one of {tuple(choices)}, '
                         f'got {value!r}')
    return value


def check_divisible(owner, name, value, divisor_name, divisor):
    """``value % divisor == 0`` (both already checked positive ints)."""
    if value % divisor != 0:
        raise ValueError(f'{owner}: {name} must be divisible by '
                         f'{divisor_name} ({divisor}), got {value!r}')
    return value
