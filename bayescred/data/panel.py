"""The validated panel: what every model consumes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from bayescred.columns import ColumnMap, OutcomeKind
from bayescred.data.credential_types import CredentialTypes
from bayescred.data.events import CredentialEvents, events_from_credentials, period_positions


@dataclass(frozen=True)
class Panel:
    """A worker-period panel that passed :func:`bayescred.data.validation`.

    Rows are sorted by worker then period. Every per-row array has one entry per row of
    :attr:`frame`; integer codes index into the matching ``*_labels``.

    Attributes
    ----------
    frame
        The used rows (a copy; the caller's frame is never modified), sorted, index reset.
    columns
        The column mapping that was applied.
    outcome
        Name of the outcome column, or None when validated without an outcome.
    outcome_kind
        The rule the outcome was checked against.
    covariates
        Names of covariate columns (possibly empty).
    worker_labels, period_labels, group_labels
        Sorted unique labels; ``*_codes`` index into them.
    worker_codes, period_codes, group_codes
        int64 codes per row.
    credentials
        int64 credentials held at the start of the period.
    track_record
        float64 track record (>= 0).
    covariate_matrix
        float64 array ``(rows, len(covariates))``.
    y
        float64 outcome per row, or None.
    excluded
        Rows of the input that were set aside, with a ``reason`` column (for example a
        missing outcome where that was allowed); empty when nothing was set aside.
    events
        The credential events given as data (``validate(..., events=)``), worker codes into
        :attr:`worker_labels`; None when the panel has only its credentials column
        (:meth:`credential_events` then derives them from it).
    credential_types
        The checked credential types table (``validate(..., credential_types=)``), or None.
    """

    frame: pd.DataFrame
    columns: ColumnMap
    outcome: str | None
    outcome_kind: OutcomeKind | None
    covariates: tuple[str, ...]
    worker_labels: np.ndarray
    period_labels: np.ndarray
    group_labels: np.ndarray
    worker_codes: np.ndarray
    period_codes: np.ndarray
    group_codes: np.ndarray
    credentials: np.ndarray
    track_record: np.ndarray
    covariate_matrix: np.ndarray
    y: np.ndarray | None
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"reason": []}))
    events: CredentialEvents | None = None
    credential_types: CredentialTypes | None = None

    @property
    def n_rows(self) -> int:
        """Number of used rows."""
        return len(self.frame)

    @property
    def n_workers(self) -> int:
        return len(self.worker_labels)

    @property
    def n_groups(self) -> int:
        return len(self.group_labels)

    @property
    def n_periods(self) -> int:
        return len(self.period_labels)

    @property
    def period_positions(self) -> np.ndarray:
        """Positions of :attr:`period_labels` on the period axis
        (:func:`~bayescred.data.events.period_positions`: whole-number periods as they are,
        dates in steps of the smallest gap between them)."""
        return period_positions(self.period_labels)

    @property
    def row_time(self) -> np.ndarray:
        """int64 position of each row's period on the period axis."""
        return self.period_positions[self.period_codes]

    def credential_events(self) -> CredentialEvents:
        """The credential events: those given as data (:attr:`events`), or those implied by the
        credentials column (:func:`~bayescred.data.events.events_from_credentials`)."""
        if self.events is not None:
            return self.events
        return events_from_credentials(self)

    def periods_per_worker(self) -> np.ndarray:
        """Number of rows of each worker, in :attr:`worker_labels` order."""
        return np.bincount(self.worker_codes, minlength=self.n_workers)

    def worker_means(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` (one per row) over each worker's rows, in :attr:`worker_labels`
        order."""
        sums = np.bincount(
            self.worker_codes, weights=np.asarray(values, dtype=float), minlength=self.n_workers
        )
        return sums / self.periods_per_worker()

    def demean(self, values: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
        """``values`` (one per row) minus their worker's mean; see :func:`demean_by_worker`."""
        return demean_by_worker(values, self.worker_codes, self.n_workers, out=out)

    def describe(self) -> pd.DataFrame:
        """A one-column table describing the panel (rows, workers, groups, ranges)."""
        t = self.periods_per_worker()
        info = {
            "rows used": self.n_rows,
            "rows set aside": len(self.excluded),
            "workers": self.n_workers,
            "workers with one period": int((t == 1).sum()),
            "periods": self.n_periods,
            "groups": self.n_groups,
            "credentials (min-max)": f"{self.credentials.min()}-{self.credentials.max()}",
            "track record (median)": float(np.median(self.track_record)),
            "outcome": self.outcome or "(none)",
        }
        if self.events is not None and not self.events.derived:
            info["credential events"] = self.events.n_events
            info["credential events outside observed periods"] = len(self.events.outside)
        return pd.DataFrame({"value": pd.Series(info, dtype=object)})


def demean_by_worker(
    values: np.ndarray,
    worker_codes: np.ndarray,
    n_workers: int | None = None,
    *,
    out: np.ndarray | None = None,
    chunk_rows: int = 100_000,
) -> np.ndarray:
    """``values`` minus each worker's mean over its rows.

    ``values`` is ``(rows,)`` or ``(..., rows)``; each leading index is demeaned on its own.
    With ``out`` (``out is values`` is allowed) the result is written there, in row chunks.

    Examples
    --------
    >>> demean_by_worker(np.array([1.0, 3.0, 5.0]), np.array([0, 0, 1]))
    array([-1.,  1.,  0.])
    """
    codes = np.asarray(worker_codes, dtype=np.int64)
    n = int(codes.max(initial=-1)) + 1 if n_workers is None else int(n_workers)
    counts = np.bincount(codes, minlength=n).astype(float)
    values = np.asarray(values, dtype=float)
    if values.ndim > 1:
        flat = values.reshape(-1, values.shape[-1])
        rows = [demean_by_worker(row, codes, n, chunk_rows=chunk_rows) for row in flat]
        return np.stack(rows).reshape(values.shape)
    means = np.bincount(codes, weights=values, minlength=n) / counts
    result = np.empty_like(values) if out is None else out
    for start in range(0, len(values), chunk_rows):
        rows_ = slice(start, min(start + chunk_rows, len(values)))
        result[rows_] = values[rows_] - means[codes[rows_]]
    return result


def select_rows(panel: Panel, keep: np.ndarray, reason: str) -> Panel:
    """A panel with only the rows where ``keep`` is true; the others are added to ``excluded``.

    Worker codes are recomputed over the kept workers; group and period labels are kept whole
    so that coordinates do not depend on which rows a model could use. Credential events given
    as data follow the worker codes; those of workers with no row left are dropped.
    """
    keep = np.asarray(keep, dtype=bool)
    if keep.all():
        return panel
    dropped = panel.frame.loc[~keep].assign(reason=reason)
    excluded = (
        pd.concat([panel.excluded, dropped], ignore_index=True) if len(panel.excluded) else dropped
    )
    kept_workers, worker_codes = np.unique(panel.worker_codes[keep], return_inverse=True)
    events = None
    if panel.events is not None:
        old_to_new = np.full(panel.n_workers, -1, dtype=np.int64)
        old_to_new[kept_workers] = np.arange(kept_workers.size)
        events = panel.events.take_workers(old_to_new)
    return Panel(
        frame=panel.frame.loc[keep].reset_index(drop=True),
        columns=panel.columns,
        outcome=panel.outcome,
        outcome_kind=panel.outcome_kind,
        covariates=panel.covariates,
        worker_labels=panel.worker_labels[kept_workers],
        period_labels=panel.period_labels,
        group_labels=panel.group_labels,
        worker_codes=worker_codes.astype(np.int64),
        period_codes=panel.period_codes[keep],
        group_codes=panel.group_codes[keep],
        credentials=panel.credentials[keep],
        track_record=panel.track_record[keep],
        covariate_matrix=panel.covariate_matrix[keep],
        y=None if panel.y is None else panel.y[keep],
        excluded=excluded.reset_index(drop=True),
        events=events,
        credential_types=panel.credential_types,
    )


def track_record_at_entry(panel: Panel) -> Panel:
    """``panel`` with each row's track record replaced by its worker's track record in the
    worker's first period: the earliest among the panel's rows and the rows it set aside (a
    period without projects still counts as the worker's entry).

    Everything else (credential events included) is kept.

    A track record that counts past projects moves with the worker's own outcomes: a period
    with many projects raises the track record of every later period. Under worker effects
    that integrate every period of a worker (``within``, ``correlated``), an outcome that
    includes the number of projects (earnings, project counts) then feeds back into the
    modifier of its own worker's other periods, and the credential effect on it is biased
    (a Nickell-type bias, measured in the README's calibration section). The track record at
    entry is set before any of the worker's outcomes, so it cannot.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayescred.data.validation import validate
    >>> frame = pd.DataFrame({"worker_id": [1, 1, 2, 2], "period": [2, 1, 1, 2],
    ...     "group": "A", "credentials": 0, "track_record": [5.0, 3.0, 0.0, 4.0],
    ...     "y": [1.0, 2.0, 3.0, 4.0]})
    >>> track_record_at_entry(validate(frame, outcome="y")).track_record.tolist()
    [3.0, 3.0, 0.0, 0.0]
    """
    c = panel.columns
    rows = panel.frame
    if len(panel.excluded):
        rows = pd.concat([rows, panel.excluded[list(rows.columns)]], ignore_index=True)
    first = (
        rows.sort_values(c.period, kind="stable")
        .groupby(c.worker, sort=False)[c.track_record]
        .first()
    )
    values = first.loc[panel.frame[c.worker]].to_numpy(dtype=float)
    frame = panel.frame.copy()
    frame[c.track_record] = values
    return replace(panel, frame=frame, track_record=values)
