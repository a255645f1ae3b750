import math

import pytest
import torch

import sgdc_mmseg  # noqa: F401
from mmseg.registry import MODELS


def build(**kw):
    return MODELS.build(dict(type='ClassBalancedBCELoss', **kw))


def test_value_on_hand_computed_example():
    loss = build()
    logits = torch.zeros(1, 1, 1, 4)  # p = 0.5 everywhere: bce = ln 2
    target = torch.tensor([[[[1, 0, 0, 0]]]])
    # weights 0.5/1 and 0.5/3 each -> weighted mean of ln2 is ln2
    assert torch.isclose(loss(logits, target), torch.tensor(math.log(2)))
    logits = torch.tensor([[[[2.0, 0.0, 0.0, -1.0]]]])
    bce = [math.log(1 + math.exp(-2)), math.log(2), math.log(2),
           math.log(1 + math.exp(-1))]
    expected = 0.5 * bce[0] + 0.5 * sum(bce[1:]) / 3
    assert torch.isclose(loss(logits, target), torch.tensor(expected))


def test_ignore_index_and_weight_and_name():
    loss = build(loss_weight=2.0)
    assert loss.loss_name == 'loss_boundary_bce'
    logits = torch.tensor([[[[3.0, -3.0, 50.0]]]])
    target = torch.tensor([[[1, 0, 255]]])  # [B, H, W] also accepted
    bce = math.log(1 + math.exp(-3))
    assert torch.isclose(loss(logits, target), torch.tensor(2 * bce))


def test_single_class_image_and_all_ignored():
    loss = build()
    logits = torch.zeros(2, 1, 2, 2, requires_grad=True)
    target = torch.zeros(2, 1, 2, 2, dtype=torch.long)
    target[1] = 255
    value = loss(logits, target)
    assert torch.isclose(value, torch.tensor(math.log(2)))
    value.backward()
    assert logits.grad[1].abs().sum() == 0
    all_ignored = loss(logits, torch.full_like(target, 255))
    assert all_ignored.item() == 0 and all_ignored.requires_grad


def test_resizes_logits_and_rejects_bad_targets():
    loss = build()
    assert torch.isfinite(loss(torch.randn(1, 1, 2, 2),
                               torch.randint(0, 2, (1, 4, 4))))
    with pytest.raises(ValueError, match='only 0, 1'):
        loss(torch.randn(1, 1, 2, 2), torch.full((1, 2, 2), 2))
    with pytest.raises(ValueError, match='1-channel'):
        loss(torch.randn(1, 2, 2, 2), torch.zeros(1, 2, 2))
