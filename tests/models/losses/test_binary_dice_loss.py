import pytest
import torch

import sgdc_mmseg  # noqa: F401
from mmseg.registry import MODELS


def build(**kw):
    return MODELS.build(dict(type='BinaryDiceLoss', **kw))


def test_perfect_and_hand_computed():
    loss = build(smooth=0.0)
    target = torch.tensor([[[[1, 0, 1, 0]]]])
    perfect = torch.tensor([[[[50., -50., 50., -50.]]]])
    assert loss(perfect, target).item() == pytest.approx(0.0, abs=1e-6)
    half = torch.zeros(1, 1, 1, 4)  # p = 0.5: 2*1 / (2 + 2) = 0.5
    assert loss(half, target).item() == pytest.approx(0.5)


def test_ignore_pixels_not_classes():
    loss = build(smooth=0.0)
    logits = torch.tensor([[[[50., -50., 50.]]]])
    target = torch.tensor([[[1, 0, 255]]])
    # the confident positive on an ignored pixel does not count
    assert loss(logits, target).item() == pytest.approx(0.0, abs=1e-6)


def test_smooth_empty_and_mean_over_images():
    loss = build(smooth=1.0, loss_weight=3.0)
    assert loss.loss_name == 'loss_boundary_dice'
    logits = torch.full((2, 1, 2, 2), -50.)
    target = torch.zeros(2, 2, 2, dtype=torch.long)
    assert loss(logits, target).item() == pytest.approx(0.0, abs=1e-6)
    target[0, 0, 0] = 1  # image 0: dice = 1 / (1 + 1) -> loss 0.5
    assert loss(logits, target).item() == pytest.approx(3.0 * 0.25, abs=1e-5)


def test_gradient_flows():
    logits = torch.zeros(1, 1, 3, 3, requires_grad=True)
    build()(logits, torch.ones(1, 3, 3, dtype=torch.long)).backward()
    assert (logits.grad < 0).all()
