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
   over periods; at least two workers observed in two or more periods.

Steps 1 and 2 raise at the first problem, since nothing further can be checked. Every rule
broken in steps 4 and 5 is collected into one :class:`~bayescred.errors.DataError`, one
block per rule, in the order above; a panel rule is skipped (and the message says so) when
a column it relies on broke a rule of step 4.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Literal, cast, get_args

import numpy as np
import pandas as pd
from pydantic import ValidationError

from bayescred.columns import DEFAULT_OUTCOME_KINDS, ColumnMap, OutcomeKind
from bayescred.data import rules
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

    Returns
    -------
    Panel
        Rows sorted by worker then period (labels compared as text), index reset.

    Raises
    ------
    TypeError
        ``frame`` is not a pandas DataFrame.
    DataError
        An argument names an unknown role or value, a column is absent, or rules are broken
        (all broken rules of one call are listed; see the module docstring for the order).

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
    _check_presence(frame, cmap, outcome, covs)

    work = frame.copy()
    work.index = pd.RangeIndex(len(work))
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
    return _build_panel(work, excluded, cmap, outcome, kind, covs)


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
    frame: pd.DataFrame, cmap: ColumnMap, outcome: str | None, covs: tuple[str, ...]
) -> None:
    """Raise (through the common format) when a used column is absent or duplicated."""
    wanted = [(role, getattr(cmap, role)) for role in ColumnMap.model_fields]
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
