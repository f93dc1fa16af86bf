"""Panel data: the column contract, validation, the simulator and the embedded datasets.

``Panel`` and ``validate`` are imported on first use, so that light modules of this package
(the simulator's presets) load without pandas and pandera.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bayescred.columns import DEFAULT_OUTCOME_KINDS, ColumnMap, OutcomeKind

if TYPE_CHECKING:
    from bayescred.data.events import CredentialEvents
    from bayescred.data.panel import Panel
    from bayescred.data.validation import validate

_LAZY = {
    "CredentialEvents": "bayescred.data.events",
    "Panel": "bayescred.data.panel",
    "validate": "bayescred.data.validation",
}

__all__ = [
    "DEFAULT_OUTCOME_KINDS",
    "ColumnMap",
    "CredentialEvents",
    "OutcomeKind",
    "Panel",
    "validate",
]


def __getattr__(name: str) -> Any:
    """Import ``Panel``, ``CredentialEvents`` or ``validate`` on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'bayescred.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
