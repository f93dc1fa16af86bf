"""The data rules of a worker-period panel and the one format their messages share.

:func:`bayescred.data.validation` calls these in a fixed order. Per-column rules (a value is
missing, not numeric, infinite, not a whole number, out of range, not a date or whole
period) are checks of a lazily validated :mod:`pandera` schema; the panel rules pandera
cannot express ((worker, period) unique, credentials non-decreasing within a worker, two
workers with two periods) are written by hand in :mod:`bayescred.data.validation`. Every broken
rule becomes a
:class:`Violation`, and :func:`raise_violations` formats all of them with
:func:`format_violation` into a single :class:`~bayescred.errors.DataError`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from bayescred.columns import ColumnMap, OutcomeKind
from bayescred.errors import DataError

#: Most example (worker, period) keys shown per broken rule.
MAX_EXAMPLES = 5

Test = Callable[[pd.Series], pd.Series]


@dataclass(frozen=True)
class Violation:
    """One broken rule.

    Attributes
    ----------
    column
        Name of the column the rule is about.
    rule
        What the column must satisfy, as a phrase ("must be >= 0").
    rows
        Positions (0-based, into the checked frame) of the offending rows, in the order
        they should be shown; None when the whole column is at fault (it is absent).
    fix
        How to fix it, as a sentence.
    show_values
        Whether examples show the offending value next to the key.
    """

    column: str
    rule: str
    rows: np.ndarray | None
    fix: str
    show_values: bool = True


@dataclass(frozen=True)
class ColumnRule:
    """A per-column rule: ``test`` maps the column's non-missing values to True where valid.

    ``test`` is None for the not-missing rule, which pandera checks itself (``nullable=False``).
    """

    name: str
    rule: str
    fix: str
    test: Test | None = None


def _fmt(value: object) -> str:
    """Short, readable form of one cell value (for example keys and values)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "<missing>"
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        is_date = value == value.normalize() and value.tzinfo is None
        return str(value.date()) if is_date else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return "<missing>"
    return repr(value)


def format_violation(
    v: Violation, frame: pd.DataFrame, columns: ColumnMap, number: int | None = None
) -> str:
    """Format one violation; every rule's message has exactly this shape.

    ::

        [1] column 'credentials': must be >= 0
            offending rows: 2 of 12
            examples (worker, period): ('a', 3) = -1, ('b', 1) = -2
            fix: ...
    """
    n_total = len(frame)
    rows = np.arange(n_total) if v.rows is None else np.asarray(v.rows, dtype=np.int64)
    n_bad = "all" if v.rows is None else str(len(rows))
    if columns.worker in frame.columns and columns.period in frame.columns:
        shown = []
        for pos in rows[:MAX_EXAMPLES]:
            row = frame.iloc[int(pos)]
            key = f"({_fmt(row[columns.worker])}, {_fmt(row[columns.period])})"
            if v.show_values and v.rows is not None:
                key += f" = {_fmt(row[v.column])}"
            shown.append(key)
        more = ", ..." if len(rows) > MAX_EXAMPLES else ""
        examples = (", ".join(shown) + more) if shown else "(none)"
    else:
        examples = "(unavailable: the worker or period column is absent)"
    tag = f"[{number}] " if number is not None else ""
    pad = " " * len(tag)
    return (
        f"{tag}column {v.column!r}: {v.rule}\n"
        f"{pad}offending rows: {n_bad} of {n_total}\n"
        f"{pad}examples (worker, period): {examples}\n"
        f"{pad}fix: {v.fix}"
    )


def raise_violations(
    violations: Sequence[Violation],
    frame: pd.DataFrame,
    columns: ColumnMap,
    notes: Sequence[str] = (),
) -> None:
    """Raise one :class:`DataError` listing every violation (no-op when there are none)."""
    if not violations:
        return
    k = len(violations)
    head = f"The panel breaks {k} data rule{'s' if k > 1 else ''}; fix and validate again:"
    blocks = [format_violation(v, frame, columns, i + 1) for i, v in enumerate(violations)]
    raise DataError("\n".join([head, *blocks, *notes]))


# --------------------------------------------------------------------------- values


def is_real(s: pd.Series, allow_bool: bool = False) -> np.ndarray:
    """True for each value that is a real number (booleans only if ``allow_bool``).

    Missing values count as valid here: the not-missing rule reports them.
    """
    if pd.api.types.is_bool_dtype(s.dtype):
        return np.full(len(s), allow_bool)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return np.ones(len(s), dtype=bool)
    if s.dtype == object:
        kinds = (numbers.Real, np.bool_) if allow_bool else (numbers.Real,)
        return np.fromiter(
            (
                (isinstance(x, kinds) and (allow_bool or not isinstance(x, bool | np.bool_)))
                or _is_na(x)
                for x in s
            ),
            dtype=bool,
            count=len(s),
        )
    return np.zeros(len(s), dtype=bool)


def _is_na(x: object) -> bool:
    """Whether one cell is missing (None, NaN, NA, NaT); False for any other object."""
    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and np.isnan(x))


def numeric_values(s: pd.Series, allow_bool: bool = False) -> np.ndarray:
    """float64 values of ``s``; NaN where missing or not a real number."""
    ok = is_real(s, allow_bool)
    out = np.full(len(s), np.nan)
    if ok.any():
        part = s[ok]
        if part.dtype == object:
            part = part.map(lambda x: np.nan if _is_na(x) else float(x))
        num = pd.to_numeric(part, errors="coerce")
        out[ok] = num.to_numpy(dtype="float64", na_value=np.nan)
    return out


def is_date_dtype(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype)


# --------------------------------------------------------------------------- column rules


def _vector(fn: Callable[[np.ndarray], np.ndarray], allow_bool: bool = False) -> Test:
    """A test on float values; rows that are not finite numbers pass (other rules own them)."""

    def test(s: pd.Series) -> pd.Series:
        x = numeric_values(s, allow_bool)
        with np.errstate(invalid="ignore"):
            ok = ~np.isfinite(x) | fn(x)
        return pd.Series(ok, index=s.index)

    return test


def _numeric_rule(col: str, allow_bool: bool = False) -> ColumnRule:
    kind = "numeric (0/1 or True/False allowed)" if allow_bool else "numeric (not text or boolean)"
    return ColumnRule(
        "numeric",
        f"must be {kind}",
        f"convert it to numbers, e.g. frame[{col!r}] = pd.to_numeric(frame[{col!r}]), "
        "and fix the values that do not convert",
        lambda s: pd.Series(is_real(s, allow_bool), index=s.index),
    )


def _finite_rule(col: str, allow_bool: bool = False) -> ColumnRule:
    def test(s: pd.Series) -> pd.Series:
        return pd.Series(~np.isinf(numeric_values(s, allow_bool)), index=s.index)

    return ColumnRule(
        "finite",
        "must be finite (no +inf or -inf)",
        "replace or drop the infinite values (they often come from log(0) or a division by 0)",
        test,
    )


def _whole_rule(what: str) -> ColumnRule:
    return ColumnRule(
        "whole",
        "must be a whole number (integer-valued)",
        f"{what} are counts: round or recompute them so that every value is an integer",
        _vector(lambda x: x == np.floor(x)),
    )


def _nonneg_rule(fix: str, allow_bool: bool = False) -> ColumnRule:
    return ColumnRule("nonneg", "must be >= 0", fix, _vector(lambda x: x >= 0, allow_bool))


def _period_test(s: pd.Series) -> pd.Series:
    if is_date_dtype(s):
        return pd.Series(True, index=s.index)
    x = numeric_values(s)
    with np.errstate(invalid="ignore"):
        ok = is_real(s) & np.isfinite(x) & (x == np.floor(x))
    return pd.Series(ok, index=s.index)


def _outcome_rules(col: str, kind: OutcomeKind) -> list[ColumnRule]:
    alt = "or pass another outcome_kind= ('real', 'nonnegative', 'count', 'binary')"
    rules = [_numeric_rule(col, allow_bool=kind == "binary"), _finite_rule(col, kind == "binary")]
    if kind == "nonnegative":
        rules.append(
            _nonneg_rule(f"outcome kind 'nonnegative' needs values >= 0: fix these rows {alt}")
        )
    elif kind == "count":
        rules.append(
            ColumnRule(
                "count",
                "must be a whole number >= 0 (outcome kind 'count')",
                f"counts are integers 0, 1, 2, ...: fix these rows {alt}",
                _vector(lambda x: (x >= 0) & (x == np.floor(x))),
            )
        )
    elif kind == "binary":
        rules.append(
            ColumnRule(
                "binary",
                "must be 0 or 1 (outcome kind 'binary')",
                f"code the outcome as 0/1 (or False/True) {alt}",
                _vector(lambda x: (x == 0) | (x == 1), allow_bool=True),
            )
        )
    return rules


def column_rules(
    columns: ColumnMap,
    outcome: str | None,
    outcome_kind: OutcomeKind | None,
    covariates: Sequence[str],
    missing_outcome: str,
) -> list[tuple[str, str, list[ColumnRule]]]:
    """The per-column rules in checking order: ``(role, column, rules)`` per used column.

    Within a column the order is: not missing, type, finite, whole number, range / kind.
    """
    c = columns
    fill = "fill in the value or drop these rows before validating"
    plan: list[tuple[str, str, list[ColumnRule]]] = [
        ("worker", c.worker, [_missing("the worker id", fill)]),
        (
            "period",
            c.period,
            [
                _missing("the period", fill),
                ColumnRule(
                    "period_type",
                    "must be a whole period number or a date (datetime64 dtype)",
                    f"convert it with pd.to_datetime(frame[{c.period!r}]) for dates, or to "
                    f"whole numbers with frame[{c.period!r}].astype('int64')",
                    _period_test,
                ),
            ],
        ),
        (
            "group",
            c.group,
            [_missing("the group", "give every row a group (one constant level if none)")],
        ),
        (
            "credentials",
            c.credentials,
            [
                _missing("the credential count", fill),
                _numeric_rule(c.credentials),
                _finite_rule(c.credentials),
                _whole_rule("credentials"),
                _nonneg_rule("credentials count the credentials held: they cannot be negative"),
            ],
        ),
        (
            "track record",
            c.track_record,
            [
                _missing("the track record", fill),
                _numeric_rule(c.track_record),
                _finite_rule(c.track_record),
                _nonneg_rule(
                    "the track record (e.g. projects completed before the period) cannot be "
                    "negative: fix these rows"
                ),
            ],
        ),
    ]
    if outcome is not None and outcome_kind is not None:
        if missing_outcome == "exclude":
            how = fill  # unreachable in practice: missing outcomes were set aside
        else:
            how = (
                "pass missing_outcome='exclude' to set these rows aside (they are returned in "
                "Panel.excluded), or fill in or drop them"
            )
        plan.append(
            (
                "outcome",
                outcome,
                [_missing("the outcome", how), *_outcome_rules(outcome, outcome_kind)],
            )
        )
    for cov in covariates:
        rules = [_missing("the covariate", fill), _numeric_rule(cov, True), _finite_rule(cov, True)]
        plan.append(("covariate", cov, rules))
    return plan


def _missing(what: str, fix: str) -> ColumnRule:
    """The not-missing rule; pandera checks it through ``nullable=False``."""
    return ColumnRule("not_nullable", f"must not be missing ({what} is NaN/None)", fix)


def column_violations(
    frame: pd.DataFrame, plan: list[tuple[str, str, list[ColumnRule]]]
) -> list[Violation]:
    """Check ``plan`` on ``frame`` (RangeIndex) with a lazy pandera schema.

    Returns the violations in plan order (pandera's own order is not used).
    """
    specs: dict[str, list[pa.Check]] = {}
    for role, col, rules in plan:
        checks = specs.setdefault(col, [])
        checks += [pa.Check(r.test, name=f"{role}:{r.name}") for r in rules if r.test is not None]
    schema = pa.DataFrameSchema(
        {col: pa.Column(nullable=False, checks=checks) for col, checks in specs.items()},
        strict=False,
        coerce=False,
    )
    failed: dict[tuple[str, str], np.ndarray] = {}
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        for (col, check), grp in cases.groupby(["column", "check"], sort=False):
            idx = pd.to_numeric(grp["index"], errors="coerce")
            if idx.isna().any():  # a scalar failure: the whole column
                rows = np.arange(len(frame))
            else:
                rows = np.sort(idx.to_numpy(dtype=np.int64))
            failed[(str(col), str(check))] = rows
    out: list[Violation] = []
    seen: set[tuple[str, str]] = set()
    for role, col, rules in plan:
        for r in rules:
            check = "not_nullable" if r.name == "not_nullable" else f"{role}:{r.name}"
            if (col, check) in failed and (col, check) not in seen:
                seen.add((col, check))
                show = r.name != "not_nullable"
                out.append(Violation(col, r.rule, failed[(col, check)], r.fix, show))
    return out
