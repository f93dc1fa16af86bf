"""Exceptions and warnings raised by bayescred, one per kind of failure."""

from __future__ import annotations


class BayescredError(Exception):
    """Base class of every error bayescred raises on purpose."""


class DataError(BayescredError, ValueError):
    """A panel breaks the data contract.

    The message names the column, the rule, how many rows break it, up to five example
    ``(worker, period)`` keys, and how to fix it.
    """


class SpecError(BayescredError, ValueError):
    """A model specification is invalid: an unknown key or value, or a combination that
    the model cannot fit. The message names the key and lists what is allowed."""


class FitFileError(BayescredError, OSError):
    """A file given to :func:`bayescred.load` is not a readable bayescred fit."""


class ConvergenceWarning(UserWarning):
    """MCMC diagnostics fail a standard threshold (divergences, R-hat, ESS or BFMI)."""
