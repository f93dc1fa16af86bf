"""bayescred: Bayesian hierarchical models of the returns to skill credentials.

Examples
--------
>>> import bayescred as bc
>>> spec = bc.ModelSpec()            # the default model: geometric curve, within worker effects
>>> spec.worker_effects
'within'
"""

from bayescred import datasets
from bayescred.data import ColumnMap, Panel, validate
from bayescred.errors import ConvergenceWarning, DataError, FitFileError, SpecError
from bayescred.fit.io import load_fit as load
from bayescred.fit.loo import compare
from bayescred.fit.result import CredentialFit
from bayescred.model.credential_model import CredentialModel
from bayescred.report import report
from bayescred.spec import ModelSpec, load_spec

__version__ = "0.1.0"

__all__ = [
    "ColumnMap",
    "ConvergenceWarning",
    "CredentialFit",
    "CredentialModel",
    "DataError",
    "FitFileError",
    "ModelSpec",
    "Panel",
    "SpecError",
    "__version__",
    "compare",
    "datasets",
    "load",
    "load_spec",
    "report",
    "validate",
]
