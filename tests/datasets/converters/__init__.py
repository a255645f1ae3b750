"""Tests of :mod:`sgdc_mmseg.datasets.converters` (a package, so that its
``test_<dataset>.py`` modules do not clash with same-named test modules of
the dataset classes)."""
