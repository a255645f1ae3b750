"""Boundary targets derived on the fly from segmentation labels."""
import torch
import torch.nn.functional as F


def seg_to_boundary(label, width=1, ignore_index=255):
    """Mark pixels near a label change.

    A valid pixel is a boundary pixel (1) when some valid pixel within
    Chebyshev distance ``width`` of it has a different label; otherwise it is
    0. Works for any number of classes (every change of class id counts) and
    marks both sides of a change, so a boundary is ``2 * width`` pixels wide.
    Pixels equal to ``ignore_index`` are ``ignore_index`` in the result and
    are never compared with their neighbours; the image border is not a
    boundary.

    Args:
        label (Tensor): integer labels ``[B, H, W]`` or ``[B, 1, H, W]``.
        width (int): neighbourhood radius in pixels, >= 1.
        ignore_index (int | None): label value to ignore.

    Returns:
        Tensor: ``[B, H, W]`` int64 with values 0, 1 and ``ignore_index``.
    """
    if not isinstance(width, int) or width < 1:
        raise ValueError(f'width must be an int >= 1, got {width!r}')
    if label.dim() == 4:
        if label.shape[1] != 1:
            raise ValueError('label must be [B, H, W] or [B, 1, H, W], got '
                             f'{tuple(label.shape)}')
        label = label[:, 0]
    if label.dim() != 3:
        raise ValueError('label must be [B, H, W] or [B, 1, H, W], got '
                         f'{tuple(label.shape)}')
    label = label.long()
    if ignore_index is None:
        valid = torch.ones_like(label, dtype=torch.bool)
    else:
        valid = label != ignore_index
    # Ignored pixels become -inf (the padding value of max_pool2d) in both
    # the max and the negated-min pooling, so they never win either; a valid
    # centre pixel keeps both results finite.
    lab = label.double().unsqueeze(1)
    valid4 = valid.unsqueeze(1)
    k = 2 * width + 1
    max_v = F.max_pool2d(lab.masked_fill(~valid4, float('-inf')), k, 1, width)
    min_v = -F.max_pool2d((-lab).masked_fill(~valid4, float('-inf')), k, 1,
                          width)
    boundary = (max_v != min_v)[:, 0] & valid
    out = boundary.long()
    if ignore_index is not None:
        out[~valid] = ignore_index
    return out
