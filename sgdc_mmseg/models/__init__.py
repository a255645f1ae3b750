"""Models registered in mmseg's MODELS registry."""
from . import decode_heads, layers, losses, utils  # noqa: F401
