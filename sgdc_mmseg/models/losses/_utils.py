"""Shared argument handling of the 1-channel boundary losses."""
import torch.nn.functional as F


def prepare_binary(pred, target, weight, ignore_index):
    """Return ``(logits, target, valid)`` as ``[B, H*W]`` float tensors.

    ``pred`` is ``[B, 1, H, W]`` logits; ``target`` ``[B, H, W]`` or
    ``[B, 1, H, W]`` with values 0/1 and ``ignore_index``; ``weight`` an
    optional per-pixel weight of the target's shape.
    """
    if pred.dim() != 4 or pred.shape[1] != 1:
        raise ValueError('boundary losses take 1-channel logits [B, 1, H, W], '
                         f'got {tuple(pred.shape)}')
    if target.dim() == 3:
        target = target.unsqueeze(1)
    if target.shape[0] != pred.shape[0] or target.shape[1] != 1:
        raise ValueError(f'target {tuple(target.shape)} does not match logits '
                         f'{tuple(pred.shape)}')
    if target.shape[2:] != pred.shape[2:]:
        pred = F.interpolate(pred, size=target.shape[2:], mode='bilinear',
                             align_corners=False)
    b = pred.shape[0]
    valid = target != ignore_index if ignore_index is not None else (
        target == target)
    bad = valid & (target != 0) & (target != 1)
    if bad.any():
        raise ValueError('boundary target must hold only 0, 1 and ignore_index '
                         f'({ignore_index}); found '
                         f'{sorted(set(target[bad].unique().tolist()))[:5]}')
    valid = valid.float()
    if weight is not None:
        valid = valid * weight.reshape(valid.shape).float()
    tgt = (target == 1).float()
    return (pred.reshape(b, -1), tgt.reshape(b, -1), valid.reshape(b, -1))
