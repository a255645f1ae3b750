"""Metrics registered in mmseg's METRICS registry (never imports models)."""
