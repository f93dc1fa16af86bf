"""Panel data: the column contract, validation, the simulator and the embedded datasets."""

from bayescred.columns import DEFAULT_OUTCOME_KINDS, ColumnMap, OutcomeKind
from bayescred.data.panel import Panel
from bayescred.data.validate import validate

__all__ = ["DEFAULT_OUTCOME_KINDS", "ColumnMap", "OutcomeKind", "Panel", "validate"]
