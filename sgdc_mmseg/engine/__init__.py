"""Training-loop additions."""
from . import hooks  # noqa: F401
