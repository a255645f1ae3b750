"""Boundary targets from hand-made masks (values, not just shapes)."""
import pytest
import torch

from sgdc_mmseg.models.utils import seg_to_boundary


def test_square_width_1():
    seg = torch.zeros(1, 6, 6, dtype=torch.long)
    seg[0, 2:4, 2:4] = 1
    out = seg_to_boundary(seg, width=1, ignore_index=255)[0]
    expected = torch.zeros(6, 6, dtype=torch.long)
    expected[1:5, 1:5] = 1  # the 2x2 square and the ring around it
    assert torch.equal(out, expected)


def test_vertical_edge_width_2_and_image_border():
    seg = torch.zeros(1, 3, 8, dtype=torch.long)
    seg[0, :, 4:] = 1
    out = seg_to_boundary(seg, width=2)[0]
    # columns 2..5 are within 2 px of the change; the border is no boundary
    assert out.tolist() == [[0, 0, 1, 1, 1, 1, 0, 0]] * 3


def test_multi_class_changes_count():
    seg = torch.tensor([[[0, 0, 2, 2, 3, 3]]])
    out = seg_to_boundary(seg, width=1)[0, 0]
    assert out.tolist() == [0, 1, 1, 1, 1, 0]


def test_ignore_index_is_kept_and_not_a_boundary_source():
    seg = torch.tensor([[[0, 0, 255, 255, 0, 1]]])
    out = seg_to_boundary(seg, width=1, ignore_index=255)[0, 0]
    assert out.tolist() == [0, 0, 255, 255, 1, 1]


def test_uniform_and_4d_input():
    seg = torch.ones(2, 1, 4, 4, dtype=torch.long)
    out = seg_to_boundary(seg)
    assert out.shape == (2, 4, 4) and out.sum() == 0


@pytest.mark.parametrize('width', [0, 1.5])
def test_bad_width(width):
    with pytest.raises(ValueError, match='width'):
        seg_to_boundary(torch.zeros(1, 3, 3, dtype=torch.long), width=width)
