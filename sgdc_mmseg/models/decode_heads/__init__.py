"""decode_heads."""
