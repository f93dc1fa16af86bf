"""Column roles of a worker-period panel and the user's mapping of them to column names."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

OutcomeKind = Literal["real", "nonnegative", "count", "binary"]

#: Outcome kind assumed for the platform outcomes when none is given.
DEFAULT_OUTCOME_KINDS: dict[str, OutcomeKind] = {
    "earnings": "nonnegative",
    "n_projects": "count",
    "any_project": "binary",
    "log_project_value": "real",
    "log_earnings": "real",
}


class ColumnMap(BaseModel):
    """Names of the panel's columns for each role (defaults of ``docs/design.md`` section 2).

    Examples
    --------
    >>> ColumnMap(worker="freelancer", credentials="badges").worker
    'freelancer'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    worker: str = Field(default="worker_id", description="worker id")
    period: str = Field(default="period", description="period (integer or date), unique per worker")
    group: str = Field(default="group", description="the group whose effects are pooled")
    credentials: str = Field(
        default="credentials", description="credentials held at the start of the period"
    )
    track_record: str = Field(
        default="track_record",
        description="track record, e.g. projects completed before the period",
    )
