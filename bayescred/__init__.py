"""bayescred: Bayesian hierarchical models of the returns to skill credentials.

The names below are imported when first used, so that ``import bayescred`` (and the command
line's ``--help``) stays fast; ``bayescred.CredentialModel`` and friends then load PyMC.

Examples
--------
>>> import bayescred as bc
>>> spec = bc.ModelSpec()            # the default model: geometric curve, within worker effects
>>> spec.worker_effects
'within'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bayescred._version import __version__
from bayescred.errors import ConvergenceWarning, DataError, FitFileError, SpecError

if TYPE_CHECKING:
    from bayescred import datasets
    from bayescred.analysis.loo import compare
    from bayescred.calibration import calibrate, repeated_sampling
    from bayescred.columns import ColumnMap
    from bayescred.data import Panel, validate
    from bayescred.data.events import CredentialEvents
    from bayescred.facade import CredentialFit, CredentialModel
    from bayescred.facade import load_fit as load
    from bayescred.inference.compiled import CompiledModelCache
    from bayescred.reporting.etable import etable
    from bayescred.reporting.html import report
    from bayescred.spec import ModelSpec, load_spec

#: Public name -> (module, attribute in it; None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "ColumnMap": ("bayescred.columns", "ColumnMap"),
    "CompiledModelCache": ("bayescred.inference.compiled", "CompiledModelCache"),
    "CredentialEvents": ("bayescred.data.events", "CredentialEvents"),
    "CredentialFit": ("bayescred.facade", "CredentialFit"),
    "CredentialModel": ("bayescred.facade", "CredentialModel"),
    "ModelSpec": ("bayescred.spec", "ModelSpec"),
    "Panel": ("bayescred.data", "Panel"),
    "calibrate": ("bayescred.calibration", "calibrate"),
    "compare": ("bayescred.analysis.loo", "compare"),
    "datasets": ("bayescred.datasets", None),
    "etable": ("bayescred.reporting.etable", "etable"),
    "load": ("bayescred.facade", "load_fit"),
    "load_spec": ("bayescred.spec", "load_spec"),
    "repeated_sampling": ("bayescred.calibration", "repeated_sampling"),
    "report": ("bayescred.reporting.html", "report"),
    "validate": ("bayescred.data", "validate"),
}

__all__ = [
    "ColumnMap",
    "CompiledModelCache",
    "ConvergenceWarning",
    "CredentialEvents",
    "CredentialFit",
    "CredentialModel",
    "DataError",
    "FitFileError",
    "ModelSpec",
    "Panel",
    "SpecError",
    "__version__",
    "calibrate",
    "compare",
    "datasets",
    "etable",
    "load",
    "load_spec",
    "repeated_sampling",
    "report",
    "validate",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562) and keep it in the module."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'bayescred' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
