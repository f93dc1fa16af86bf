"""bayescred: Bayesian hierarchical models of the returns to skill credentials.

Examples
--------
>>> import bayescred as bc
>>> spec = bc.ModelSpec()            # the default model: geometric curve, within worker effects
>>> spec.worker_effects
'within'
"""

from bayescred import datasets
from bayescred._version import __version__
from bayescred.analysis.loo import compare
from bayescred.data import ColumnMap, Panel, validate
from bayescred.errors import ConvergenceWarning, DataError, FitFileError, SpecError
from bayescred.facade import CredentialFit, CredentialModel
from bayescred.facade import load_fit as load
from bayescred.inference.compiled import CompiledModelCache
from bayescred.reporting.html import report
from bayescred.spec import ModelSpec, load_spec

__all__ = [
    "ColumnMap",
    "CompiledModelCache",
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
