"""Models registered in mmseg's MODELS registry."""
from . import decode_heads, layers, losses, segmentors, utils  # noqa: F401
