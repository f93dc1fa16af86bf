"""Validation of a worker-period panel: the gate every model's data passes through.

Rule order
----------
:func:`validate` checks, in this fixed order:

1. the arguments: ``frame`` is a DataFrame (else :class:`TypeError`), ``columns`` names only
   known roles, ``outcome_kind`` and ``missing_outcome`` are allowed values;
2. every used column is present (and its name appears once in the frame);
3. with ``missing_outcome="exclude"``, rows whose outcome is missing are set aside;
4. per-column rules on the used rows, column by column (worker, period, group, credentials,
   track record, outcome, covariates), and within a column: not missing, type (numeric, or a
   whole number or date for periods), finite, whole number, range (>= 0) or outcome kind;
5. panel rules: (worker, period) unique; credentials non-decreasing within each worker
   over periods; at least two workers observed in two or more periods;
6. with ``events=`` (credential events as data, :mod:`bayescred.data.events`): its rules
   (worker not missing and in the frame, period a whole number or a date on the panel's grid
   of periods, ``credential_type`` not missing), then, when the frame has a credentials column,
   the agreement of the two on every used row. Without a credentials column, it is derived
   from the events.

Steps 1 and 2 raise at the first problem (the events frame's type and columns are checked in
step 1 and 2 too), since nothing further can be checked. Every rule
broken in steps 4 and 5 is collected into one :class:`~bayescred.errors.DataError`, one
block per rule, in the order above; a panel rule is skipped (and the message says so) when
a column it relies on broke a rule of step 4. The events' rules of step 6 are checked once the
panel passed, and collected into one error of their own.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Literal, cast, get_args

import numpy as np
import pandas as pd
from pydantic import ValidationError

from bayescred.columns import DEFAULT_OUTCOME_KINDS, ColumnMap, OutcomeKind
from bayescred.data import rules
from bayescred.data.credential_types import JOB_CATEGORY, credential_types_table
from bayescred.data.events import (
    CREDENTIAL_TYPE,
    UNKNOWN_TIME,
    CredentialEvents,
    counts_at,
    event_positions,
)
from bayescred.data.panel import Panel
from bayescred.errors import DataError

MissingOutcome = Literal["error", "exclude"]

_MONOTONE = "credentials non-decreasing within worker"
_TWO_WORKERS = "two workers with two or more periods"

#: Reason recorded in :attr:`Panel.excluded` for a row whose outcome is missing.
REASON_OUTCOME_MISSING = "outcome missing"


def validate(
    frame: pd.DataFrame,
    columns: ColumnMap | Mapping[str, str] | None = None,
    outcome: str | None = None,
    *,
    outcome_kind: OutcomeKind | None = None,
    covariates: Iterable[str] | str = (),
    missing_outcome: MissingOutcome = "error",
    events: pd.DataFrame | None = None,
    credential_types: pd.DataFrame | None = None,
    job_category: str = JOB_CATEGORY,
) -> Panel:
    """Check a long worker-period panel against the data contract and return a :class:`Panel`.

    Parameters
    ----------
    frame
        One row per worker and period. Never modified (a copy is taken).
    columns
        Column name per role: a :class:`ColumnMap`, a dict such as
        ``{"worker": "freelancer_id"}`` (roles not given keep their defaults), or None for
        the defaults of ``docs/design.md`` section 2.
    outcome
        Name of the outcome column, or None to validate the panel without one.
    outcome_kind
        ``"real"``, ``"nonnegative"``, ``"count"`` or ``"binary"``; None takes
        ``DEFAULT_OUTCOME_KINDS.get(outcome, "real")``.
    covariates
        Names of numeric covariate columns (a single name may be given as a string).
    missing_outcome
        ``"error"``: a missing outcome breaks a rule. ``"exclude"``: such rows are set aside
        and returned in :attr:`Panel.excluded` with a ``reason`` column. An infinite outcome
        is always an error.
    events
        Credential events as data (:mod:`bayescred.data.events`): one row per credential
        earned, with the frame's worker and period columns (the names of ``columns``) and
        optionally ``credential_type``. An event's period is **the first period the credential
        is held at the start of** (for a credential earned during a period, give the next
        period); a missing period means held before the panel, date unknown. The count held at
        the start of period ``t`` is the worker's events with a period ``<= t`` plus those with
        a missing period. When the frame has no credentials column it is derived from the
        events (and added to :attr:`Panel.frame`); when it has one, the two must agree on every
        used row. Events outside a worker's observed periods are kept and reported
        (:attr:`CredentialEvents.outside`, :meth:`Panel.describe`); events of workers whose
        rows were all set aside are dropped. The result's :attr:`Panel.events` holds them.
    credential_types
        The credential types table (:mod:`bayescred.data.credential_types`): one row per type,
        columns ``credential_type`` and ``category`` (any others are kept as attributes). Needs
        ``events=`` with a ``credential_type`` column; every event's type must be in the table,
        every type needs a category, and the frame's ``job_category`` column, where it has one,
        may only name categories of the table (missing values are allowed: no match). The
        result's :attr:`Panel.credential_types` holds the checked table.
    job_category
        Name of the frame's column with the category of the worker's own work, read with
        ``credential_types=``. The default name may be absent (no job category); another name
        must be a column of the frame.

    Returns
    -------
    Panel
        Rows sorted by worker then period (labels compared as text), index reset.

    Raises
    ------
    TypeError
        ``frame`` (or ``events``) is not a pandas DataFrame.
    DataError
        An argument names an unknown role or value, a column is absent, or rules are broken
        (all broken rules of one call are listed; see the module docstring for the order);
        events break their rules or disagree with the credentials column.

    Examples
    --------
    >>> df = pd.DataFrame({"worker_id": ["a", "a", "b", "b"], "period": [1, 2, 1, 2],
    ...                    "group": "g", "credentials": [0, 1, 0, 0],
    ...                    "track_record": [0.0, 2.0, 5.0, 6.0], "earnings": [0, 10.5, 3, 4]})
    >>> panel = validate(df, outcome="earnings")
    >>> panel.outcome_kind, panel.n_workers, panel.y.dtype
    ('nonnegative', 2, dtype('float64'))
    """
    if not isinstance(frame, pd.DataFrame):
        got = type(frame)
        hint = " (it is already validated; pass it on as is)" if isinstance(frame, Panel) else ""
        raise TypeError(
            f"validate() expects a pandas DataFrame in long format (one row per worker and "
            f"period), got {got.__module__}.{got.__qualname__}{hint}; "
            "build one with pd.DataFrame(...) or read it with pd.read_csv(...)"
        )
    cmap = _column_map(columns)
    kind = _outcome_kind(outcome, outcome_kind)
    covs = _covariates(covariates)
    if missing_outcome not in get_args(MissingOutcome):
        raise DataError(
            f"missing_outcome must be one of {list(get_args(MissingOutcome))}, "
            f"got {missing_outcome!r}"
        )
    if events is not None:
        _check_events_frame(events, cmap)
    derive = events is not None and cmap.credentials not in [str(c) for c in frame.columns]
    _check_presence(frame, cmap, outcome, covs, derive_credentials=derive)

    work = frame.copy()
    work.index = pd.RangeIndex(len(work))
    if derive:  # a placeholder that passes every rule; the counts come from the events
        work[cmap.credentials] = np.zeros(len(work), dtype=np.int64)
    excluded = frame.iloc[:0].copy()
    if outcome is not None and missing_outcome == "exclude":
        gone = work[outcome].isna().to_numpy()
        excluded = frame.iloc[np.flatnonzero(gone)].copy()
        work = work.loc[~gone].reset_index(drop=True)
    excluded["reason"] = pd.Series(REASON_OUTCOME_MISSING, index=excluded.index, dtype=object)

    plan = rules.column_rules(cmap, outcome, kind, covs, missing_outcome)
    violations = rules.column_violations(work, plan)
    found, skipped = _panel_violations(work, cmap, {v.column for v in violations})
    violations += found
    notes: list[str] = []
    if skipped and violations:
        notes.append(
            "Not yet checked (they need the columns above to be valid): " + "; ".join(skipped)
        )
    if excluded.shape[0] and violations:
        n = len(excluded)
        were = "rows with a missing outcome were" if n > 1 else "row with a missing outcome was"
        notes.append(f"{n} {were} set aside first.")
    rules.raise_violations(violations, work, cmap, notes)
    panel = _build_panel(work, excluded, cmap, outcome, kind, covs)
    if events is not None:
        panel = _with_events(panel, events, derive_credentials=derive)
    if credential_types is not None:
        panel = _with_types(panel, credential_types, job_category)
    return panel


def _with_types(panel: Panel, types: pd.DataFrame, job_category: str) -> Panel:
    """``panel`` with its credential types table checked and attached."""
    if panel.events is None:
        raise DataError(
            "credential_types= needs the credential events as data: pass events= (one row per "
            f"credential earned, with a {CREDENTIAL_TYPE!r} column naming its type)"
        )
    have = [str(c) for c in panel.frame.columns]
    n_job = have.count(job_category)
    if n_job > 1:
        raise DataError(
            f"The job-category column {job_category!r} appears {n_job} times in the frame; keep "
            "one (rename or drop the duplicates)"
        )
    if not n_job and job_category != JOB_CATEGORY:
        close = difflib.get_close_matches(job_category, have, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise DataError(
            f"job_category={job_category!r} names a column the frame does not have; {hint}"
            f"name the frame's column with the category of each worker's own work, or leave "
            f"job_category= out (a frame without a {JOB_CATEGORY!r} column has no job category)"
        )
    has_job = n_job == 1
    checked = credential_types_table(
        types,
        panel.events.credential_type,
        job_category=panel.frame[job_category] if has_job else None,
        job_category_column=job_category if has_job else None,
    )
    return replace(panel, credential_types=checked)


def _column_map(columns: ColumnMap | Mapping[str, str] | None) -> ColumnMap:
    if columns is None:
        return ColumnMap()
    if isinstance(columns, ColumnMap):
        return columns
    if not isinstance(columns, Mapping):
        raise TypeError(
            "columns must be a ColumnMap, a dict of role -> column name, or None, "
            f"got {type(columns).__name__}"
        )
    roles = list(ColumnMap.model_fields)
    unknown = [str(k) for k in columns if k not in roles]
    if unknown:
        raise DataError(
            f"columns= names unknown role(s) {unknown}; allowed roles: {roles}. The outcome "
            "and covariates are passed as outcome= and covariates=."
        )
    try:
        return ColumnMap(**dict(columns))
    except ValidationError as err:
        raise DataError(f"columns= must map each role to a column name (a str): {err}") from None


def _outcome_kind(outcome: str | None, kind: str | None) -> OutcomeKind | None:
    allowed = list(get_args(OutcomeKind))
    if outcome is None:
        if kind is not None:
            raise DataError(f"outcome_kind={kind!r} was given without an outcome= column")
        return None
    if kind is None:
        return DEFAULT_OUTCOME_KINDS.get(outcome, "real")
    if kind not in allowed:
        raise DataError(f"outcome_kind must be one of {allowed}, got {kind!r}")
    return cast(OutcomeKind, kind)


def _covariates(covariates: Iterable[str] | str) -> tuple[str, ...]:
    covs = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    twice = sorted({c for c in covs if covs.count(c) > 1})
    if twice:
        raise DataError(f"covariates= lists {twice} more than once; list each column once")
    return covs


def _check_presence(
    frame: pd.DataFrame,
    cmap: ColumnMap,
    outcome: str | None,
    covs: tuple[str, ...],
    *,
    derive_credentials: bool = False,
) -> None:
    """Raise (through the common format) when a used column is absent or duplicated."""
    roles = [r for r in ColumnMap.model_fields if not (derive_credentials and r == "credentials")]
    wanted = [(role, getattr(cmap, role)) for role in roles]
    if outcome is not None:
        wanted.append(("outcome", outcome))
    wanted += [("covariate", c) for c in covs]
    have = [str(c) for c in frame.columns]
    shown = have if len(have) <= 30 else [*have[:30], f"... ({len(have) - 30} more)"]
    violations = []
    for role, col in wanted:
        n = have.count(col)
        if n == 1:
            continue
        if n > 1:
            rule, fix = f"appears {n} times in the frame", "rename or drop the duplicate columns"
        else:
            close = difflib.get_close_matches(col, have, n=1)
            rule = f"required {role} column is absent from the frame"
            fix = (f"did you mean {close[0]!r}? " if close else "") + (
                f"map the role to your column with columns={{{role!r}: '<name>'}}"
                if role in ColumnMap.model_fields
                else f"pass an existing column as {role}{'s' if role == 'covariate' else ''}="
            )
        violations.append(rules.Violation(col, rule, None, fix, show_values=False))
    rules.raise_violations(violations, frame, cmap, [f"The frame has columns: {shown}"])


def _text_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """int64 codes into sorted labels, labels compared as text (``str(value)``)."""
    codes, uniques = pd.factorize(s)
    text = np.array([str(u) for u in uniques], dtype=str)
    labels, merged = np.unique(text, return_inverse=True)  # 1 and "1" are one label
    return merged.reshape(-1).astype(np.int64)[codes], labels


def _period_codes(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """int64 codes into sorted unique periods (int64, or datetime64 for dates)."""
    if rules.is_date_dtype(s):
        idx = pd.DatetimeIndex(s)
        if idx.tz is not None:
            idx = idx.tz_convert(None)
        values = idx.to_numpy()
    else:
        values = rules.numeric_values(s).astype(np.int64)
    labels, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), labels


def _build_panel(
    work: pd.DataFrame,
    excluded: pd.DataFrame,
    cmap: ColumnMap,
    outcome: str | None,
    kind: OutcomeKind | None,
    covs: tuple[str, ...],
) -> Panel:
    w_codes, w_labels = _text_codes(work[cmap.worker])
    p_codes, p_labels = _period_codes(work[cmap.period])
    order = np.lexsort((p_codes, w_codes))
    used = work.iloc[order].reset_index(drop=True)
    g_codes, g_labels = _text_codes(used[cmap.group])
    binary = kind == "binary"
    y = rules.numeric_values(used[outcome], binary) if outcome is not None else None
    if covs:
        x = np.column_stack([rules.numeric_values(used[c], True) for c in covs])
    else:
        x = np.empty((len(used), 0), dtype=np.float64)
    return Panel(
        frame=used,
        columns=cmap,
        outcome=outcome,
        outcome_kind=kind,
        covariates=covs,
        worker_labels=w_labels,
        period_labels=p_labels,
        group_labels=g_labels,
        worker_codes=w_codes[order],
        period_codes=p_codes[order],
        group_codes=g_codes,
        credentials=rules.numeric_values(used[cmap.credentials]).astype(np.int64),
        track_record=rules.numeric_values(used[cmap.track_record]),
        covariate_matrix=x.astype(np.float64),
        y=y,
        excluded=excluded,
    )


# ------------------------------------------------------------------------------ panel rules


def _panel_violations(
    work: pd.DataFrame, cmap: ColumnMap, broken: set[str]
) -> tuple[list[rules.Violation], list[str]]:
    """The panel rules, in order; a rule whose inputs broke a column rule is skipped.

    Returns the violations found and the names of the rules not checked.
    """
    if {cmap.worker, cmap.period} & broken:
        return [], ["(worker, period) unique", _MONOTONE, _TWO_WORKERS]
    worker, worker_labels = _text_codes(work[cmap.worker])
    period, _ = _period_codes(work[cmap.period])
    found = _duplicate_keys(cmap, worker, period)
    if found is not None:
        return [found], [_MONOTONE, _TWO_WORKERS]
    out: list[rules.Violation] = []
    skipped: list[str] = []
    if cmap.credentials in broken:
        skipped.append(_MONOTONE)
    else:
        cred = rules.numeric_values(work[cmap.credentials])
        out += _optional(_decreasing_credentials(cmap, worker, period, cred))
    out += _optional(_too_few_repeated_workers(cmap, worker, len(worker_labels)))
    return out, skipped


def _optional(v: rules.Violation | None) -> list[rules.Violation]:
    return [] if v is None else [v]


def _duplicate_keys(
    columns: ColumnMap, worker: np.ndarray, period: np.ndarray
) -> rules.Violation | None:
    """(worker, period) must be unique; all rows sharing a key offend."""
    keys = pd.DataFrame({"w": worker, "p": period})
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return None
    order = np.lexsort((period, worker))
    rows = order[dup[order]]
    return rules.Violation(
        columns.period,
        f"(worker, period) must be unique: each worker has one row per period "
        f"(columns {columns.worker!r}, {columns.period!r})",
        rows,
        "aggregate to one row per worker and period, or correct the period of these rows",
        show_values=False,
    )


def _decreasing_credentials(
    columns: ColumnMap, worker: np.ndarray, period: np.ndarray, credentials: np.ndarray
) -> rules.Violation | None:
    """Credentials must be non-decreasing within each worker over periods."""
    order = np.lexsort((period, worker))
    w, c = worker[order], credentials[order]
    drop = np.zeros(len(order), dtype=bool)
    drop[1:] = (w[1:] == w[:-1]) & (c[1:] < c[:-1])
    if not drop.any():
        return None
    return rules.Violation(
        columns.credentials,
        "must be non-decreasing within each worker over periods (a row holds fewer "
        "credentials than the worker's previous period)",
        order[drop],
        "credentials are the cumulative count held at the start of the period: if the column "
        "counts credentials earned per period, use the cumulative sum per worker",
    )


def _too_few_repeated_workers(
    columns: ColumnMap, worker: np.ndarray, n_workers: int
) -> rules.Violation | None:
    """At least two workers must be observed in two or more periods (keys are unique)."""
    per_worker = np.bincount(worker, minlength=n_workers)
    repeated = per_worker >= 2
    if repeated.sum() >= 2:
        return None
    single = ~repeated[worker]
    if not len(worker):
        which = "the panel has no rows"
    elif single.any():
        which = "offending rows: those of workers seen in one period"
    else:
        which = "offending rows: all rows, of the one repeated worker"
    rows = np.flatnonzero(single) if single.any() else np.arange(len(worker))
    return rules.Violation(
        columns.worker,
        "at least two workers must each be observed in two or more periods "
        f"(found {int(repeated.sum())}; {which})",
        rows,
        "add periods for more workers (the within-worker comparison needs repeated periods); "
        "check that the worker and period columns are mapped correctly",
        show_values=False,
    )


# ------------------------------------------------------------------------------ events

#: Most (worker, period) pairs named when the events disagree with the credentials column.
_MAX_DISAGREE = 5


def _check_events_frame(events: object, cmap: ColumnMap) -> None:
    """The events argument is a DataFrame with the worker and period columns (else raise)."""
    if not isinstance(events, pd.DataFrame):
        got = type(events)
        raise TypeError(
            "events= expects a pandas DataFrame with one row per credential earned (columns "
            f"{cmap.worker!r}, {cmap.period!r} and optionally {CREDENTIAL_TYPE!r}), got "
            f"{got.__module__}.{got.__qualname__}"
        )
    have = [str(c) for c in events.columns]
    absent = [
        (role, col)
        for role, col in (("worker", cmap.worker), ("period", cmap.period))
        if col not in have
    ]
    twice = [col for col in (cmap.worker, cmap.period, CREDENTIAL_TYPE) if have.count(col) > 1]
    if not absent and not twice:
        return
    lines = ["The credential events (events=) cannot be read; fix and validate again:"]
    for role, col in absent:
        close = difflib.get_close_matches(col, have, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        lines.append(
            f"  column {col!r}: required {role} column is absent from the events frame; "
            f"{hint}the events use the panel's column names (columns={{{role!r}: ...}})"
        )
    for col in twice:
        lines.append(f"  column {col!r}: appears {have.count(col)} times in the events frame")
    lines.append(f"The events frame has columns: {have[:30]}")
    raise DataError("\n".join(lines))


def _labels_text(s: pd.Series) -> np.ndarray:
    """Labels compared as text, as :func:`_text_codes` does."""
    return np.array([str(x) for x in s.to_numpy(dtype=object)], dtype=str)


def _event_violations(
    ev: pd.DataFrame, panel: Panel, known: np.ndarray, times_bad: np.ndarray
) -> list[rules.Violation]:
    """The events' own rules, in order: worker missing, worker unknown, period, type missing."""
    c = panel.columns
    out: list[rules.Violation] = []
    missing_worker = ev[c.worker].isna().to_numpy()
    if missing_worker.any():
        out.append(
            rules.Violation(
                c.worker,
                "must not be missing (the worker id of an event is NaN/None)",
                np.flatnonzero(missing_worker),
                "give every event its worker, or drop these rows",
                show_values=False,
            )
        )
    text = _labels_text(ev[c.worker])
    unknown = ~missing_worker & ~np.isin(text, known)
    if unknown.any():
        names = list(dict.fromkeys(text[unknown].tolist()))
        shown = ", ".join(repr(n) for n in names[:_MAX_DISAGREE])
        more = f" and {len(names) - _MAX_DISAGREE} more" if len(names) > _MAX_DISAGREE else ""
        out.append(
            rules.Violation(
                c.worker,
                f"names {len(names)} worker(s) not in the panel: {shown}{more}",
                np.flatnonzero(unknown),
                "drop the events of workers without rows, or check the worker ids (they are "
                "compared as text: 1 and '1' match, 1.0 and 1 do not)",
                show_values=False,
            )
        )
    if times_bad.any():
        if np.asarray(panel.period_labels).dtype.kind == "M":
            rule = (
                "must be a date on the panel's grid of periods (its first period plus a whole "
                "number of steps; missing for a credential held before the panel, date unknown)"
            )
            fix = (
                "give the first period the credential is held at the start of, as a date of "
                f"the panel's grid, converted with pd.to_datetime(events[{c.period!r}])"
            )
        else:
            rule = (
                "must be a whole period number like the panel's periods (missing for a "
                "credential held before the panel, date unknown)"
            )
            fix = (
                "give the first period the credential is held at the start of, as a whole "
                f"number (events[{c.period!r}].astype('Int64'))"
            )
        out.append(rules.Violation(c.period, rule, np.flatnonzero(times_bad), fix))
    if CREDENTIAL_TYPE in ev.columns:
        missing_type = ev[CREDENTIAL_TYPE].isna().to_numpy()
        if missing_type.any():
            out.append(
                rules.Violation(
                    CREDENTIAL_TYPE,
                    "must not be missing on some rows only (the credential's type is NaN/None)",
                    np.flatnonzero(missing_type),
                    "give every event its type (one level such as 'other' for unknown), or "
                    f"drop the {CREDENTIAL_TYPE!r} column",
                    show_values=False,
                )
            )
    return out


def _raise_event_violations(
    violations: list[rules.Violation], ev: pd.DataFrame, cmap: ColumnMap
) -> None:
    if not violations:
        return
    k = len(violations)
    head = (
        f"The credential events (events=) break {k} data rule{'s' if k > 1 else ''}; "
        "fix and validate again:"
    )
    blocks = [rules.format_violation(v, ev, cmap, i + 1) for i, v in enumerate(violations)]
    raise DataError("\n".join([head, *blocks]))


def _with_events(panel: Panel, events: pd.DataFrame, *, derive_credentials: bool) -> Panel:
    """``panel`` with its credential events checked and attached (credentials derived from
    them, or checked against them)."""
    c = panel.columns
    ev = events.reset_index(drop=True)
    ex = panel.excluded
    ex_text = _labels_text(ex[c.worker]) if len(ex) else np.zeros(0, dtype=str)
    known = np.unique(np.concatenate([panel.worker_labels.astype(str), ex_text]))
    times, bad = event_positions(ev[c.period], panel.period_labels)
    _raise_event_violations(_event_violations(ev, panel, known, bad), ev, c)

    text = _labels_text(ev[c.worker])
    types = None
    if CREDENTIAL_TYPE in ev.columns:
        types = np.array([str(x) for x in ev[CREDENTIAL_TYPE].to_numpy(dtype=object)], object)
    # counts over every worker of the frame (rows set aside included)
    every = CredentialEvents(worker=np.searchsorted(known, text), time=times)
    used_codes = np.searchsorted(known, panel.worker_labels.astype(str))[panel.worker_codes]
    counts = counts_at(every, used_codes, panel.row_time)

    frame, excluded, credentials = panel.frame, ex, panel.credentials
    if derive_credentials:
        frame = frame.copy()
        frame[c.credentials] = counts
        credentials = counts
        excluded = ex.copy()
        excluded[c.credentials] = _excluded_counts(ex, every, known, panel)
    else:
        _check_agreement(panel, counts)

    in_panel = np.isin(text, panel.worker_labels.astype(str))
    code = np.searchsorted(panel.worker_labels.astype(str), text)
    order = np.flatnonzero(in_panel)
    order = order[np.lexsort((times[order], code[order]))]
    kept = CredentialEvents(
        worker=code[order],
        time=times[order],
        credential_type=None if types is None else types[order],
    )
    rt = panel.row_time
    first = np.full(panel.n_workers, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(panel.n_workers, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, panel.worker_codes, rt)
    np.maximum.at(last, panel.worker_codes, rt)
    t = kept.time
    outside = (t != UNKNOWN_TIME) & ((t < first[kept.worker]) | (t > last[kept.worker]))
    outside_events = CredentialEvents(
        worker=kept.worker[outside],
        time=t[outside],
        credential_type=None if kept.credential_type is None else kept.credential_type[outside],
    ).to_frame(panel.worker_labels, panel.period_labels, c)
    attached = CredentialEvents(
        worker=kept.worker,
        time=kept.time,
        credential_type=kept.credential_type,
        derived=False,
        outside=outside_events,
    )
    return replace(panel, frame=frame, excluded=excluded, credentials=credentials, events=attached)


def _excluded_counts(
    ex: pd.DataFrame, every: CredentialEvents, known: np.ndarray, panel: Panel
) -> pd.Series:
    """Credentials derived for the rows set aside (missing where their period is missing or
    cannot be placed on the period axis)."""
    c = panel.columns
    out = pd.Series(pd.array([pd.NA] * len(ex), dtype="Int64"), index=ex.index)
    if not len(ex):
        return out
    times, bad = event_positions(ex[c.period], panel.period_labels)
    ok = ~bad & (times != UNKNOWN_TIME)
    codes = np.searchsorted(known, _labels_text(ex[c.worker]))
    values = counts_at(every, codes[ok], times[ok])
    out.iloc[np.flatnonzero(ok)] = values
    return out


def _check_agreement(panel: Panel, counts: np.ndarray) -> None:
    """The credentials column equals the count of events on every used row (else raise)."""
    c = panel.columns
    differ = np.flatnonzero(counts != panel.credentials)
    if not differ.size:
        return
    shown = []
    for pos in differ[:_MAX_DISAGREE]:
        row = panel.frame.iloc[int(pos)]
        key = f"({rules._fmt(row[c.worker])}, {rules._fmt(row[c.period])})"
        shown.append(
            f"{key}: {c.credentials!r} {int(panel.credentials[pos])}, events {int(counts[pos])}"
        )
    more = ", ..." if differ.size > _MAX_DISAGREE else ""
    raise DataError(
        f"The credential events (events=) disagree with column {c.credentials!r} on "
        f"{differ.size} of {panel.n_rows} rows:\n"
        f"    examples (worker, period): {'; '.join(shown)}{more}\n"
        f"    the count held at the start of a period is the worker's events with a period up "
        "to it, plus its events with a missing period (held before the panel)\n"
        f"    fix: give each event the first period the credential is held at the start of "
        f"(the period after the one it was earned in), or drop the {c.credentials!r} column to "
        "derive it from the events"
    )
