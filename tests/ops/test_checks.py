"""The input contract every sgdc_aggregate backend shares."""
import pytest
import torch

from sgdc_mmseg.ops.checks import (CAN_RUN, Verdict, check_aggregate_args,
                                   promote_inputs)


@pytest.mark.parametrize('k,heads,x_shape,l_shape,match', [
    (4, 1, (1, 2, 3, 3), (1, 16, 3, 3), 'kernel_size must be a positive odd'),
    (3.0, 1, (1, 2, 3, 3), (1, 9, 3, 3), 'kernel_size must be a positive odd'),
    (3, 0, (1, 2, 3, 3), (1, 0, 3, 3), 'num_heads must be a positive int'),
    (3, 1, (2, 3, 3), (1, 9, 3, 3), r'x must be \[B, C, H, W\]'),
    (3, 3, (1, 4, 3, 3), (1, 27, 3, 3), r'channels \(4\) .* num_heads \(3\)'),
    (3, 2, (1, 4, 3, 3), (1, 9, 3, 3), r'kernel_logits must have shape '
     r'\(1, 18, 3, 3\)'),
])
def test_argument_errors_name_the_argument(k, heads, x_shape, l_shape,
                                           match):
    with pytest.raises(ValueError, match=match):
        check_aggregate_args(torch.zeros(x_shape), torch.zeros(l_shape), k,
                             heads)


@pytest.mark.parametrize('x_dtype,l_dtype,expected', [
    (torch.float32, torch.float32, torch.float32),
    (torch.float32, torch.bfloat16, torch.float32),
    (torch.float16, torch.float64, torch.float64),
    (torch.int64, torch.float16, torch.float16),
])
def test_inputs_are_promoted_to_one_floating_dtype(x_dtype, l_dtype,
                                                   expected):
    x, logits = promote_inputs(torch.ones(1, dtype=x_dtype),
                               torch.ones(1, dtype=l_dtype))
    assert x.dtype == logits.dtype == expected


def test_promotion_keeps_same_dtype_inputs():
    x, logits = torch.randn(2), torch.randn(3)
    px, pl = promote_inputs(x, logits)
    assert px is x and pl is logits


@pytest.mark.parametrize('x,logits,match', [
    (torch.zeros(1), torch.zeros(1, device='meta'), 'same device, got cpu '
     'and meta'),
    (torch.zeros(1, dtype=torch.int32), torch.zeros(1, dtype=torch.int64),
     'must be floating point, got torch.int32 and torch.int64'),
])
def test_promotion_errors(x, logits, match):
    with pytest.raises(ValueError, match=match):
        promote_inputs(x, logits)


def test_verdict():
    assert CAN_RUN and repr(CAN_RUN) == 'Verdict(ok)'
    CAN_RUN.require()
    no = Verdict('needs a GPU')
    assert not no and no.reason == 'needs a GPU'
    with pytest.raises(RuntimeError, match='^needs a GPU$'):
        no.require()
    with pytest.raises(TypeError, match='bad dtype'):
        Verdict('bad dtype', TypeError).require()
