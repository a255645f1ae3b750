"""The error of the study package (its own module so that every other
module of :mod:`sgdc_mmseg.study` can raise it without an import cycle;
:mod:`.schema` re-exports it)."""


class StudyError(Exception):
    """A study file, argument or run directory that cannot be used."""
