"""Operators that know nothing of mmseg."""
