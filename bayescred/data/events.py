"""Credential events: when each credential was first held, as data.

A panel's ``credentials`` column is the count held at the START of each period. The same
information, and more, is a list of *events*, one per credential earned: the worker and the
**first period the credential is held at the start of**. The count held at the start of period
``t`` is then the number of the worker's events with a period ``<= t``, plus its events with a
missing period, which mean "held before the panel, date unknown". A user who knows the date a
credential was earned gives the *next* period (a credential earned during period 3 is first held
at the start of period 4).

Periods are placed on an integer *period axis* (:func:`period_positions`): whole-number periods
are their own positions; dates are counted in steps of the smallest gap between the panel's
periods (weekly dates: weeks since the first period), which needs every gap to be a whole
multiple of that step. An event earned before the panel at an unknown date has the time
:data:`~bayescred.maths.event_time.UNKNOWN_TIME`.

:func:`bayescred.data.validation.validate` reads events with ``events=``; without them a panel
derives its events from the credentials column (:func:`events_from_credentials`).

Examples
--------
>>> ev = CredentialEvents(worker=np.array([0, 0, 1]), time=np.array([UNKNOWN_TIME, 3, 2]))
>>> ev.n_events, ev.first_time(3).tolist() == [UNKNOWN_TIME, 2, NO_EVENT]
(3, True)
>>> counts_at(ev, np.array([0, 0, 1, 1]), np.array([2, 3, 1, 2])).tolist()
[1, 2, 0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescred.columns import ColumnMap
from bayescred.errors import DataError
from bayescred.maths.event_time import UNKNOWN_TIME, EventWindow, row_counts

if TYPE_CHECKING:
    from bayescred.data.panel import Panel

__all__ = [
    "CREDENTIAL_TYPE",
    "NO_EVENT",
    "UNKNOWN_TIME",
    "CredentialEvents",
    "counts_at",
    "event_positions",
    "events_from_credentials",
    "period_positions",
    "time_labels",
]

#: :meth:`CredentialEvents.first_time` of a worker without any credential event.
NO_EVENT: int = int(np.iinfo(np.int64).max // 4)

#: Name of the optional column of an events frame that holds the credential's type.
CREDENTIAL_TYPE = "credential_type"

#: Nanoseconds per day (messages about date gaps).
_DAY_NS = 86_400 * 10**9


def _no_events_outside() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass(frozen=True)
class CredentialEvents:
    """The credential events of a panel: one entry per credential earned.

    An event's time is the position (:func:`period_positions`) of **the first period the
    credential is held at the start of**: the count held at the start of period ``t`` is the
    number of the worker's events with time ``<= t`` (:func:`counts_at`), events at
    :data:`~bayescred.maths.event_time.UNKNOWN_TIME` (held before the panel, date unknown)
    included everywhere.

    Attributes
    ----------
    worker
        int64 codes into the panel's ``worker_labels``.
    time
        int64 position of the event's period on the panel's period axis;
        :data:`~bayescred.maths.event_time.UNKNOWN_TIME` for an event earned before the panel at
        an unknown date.
    credential_type
        object array of ``str``, the type of each credential, or None when the events have no
        ``credential_type`` column.
    derived
        True when derived from the credentials column (:func:`events_from_credentials`), False
        when given as data (``validate(..., events=)``).
    outside
        The events that lie outside their worker's observed periods (before its first or after
        its last row), with the panel's worker and period column names (worker and period as
        labels) and ``credential_type`` if the events have one. They are kept (they count where
        their time says), only reported; this is a report on the data as validated and is not
        filtered when rows are selected.
    """

    worker: np.ndarray
    time: np.ndarray
    credential_type: np.ndarray | None = None
    derived: bool = False
    outside: pd.DataFrame = field(default_factory=_no_events_outside)

    def __post_init__(self) -> None:
        worker = np.asarray(self.worker, dtype=np.int64).reshape(-1)
        time = np.asarray(self.time, dtype=np.int64).reshape(-1)
        if worker.shape != time.shape:
            raise ValueError(
                f"worker and time need one entry per event, got {worker.size} and {time.size}"
            )
        object.__setattr__(self, "worker", worker)
        object.__setattr__(self, "time", time)
        if self.credential_type is not None:
            types = np.asarray(self.credential_type, dtype=object).reshape(-1)
            if types.shape != worker.shape:
                raise ValueError(
                    f"credential_type needs one entry per event ({worker.size}), got {types.size}"
                )
            object.__setattr__(self, "credential_type", types)

    @property
    def n_events(self) -> int:
        """Number of events."""
        return int(self.worker.shape[0])

    def take_workers(self, old_to_new: np.ndarray) -> CredentialEvents:
        """The events with worker codes remapped: ``old_to_new[code]``, ``-1`` for a worker
        dropped (its events are dropped), as when a panel's rows are selected.

        Examples
        --------
        >>> ev = CredentialEvents(worker=np.array([0, 1, 2]), time=np.array([1, 2, 3]))
        >>> moved = ev.take_workers(np.array([0, -1, 1]))
        >>> moved.worker.tolist(), moved.time.tolist()
        ([0, 1], [1, 3])
        """
        mapping = np.asarray(old_to_new, dtype=np.int64)
        new = mapping[self.worker] if self.n_events else self.worker
        keep = new >= 0
        types = None if self.credential_type is None else self.credential_type[keep]
        return replace(self, worker=new[keep], time=self.time[keep], credential_type=types)

    def first_time(self, n_workers: int) -> np.ndarray:
        """Per worker (codes ``0 .. n_workers - 1``) the time of its first event:
        :data:`~bayescred.maths.event_time.UNKNOWN_TIME` if it held credentials at entry (date
        unknown), :data:`NO_EVENT` if it has none."""
        out = np.full(int(n_workers), NO_EVENT, dtype=np.int64)
        np.minimum.at(out, self.worker, self.time)
        return out

    def to_frame(
        self,
        worker_labels: np.ndarray,
        period_labels: np.ndarray,
        columns: ColumnMap | None = None,
    ) -> pd.DataFrame:
        """The events as a frame: the worker's label, the period as a label of the same kind
        as the panel's periods (missing, ``<NA>`` or ``NaT``, for an event held before the panel
        at an unknown date) and ``credential_type`` if any.

        Parameters
        ----------
        worker_labels, period_labels
            The panel's labels (:attr:`Panel.worker_labels`, :attr:`Panel.period_labels`).
        columns
            Names of the worker and period columns (the defaults when None).

        Examples
        --------
        >>> ev = CredentialEvents(worker=np.array([0, 1]), time=np.array([UNKNOWN_TIME, 2]))
        >>> frame = ev.to_frame(np.array(["a", "b"]), np.array([1, 2, 3]))
        >>> frame["worker_id"].tolist(), frame["period"].isna().tolist()
        (['a', 'b'], [True, False])
        >>> str(frame["period"].dtype)
        'Int64'
        """
        cmap = ColumnMap() if columns is None else columns
        out = pd.DataFrame(
            {
                cmap.worker: np.asarray(worker_labels)[self.worker],
                cmap.period: time_labels(self.time, period_labels),
            }
        )
        if self.credential_type is not None:
            out[CREDENTIAL_TYPE] = self.credential_type
        return out


# ------------------------------------------------------------------------------ period axis


def _as_ns(labels: np.ndarray) -> np.ndarray:
    """int64 nanoseconds of datetime64 values (NaT as int64 min)."""
    return np.asarray(labels).astype("datetime64[ns]").view(np.int64)


def _date_step(labels: np.ndarray) -> int:
    """The smallest gap (ns) between consecutive sorted unique dates; every gap a multiple."""
    ns = np.unique(_as_ns(labels))
    if ns.size < 2:
        return 1
    gaps = np.diff(ns)
    step = int(gaps.min())
    uneven = gaps % step != 0
    if uneven.any():
        bad = pd.Timestamp(ns[1:][uneven][0])
        raise DataError(
            "event time needs equally spaced periods: the panel's dates are "
            f"{_days(step)} apart at the closest, but the gap before {bad.date()} is "
            f"{_days(int(gaps[uneven][0]))}, not a whole multiple of it. Number the periods "
            "with whole numbers instead (for example months as 1, 2, ...)"
        )
    return step


def _days(ns: int) -> str:
    days = ns / _DAY_NS
    return f"{days:g} day{'s' if days != 1 else ''}"


def period_positions(labels: np.ndarray) -> np.ndarray:
    """Positions (int64) of period labels on the period axis.

    Whole-number periods are their own positions. Dates are ``(label - first) / step``, with
    ``first`` the earliest label and ``step`` the smallest gap between consecutive labels.

    Raises
    ------
    DataError
        For dates whose gaps are not all whole multiples of the smallest one (event time needs
        equally spaced periods).

    Examples
    --------
    >>> period_positions(np.array([3, 5, 6])).tolist()
    [3, 5, 6]
    >>> weeks = pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-22"]).to_numpy()
    >>> period_positions(weeks).tolist()
    [0, 1, 3]
    """
    values = np.asarray(labels)
    if values.dtype.kind != "M":
        return values.astype(np.int64)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    ns = _as_ns(values)
    step = _date_step(values)
    return ((ns - ns.min()) // step).astype(np.int64)


def event_positions(values: pd.Series, period_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event periods placed on the panel's period axis.

    Parameters
    ----------
    values
        The event periods: whole numbers for a panel with whole-number periods, dates for one
        with dates; missing for an event held before the panel at an unknown date.
    period_labels
        The panel's sorted period labels.

    Returns
    -------
    times
        int64 positions (:data:`~bayescred.maths.event_time.UNKNOWN_TIME` where missing, 0
        where not placed).
    bad
        True where a period could not be placed: of another kind than the panel's periods (a
        number for a date panel or the reverse), not a whole number, or a date off the grid
        ``first + k * step`` of :func:`period_positions`.
    """
    labels = np.asarray(period_labels)
    s = pd.Series(values).reset_index(drop=True)
    n = len(s)
    missing = s.isna().to_numpy()
    times = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    is_date = isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype)
    if labels.dtype.kind == "M":
        if not is_date:
            bad = ~missing
        else:
            idx = pd.DatetimeIndex(s)
            if idx.tz is not None:
                idx = idx.tz_convert(None)
            ns = _as_ns(idx.to_numpy())
            if labels.size:
                first, step = int(_as_ns(labels).min()), _date_step(labels)
            else:  # pragma: no cover - a validated panel has periods
                first, step = 0, 1
            known = ~missing
            off = np.zeros(n, dtype=bool)
            off[known] = (ns[known] - first) % step != 0
            bad = off
            times[known] = (ns[known] - first) // step
    elif is_date:
        bad = ~missing
    else:
        x = _numbers(s)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(x) & (x == np.floor(x))
        bad = ~missing & ~whole
        good = ~missing & whole
        times[good] = x[good].astype(np.int64)
    times[missing] = UNKNOWN_TIME
    times[bad] = 0
    return times, bad


def _numbers(s: pd.Series) -> np.ndarray:
    """float64 values of ``s``: NaN where missing, not numeric, or boolean."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return np.full(len(s), np.nan)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return pd.to_numeric(s).to_numpy(dtype="float64", na_value=np.nan)
    out = np.full(len(s), np.nan)
    for i, x in enumerate(s.to_numpy(dtype=object)):
        if isinstance(x, int | float | np.integer | np.floating) and not isinstance(
            x, bool | np.bool_
        ):
            out[i] = float(x)
    return out


def time_labels(times: np.ndarray, period_labels: np.ndarray) -> pd.Series:
    """Period labels of times on the period axis (the inverse of :func:`period_positions`).

    Whole-number panels give a nullable ``Int64`` series, date panels a datetime series; a time
    of :data:`~bayescred.maths.event_time.UNKNOWN_TIME` is missing (``<NA>``, ``NaT``). A time
    off the panel's periods (an event outside the observed periods) is labelled on the same
    grid.
    """
    t = np.asarray(times, dtype=np.int64)
    unknown = t == UNKNOWN_TIME
    labels = np.asarray(period_labels)
    if labels.dtype.kind == "M":
        if labels.size:
            first, step = int(_as_ns(labels).min()), _date_step(labels)
        else:  # pragma: no cover - a validated panel has periods
            first, step = 0, 1
        ns = np.where(unknown, 0, first + t * step)
        dates = ns.astype("datetime64[ns]")
        dates[unknown] = np.datetime64("NaT", "ns")
        return pd.Series(dates, dtype="datetime64[ns]")
    out = pd.Series(pd.array(np.where(unknown, 0, t), dtype="Int64"))
    out[unknown] = pd.NA
    return out


# ------------------------------------------------------------------------------ counts


def counts_at(events: CredentialEvents, row_worker: np.ndarray, row_time: np.ndarray) -> np.ndarray:
    """Credentials held at the start of each row's period: the worker's events with time
    ``<= row_time``; events at :data:`~bayescred.maths.event_time.UNKNOWN_TIME` count
    everywhere.

    Parameters
    ----------
    events
        The events (worker codes in the same coding as ``row_worker``).
    row_worker, row_time
        Worker code and time (period position) per row.

    Returns
    -------
    numpy.ndarray
        int64 count per row.
    """
    rw = np.asarray(row_worker, dtype=np.int64)
    if rw.size == 0:
        return np.zeros(0, dtype=np.int64)
    counts = row_counts(EventWindow(leads=1, lags=1), events.worker, events.time, rw, row_time)
    return counts[:, 1].astype(np.int64)


def events_from_credentials(panel: Panel) -> CredentialEvents:
    """The credential events implied by a panel's credentials column (``derived=True``).

    The credentials held at a worker's first row are events at
    :data:`~bayescred.maths.event_time.UNKNOWN_TIME` (held at entry, date unknown); an increase
    of ``d`` between consecutive rows of a worker, at the later row's period ``p``, is ``d``
    events at ``p`` (first held at the start of ``p``). Where a worker's rows skip periods, the
    increase is put at the first observed period it shows in (the credential may have been
    earned in a period not observed).

    Examples
    --------
    >>> import pandas as pd
    >>> from bayescred.data.validation import validate
    >>> frame = pd.DataFrame({"worker_id": [1, 1, 1, 2, 2], "period": [1, 2, 4, 1, 2],
    ...     "group": "A", "credentials": [1, 1, 3, 0, 1], "track_record": 0.0})
    >>> ev = events_from_credentials(validate(frame))
    >>> ev.worker.tolist(), ev.time.tolist() == [UNKNOWN_TIME, 4, 4, 2]
    ([0, 0, 0, 1], True)
    """
    w = np.asarray(panel.worker_codes, dtype=np.int64)
    c = np.asarray(panel.credentials, dtype=np.int64)
    t = panel.row_time
    first = np.ones(w.shape[0], dtype=bool)
    first[1:] = w[1:] != w[:-1]
    step = np.empty_like(c)
    if c.size:
        step[0] = c[0]
        step[1:] = c[1:] - c[:-1]
    step[first] = c[first]
    step = np.maximum(step, 0)
    at = np.where(first, UNKNOWN_TIME, t)
    return CredentialEvents(
        worker=np.repeat(w, step), time=np.repeat(at, step), credential_type=None, derived=True
    )
