"""Argument checks shared by the layers and heads: types vs ranges, bools
refused, messages naming owner, argument and value."""
import pytest

from sgdc_mmseg.models.utils import (check_choice, check_divisible,
                                     check_int, check_int_list, check_number)


def test_check_int_accepts_and_returns():
    assert check_int('A', 'n', 3) == 3
    assert check_int('A', 'n', 0, minimum=0) == 0
    assert check_int('A', 'k', 5, odd=True) == 5
    assert check_int('A', 'p', None, allow_none=True) is None


@pytest.mark.parametrize('kwargs,exc,message', [
    (dict(value=0), ValueError, 'A: n must be a positive int, got 0'),
    (dict(value=True), TypeError, 'A: n must be a positive int, got True'),
    (dict(value=2.0), TypeError, 'A: n must be a positive int, got 2.0'),
    (dict(value='2'), TypeError, "A: n must be a positive int, got '2'"),
    (dict(value=None), TypeError, 'A: n must be a positive int, got None'),
    (dict(value=-1, minimum=0), ValueError,
     'A: n must be an int >= 0, got -1'),
    (dict(value=4, odd=True), ValueError,
     'A: n must be a positive odd int, got 4'),
    (dict(value=0, allow_none=True), ValueError,
     'A: n must be a positive int or None, got 0'),
])
def test_check_int_errors(kwargs, exc, message):
    with pytest.raises(exc) as err:
        check_int('A', 'n', **kwargs)
    assert str(err.value) == message


def test_check_int_list():
    assert check_int_list('A', 'idx', (0, -1)) == [0, -1]
    with pytest.raises(TypeError, match=r'A: idx must be a list of ints, '
                       r'got \[0, True\]'):
        check_int_list('A', 'idx', [0, True])
    with pytest.raises(TypeError, match='got 3'):
        check_int_list('A', 'idx', 3)
    with pytest.raises(ValueError, match=r'A: c must be a list of positive '
                       r'ints, got \[4, 0\]'):
        check_int_list('A', 'c', [4, 0], minimum=1)


@pytest.mark.parametrize('value,kwargs,exc,message', [
    (True, {}, TypeError, 'A: x must be a finite number, got True'),
    ('1', {}, TypeError, "A: x must be a finite number, got '1'"),
    (float('nan'), {}, ValueError, 'A: x must be a finite number, got nan'),
    (0, dict(minimum=0, min_inclusive=False), ValueError,
     'A: x must be a positive number, got 0'),
    (1.0, dict(minimum=0, maximum=1, max_inclusive=False), ValueError,
     'A: x must be a number in [0, 1), got 1.0'),
    (-0.5, dict(minimum=0), ValueError, 'A: x must be a number >= 0, got -0.5'),
])
def test_check_number_errors(value, kwargs, exc, message):
    with pytest.raises(exc) as err:
        check_number('A', 'x', value, **kwargs)
    assert str(err.value) == message


def test_check_number_choice_divisible():
    assert check_number('A', 'x', 1, minimum=0) == 1.0
    assert check_choice('A', 's', 'b', ('a', 'b')) == 'b'
    with pytest.raises(ValueError, match=r"A: s must be one of \('a', 'b'\), "
                       r"got \['a'\]"):
        check_choice('A', 's', ['a'], ('a', 'b'))
    assert check_divisible('A', 'c', 8, 'h', 4) == 8
    with pytest.raises(ValueError, match=r'A: c must be divisible by h \(3\), '
                       r'got 8'):
        check_divisible('A', 'c', 8, 'h', 3)
