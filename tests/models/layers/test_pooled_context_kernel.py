"""PooledContextKernel: construction checks."""
import pytest

from sgdc_mmseg.models.layers import PooledContextKernel


@pytest.mark.parametrize('args,exc,message', [
    ((8, 0, 3), ValueError,
     'PooledContextKernel: num_heads must be a positive int, got 0'),
    ((8, '2', 3), TypeError,
     "PooledContextKernel: num_heads must be a positive int, got '2'"),
    ((8, 3, 3), ValueError,
     'PooledContextKernel: channels must be divisible by num_heads (3), '
     'got 8'),
    ((8, 2, 4), ValueError,
     'PooledContextKernel: kernel_size must be a positive odd int, got 4'),
    ((8, 2, 3, 0), ValueError,
     'PooledContextKernel: pool_size must be a positive int or None, got 0'),
    ((8, 2, 3, True), TypeError,
     'PooledContextKernel: pool_size must be a positive int or None, '
     'got True'),
])
def test_invalid_arguments(args, exc, message):
    with pytest.raises(exc) as err:
        PooledContextKernel(*args)
    assert str(err.value) == message
