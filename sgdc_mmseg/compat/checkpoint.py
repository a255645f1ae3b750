"""Placeholder: being written (safe mmengine checkpoint loading)."""


def install_safe_checkpoint_loading():
    pass
