"""bayescred: Bayesian hierarchical models of the returns to skill credentials."""

from bayescred.errors import ConvergenceWarning, DataError, FitFileError, SpecError

__version__ = "0.1.0"

__all__ = ["ConvergenceWarning", "DataError", "FitFileError", "SpecError", "__version__"]
