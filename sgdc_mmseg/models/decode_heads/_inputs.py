"""Input selection with clear errors, shared by the SGDC heads."""
from ..utils.arg_checks import check_int_list


def select_inputs(head, inputs):
    """Pick ``inputs[i]`` for ``i in head.in_index`` and check channels."""
    name = type(head).__name__
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f'{name}: expects the list of backbone features, got '
                         f'{type(inputs).__name__}')
    selected = []
    for idx, channels in zip(head.in_index, head.in_channels):
        if not -len(inputs) <= idx < len(inputs):
            raise ValueError(
                f'{name}: in_index {idx} is out of range for a backbone that '
                f'returns {len(inputs)} feature maps (in_index='
                f'{list(head.in_index)})')
        feat = inputs[idx]
        if feat.dim() != 4 or feat.shape[1] != channels:
            raise ValueError(
                f'{name}: backbone output {idx} has shape '
                f'{tuple(feat.shape)} but in_channels expects {channels} '
                f'channels there (in_channels={list(head.in_channels)}, '
                f'in_index={list(head.in_index)})')
        selected.append(feat)
    return selected


def check_index_channels(name, in_channels, in_index, expected_len=None):
    """Validate ``in_channels``/``in_index`` pairs at construction.

    Both must be lists (or tuples) of the same length (``expected_len`` when
    given); ``in_channels`` positive ints, ``in_index`` ints (negative counts
    from the end; bools are refused). Wrong types raise ``TypeError``, wrong
    values or lengths ``ValueError``, each naming ``name`` and the argument.
    """
    check_int_list(name, 'in_channels', in_channels, minimum=1)
    check_int_list(name, 'in_index', in_index)
    if len(in_channels) != len(in_index):
        raise ValueError(f'{name}: in_channels {list(in_channels)} and '
                         f'in_index {list(in_index)} differ in length')
    if expected_len is not None and len(in_index) != expected_len:
        raise ValueError(f'{name}: needs exactly {expected_len} inputs, got '
                         f'in_index={list(in_index)}')
    if not in_index:
        raise ValueError(f'{name}: in_index must not be empty')
