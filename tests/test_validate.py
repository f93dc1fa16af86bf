"""Tests of :func:`bayescred.data.validation`: every data rule, its message, and the Panel built."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bayescred.data import ColumnMap, Panel, validate
from bayescred.errors import DataError

Key = tuple[object, object]


@pytest.fixture
def frame() -> pd.DataFrame:
    """Three workers (b, a, c) over up to three periods, deliberately unsorted."""
    return pd.DataFrame(
        {
            "worker_id": ["b", "a", "c", "a", "b", "c", "a"],
            "period": [2, 2, 1, 1, 1, 2, 3],
            "group": ["y", "x", "y", "x", "y", "y", "x"],
            "credentials": [1, 1, 0, 0, 0, 2, 3],
            "track_record": [3.0, 1.0, 0.0, 0.0, 2.0, 1.5, 4.0],
            "earnings": [10.0, 0.0, 5.5, 2.0, 1.0, 7.0, 3.0],
            "hours": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            "n_projects": [2, 0, 1, 1, 1, 3, 1],
            "any_project": [1, 0, 1, 1, 1, 1, 1],
        }
    )


def put(df: pd.DataFrame, col: str, keys: list[Key], value: Any) -> pd.DataFrame:
    """A copy of ``df`` with ``value`` in ``col`` at the rows with the given (worker, period)."""
    out = df.copy()
    out[col] = out[col].astype(object)
    for w, p in keys:
        hit = (out["worker_id"] == w) & (out["period"] == p)
        assert hit.sum() == 1
        out.loc[hit, col] = value
    out[col] = out[col].infer_objects()
    return out


def error_of(df: pd.DataFrame, **kwargs: object) -> str:
    with pytest.raises(DataError) as info:
        validate(df, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def block(message: str, column: str, rule: str) -> str:
    """The block of ``message`` about ``column`` whose rule line contains ``rule``."""
    blocks = re.split(r"\n(?=\[\d+\] )", message)
    found = [b for b in blocks if f"column {column!r}: " in b and rule in b.splitlines()[0]]
    assert len(found) == 1, f"no single block for {column!r} / {rule!r} in:\n{message}"
    return found[0]


def assert_rule(
    message: str, column: str, rule: str, n_bad: int | str, n_total: int, key: str, fix: str
) -> None:
    b = block(message, column, rule)
    assert f"offending rows: {n_bad} of {n_total}\n" in b
    assert key in b.splitlines()[2], b
    assert "fix: " in b and fix in b


# ----------------------------------------------------------------------------- happy path


def test_happy_path_sorts_codes_and_types(frame: pd.DataFrame) -> None:
    original = frame.copy(deep=True)
    panel = validate(frame, outcome="earnings", covariates=["hours"])

    pd.testing.assert_frame_equal(frame, original)  # caller's frame untouched
    assert isinstance(panel, Panel)
    assert list(panel.frame["worker_id"]) == ["a", "a", "a", "b", "b", "c", "c"]
    assert list(panel.frame["period"]) == [1, 2, 3, 1, 2, 1, 2]
    assert list(panel.frame.index) == list(range(7))
    assert list(panel.frame.columns) == list(frame.columns)
    assert panel.worker_labels.tolist() == ["a", "b", "c"]
    assert panel.worker_labels.dtype.kind == "U"
    assert panel.group_labels.tolist() == ["x", "y"]
    assert panel.period_labels.tolist() == [1, 2, 3]
    assert panel.period_labels.dtype == np.int64
    np.testing.assert_array_equal(panel.worker_codes, [0, 0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(panel.period_codes, [0, 1, 2, 0, 1, 0, 1])
    np.testing.assert_array_equal(panel.group_codes, [0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(panel.credentials, [0, 1, 3, 0, 1, 0, 2])
    np.testing.assert_array_equal(panel.track_record, [0.0, 1.0, 4.0, 2.0, 3.0, 0.0, 1.5])
    assert panel.y is not None
    np.testing.assert_array_equal(panel.y, [2.0, 0.0, 3.0, 1.0, 10.0, 5.5, 7.0])
    for arr in (panel.worker_codes, panel.period_codes, panel.group_codes, panel.credentials):
        assert arr.dtype == np.int64
    assert panel.track_record.dtype == np.float64 and panel.y.dtype == np.float64
    assert panel.covariate_matrix.shape == (7, 1)
    assert panel.covariate_matrix.dtype == np.float64
    np.testing.assert_array_equal(panel.covariate_matrix[:, 0], [4, 2, 7, 5, 1, 3, 6])
    assert panel.outcome == "earnings" and panel.outcome_kind == "nonnegative"
    assert panel.covariates == ("hours",)
    assert len(panel.excluded) == 0 and "reason" in panel.excluded.columns


def test_without_outcome_or_covariates(frame: pd.DataFrame) -> None:
    panel = validate(frame)
    assert panel.y is None and panel.outcome is None and panel.outcome_kind is None
    assert panel.covariate_matrix.shape == (7, 0)
    assert panel.covariate_matrix.dtype == np.float64


def test_labels_are_sorted_as_text(frame: pd.DataFrame) -> None:
    df = frame.assign(worker_id=frame["worker_id"].map({"a": 10, "b": 2, "c": 1}))
    panel = validate(df)
    assert panel.worker_labels.tolist() == ["1", "10", "2"]
    assert panel.frame["worker_id"].tolist() == [1, 1, 10, 10, 10, 2, 2]
    np.testing.assert_array_equal(panel.worker_codes, [0, 0, 1, 1, 1, 2, 2])


def test_outcome_kind_defaults_and_override(frame: pd.DataFrame) -> None:
    df = frame.assign(log_value=-frame["hours"])
    assert validate(df, outcome="n_projects").outcome_kind == "count"
    assert validate(df, outcome="log_value").outcome_kind == "real"  # negatives are fine
    assert validate(df, outcome="n_projects", outcome_kind="real").outcome_kind == "real"


def test_binary_outcome_accepts_booleans(frame: pd.DataFrame) -> None:
    df = frame.assign(any_project=frame["earnings"] > 0)
    panel = validate(df, outcome="any_project")
    assert df["any_project"].dtype == bool
    assert panel.outcome_kind == "binary"
    assert panel.y is not None and panel.y.dtype == np.float64
    np.testing.assert_array_equal(panel.y, [1, 0, 1, 1, 1, 1, 1])


def test_excluded_missing_outcomes_are_counted_with_reason(frame: pd.DataFrame) -> None:
    df = put(frame, "earnings", [("a", 2), ("c", 1)], np.nan)
    panel = validate(df, outcome="earnings", missing_outcome="exclude")
    assert panel.n_rows == 5
    assert len(panel.excluded) == 2
    assert set(panel.excluded["reason"]) == {"outcome missing"}
    assert sorted(panel.excluded.index) == [1, 2]  # original row labels
    assert panel.excluded["worker_id"].tolist() == ["a", "c"]
    assert panel.describe().loc["rows set aside", "value"] == 2
    assert not panel.frame["earnings"].isna().any()
    assert panel.worker_labels.tolist() == ["a", "b", "c"]
    assert df["earnings"].isna().sum() == 2  # caller's frame untouched


def test_missing_outcome_is_an_error_by_default(frame: pd.DataFrame) -> None:
    df = put(frame, "earnings", [("a", 2), ("c", 1)], np.nan)
    msg = error_of(df, outcome="earnings")
    assert_rule(
        msg, "earnings", "must not be missing", 2, 7, "('a', 2)", "missing_outcome='exclude'"
    )


def test_infinite_outcome_is_an_error_even_when_excluding(frame: pd.DataFrame) -> None:
    df = put(frame, "earnings", [("b", 1)], np.inf)
    msg = error_of(df, outcome="earnings", missing_outcome="exclude")
    assert_rule(msg, "earnings", "must be finite", 1, 7, "('b', 1) = inf", "replace or drop")


def test_too_few_workers_after_exclusion(frame: pd.DataFrame) -> None:
    df = put(frame, "earnings", [("a", 1), ("a", 2), ("c", 1)], np.nan)
    msg = error_of(df, outcome="earnings", missing_outcome="exclude")
    assert_rule(msg, "worker_id", "at least two workers", 2, 4, "('a', 3)", "add periods")
    assert "3 rows with a missing outcome were set aside" in msg


def test_date_periods(frame: pd.DataFrame) -> None:
    dates = {1: "2024-01-01", 2: "2024-01-15", 3: "2024-01-29"}
    df = frame.assign(period=pd.to_datetime(frame["period"].map(dates)))
    panel = validate(df)
    assert np.issubdtype(panel.period_labels.dtype, np.datetime64)
    assert [str(d)[:10] for d in panel.period_labels] == list(dates.values())
    np.testing.assert_array_equal(panel.period_codes, [0, 1, 2, 0, 1, 0, 1])

    bad = df.copy()
    bad.loc[(bad["worker_id"] == "b") & (bad["period"] == "2024-01-15"), "credentials"] = -1
    msg = error_of(bad)
    assert_rule(msg, "credentials", "must be >= 0", 1, 7, "('b', 2024-01-15) = -1", "negative")


def test_timezone_aware_dates_become_naive_datetime64(frame: pd.DataFrame) -> None:
    df = frame.assign(
        period=pd.Timestamp("2024-01-01", tz="Europe/Helsinki")
        + pd.to_timedelta(frame["period"] * 14, unit="D")
    )
    panel = validate(df)
    assert np.issubdtype(panel.period_labels.dtype, np.datetime64)
    assert len(panel.period_labels) == 3


def test_integer_valued_float_periods_become_int64(frame: pd.DataFrame) -> None:
    panel = validate(frame.assign(period=frame["period"].astype(float)))
    assert panel.period_labels.dtype == np.int64
    assert panel.period_labels.tolist() == [1, 2, 3]


# ----------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("bad", [{"worker_id": [1]}, np.zeros((3, 5)), None])
def test_non_dataframe_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="expects a pandas DataFrame") as info:
        validate(bad)  # type: ignore[arg-type]
    assert type(bad).__name__ in str(info.value)


def test_panel_passed_again_gets_a_hint(frame: pd.DataFrame) -> None:
    panel = validate(frame)
    with pytest.raises(TypeError, match="already validated"):
        validate(panel)  # type: ignore[arg-type]


def test_custom_column_mapping(frame: pd.DataFrame) -> None:
    names = {"worker_id": "freelancer", "credentials": "badges", "period": "fortnight"}
    df = frame.rename(columns=names)
    mapping = {"worker": "freelancer", "credentials": "badges", "period": "fortnight"}
    for columns in (mapping, ColumnMap(**mapping)):
        panel = validate(df, columns=columns, outcome="earnings")
        assert panel.columns.worker == "freelancer"
        assert panel.worker_labels.tolist() == ["a", "b", "c"]
        np.testing.assert_array_equal(panel.credentials, [0, 1, 3, 0, 1, 0, 2])
    bad = put(frame, "credentials", [("c", 2)], 1.5).rename(columns=names)
    msg = error_of(bad, columns=mapping)
    assert_rule(msg, "badges", "whole number", 1, 7, "('c', 2) = 1.5", "round or recompute")


def test_unknown_role_lists_allowed_roles(frame: pd.DataFrame) -> None:
    msg = error_of(frame, columns={"worker": "worker_id", "outcome": "earnings"})
    assert "'outcome'" in msg and "allowed roles" in msg
    for role in ("worker", "period", "group", "credentials", "track_record"):
        assert repr(role) in msg


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"outcome": "earnings", "outcome_kind": "positive"}, "outcome_kind must be one of"),
        ({"missing_outcome": "drop"}, "missing_outcome must be one of"),
        ({"outcome_kind": "count"}, "without an outcome"),
        ({"covariates": ["hours", "hours"]}, "more than once"),
    ],
)
def test_bad_argument_values(frame: pd.DataFrame, kwargs: dict, words: str) -> None:
    assert words in error_of(frame, **kwargs)


def test_missing_columns_are_listed_with_existing_ones(frame: pd.DataFrame) -> None:
    df = frame.drop(columns=["credentials", "group"])
    msg = error_of(df, outcome="earning", covariates="hours")
    for col in ("credentials", "group", "earning"):
        assert_rule(msg, col, "absent from the frame", "all", 7, "('b', 2)", "")
    assert "columns={'credentials': '<name>'}" in msg
    assert "did you mean 'earnings'?" in msg
    assert "The frame has columns: ['worker_id', 'period', 'track_record', 'earnings'" in msg
    assert "'hours': required" not in msg


def test_duplicated_column_name(frame: pd.DataFrame) -> None:
    df = pd.concat([frame, frame[["group"]]], axis=1)
    msg = error_of(df)
    assert_rule(msg, "group", "appears 2 times", "all", 7, "('b', 2)", "rename or drop")


# ----------------------------------------------------------------------------- column rules

NAN = np.nan
RULES = [
    # column, value, keys, kwargs, rule words, example, fix words
    ("worker_id", None, [("a", 2)], {}, "must not be missing", "(<missing>, 2)", "fill in"),
    ("period", NAN, [("a", 2), ("b", 1)], {}, "must not be missing", "('a', <missing>)", "fill in"),
    (
        "period",
        1.5,
        [("c", 2)],
        {},
        "whole period number or a date",
        "('c', 1.5) = 1.5",
        "pd.to_datetime",
    ),
    (
        "period",
        "2024-01",
        [("c", 2)],
        {},
        "whole period number or a date",
        "('c', '2024-01')",
        "astype('int64')",
    ),
    ("group", None, [("c", 1)], {}, "must not be missing", "('c', 1)", "give every row a group"),
    ("credentials", NAN, [("b", 2)], {}, "must not be missing", "('b', 2)", "fill in"),
    ("credentials", "two", [("b", 2)], {}, "must be numeric", "('b', 2) = 'two'", "pd.to_numeric"),
    ("credentials", np.inf, [("a", 3)], {}, "must be finite", "('a', 3) = inf", "replace or drop"),
    (
        "credentials",
        2.5,
        [("a", 3), ("c", 2)],
        {},
        "whole number",
        "('a', 3) = 2.5",
        "round or recompute",
    ),
    (
        "credentials",
        -1,
        [("a", 1), ("b", 1)],
        {},
        "must be >= 0",
        "('a', 1) = -1",
        "cannot be negative",
    ),
    ("track_record", NAN, [("c", 1)], {}, "must not be missing", "('c', 1)", "fill in"),
    (
        "track_record",
        "many",
        [("c", 1)],
        {},
        "must be numeric",
        "('c', 1) = 'many'",
        "pd.to_numeric",
    ),
    (
        "track_record",
        -np.inf,
        [("c", 1)],
        {},
        "must be finite",
        "('c', 1) = -inf",
        "replace or drop",
    ),
    ("track_record", -0.5, [("c", 1)], {}, "must be >= 0", "('c', 1) = -0.5", "cannot be negative"),
    (
        "earnings",
        -3.0,
        [("b", 2)],
        {"outcome": "earnings"},
        "must be >= 0",
        "('b', 2) = -3.0",
        "outcome_kind=",
    ),
    (
        "n_projects",
        1.5,
        [("b", 2)],
        {"outcome": "n_projects"},
        "whole number >= 0",
        "('b', 2) = 1.5",
        "counts are integers",
    ),
    (
        "n_projects",
        -1,
        [("b", 2)],
        {"outcome": "n_projects"},
        "whole number >= 0",
        "('b', 2) = -1",
        "counts are integers",
    ),
    (
        "any_project",
        2,
        [("b", 2), ("c", 1)],
        {"outcome": "any_project"},
        "must be 0 or 1",
        "('b', 2) = 2",
        "code the outcome as 0/1",
    ),
    (
        "any_project",
        0.5,
        [("a", 1)],
        {"outcome": "any_project", "outcome_kind": "binary"},
        "must be 0 or 1",
        "('a', 1) = 0.5",
        "outcome_kind=",
    ),
    (
        "earnings",
        "lots",
        [("b", 2)],
        {"outcome": "earnings"},
        "must be numeric",
        "('b', 2) = 'lots'",
        "pd.to_numeric",
    ),
    (
        "hours",
        NAN,
        [("a", 2)],
        {"covariates": ["hours"]},
        "must not be missing",
        "('a', 2)",
        "fill in",
    ),
    (
        "hours",
        "x",
        [("a", 2)],
        {"covariates": ["hours"]},
        "must be numeric",
        "('a', 2) = 'x'",
        "pd.to_numeric",
    ),
    (
        "hours",
        np.inf,
        [("a", 2)],
        {"covariates": ["hours"]},
        "must be finite",
        "('a', 2) = inf",
        "replace or drop",
    ),
]


@pytest.mark.parametrize(
    ("col", "value", "keys", "kwargs", "rule", "example", "fix"),
    RULES,
    ids=[f"{r[0]}-{r[4]}-{r[1]!r}" for r in RULES],
)
def test_column_rule_message(
    frame: pd.DataFrame,
    col: str,
    value: object,
    keys: list[Key],
    kwargs: dict,
    rule: str,
    example: str,
    fix: str,
) -> None:
    df = put(frame, col, keys, value)
    msg = error_of(df, **kwargs)
    assert msg.startswith("The panel breaks 1 data rule;"), msg
    assert_rule(msg, col, rule, len(keys), 7, example, fix)


def test_boolean_credentials_are_refused(frame: pd.DataFrame) -> None:
    df = frame.assign(credentials=frame["credentials"] > 0)
    msg = error_of(df)
    assert_rule(msg, "credentials", "must be numeric", 7, 7, "('b', 2) = True", "pd.to_numeric")


def test_at_most_five_examples(frame: pd.DataFrame) -> None:
    df = frame.assign(track_record=-1.0)
    b = block(error_of(df), "track_record", "must be >= 0")
    examples = b.splitlines()[2]
    assert "offending rows: 7 of 7" in b
    assert examples.count(" = -1.0") == 5 and examples.endswith(", ...")


# ----------------------------------------------------------------------------- panel rules


def test_duplicate_keys(frame: pd.DataFrame) -> None:
    df = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    msg = error_of(df)
    assert_rule(msg, "period", "(worker, period) must be unique", 2, 8, "('a', 2)", "aggregate")


def test_worker_ids_equal_as_text_are_one_worker(frame: pd.DataFrame) -> None:
    df = frame.assign(worker_id=frame["worker_id"].map({"a": 1, "b": "1", "c": 3}))
    msg = error_of(df)
    assert_rule(msg, "period", "must be unique", 4, 7, "(1, 1)", "aggregate")


def test_decreasing_credentials(frame: pd.DataFrame) -> None:
    df = put(frame, "credentials", [("a", 3)], 0)
    msg = error_of(df)
    assert_rule(msg, "credentials", "non-decreasing", 1, 7, "('a', 3) = 0", "cumulative sum")


def test_too_few_repeated_workers(frame: pd.DataFrame) -> None:
    df = frame[frame["worker_id"].eq("a") | frame["period"].eq(1)]
    msg = error_of(df)
    assert_rule(msg, "worker_id", "at least two workers", 2, 5, "('c', 1)", "add periods")
    assert "(found 1;" in msg


def test_single_worker_flags_all_rows(frame: pd.DataFrame) -> None:
    msg = error_of(frame[frame["worker_id"] == "a"])
    assert_rule(msg, "worker_id", "(found 1;", 3, 3, "('a', 1)", "add periods")


def test_all_broken_rules_are_listed_in_order(frame: pd.DataFrame) -> None:
    df = put(frame, "credentials", [("a", 3)], 0)  # decreasing (panel rule)
    df = put(df, "track_record", [("b", 1)], -1.0)
    df = put(df, "group", [("c", 2)], None)
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)  # duplicate ('b', 2)
    msg = error_of(df)
    assert msg.startswith("The panel breaks 3 data rules;")
    heads = [line for line in msg.splitlines() if re.match(r"\[\d\] ", line)]
    assert [h.split(":")[0] for h in heads] == [
        "[1] column 'group'",
        "[2] column 'track_record'",
        "[3] column 'period'",
    ]
    assert "Not yet checked" in msg and "credentials non-decreasing" in msg


def test_panel_rules_wait_for_key_columns(frame: pd.DataFrame) -> None:
    df = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    df = put(df, "worker_id", [("c", 1)], None)
    msg = error_of(df)
    assert "must be unique" not in msg.split("Not yet checked")[0]
    assert "Not yet checked" in msg and "(worker, period) unique" in msg


def test_error_type_is_value_error_too(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        validate(put(frame, "track_record", [("a", 1)], -2.0))


def test_categorical_group_and_nullable_integers(frame: pd.DataFrame) -> None:
    df = frame.assign(
        group=pd.Categorical(frame["group"], categories=["unused", "y", "x"]),
        credentials=frame["credentials"].astype("Int64"),
    )
    panel = validate(df)
    assert panel.group_labels.tolist() == ["x", "y"]  # observed levels only, sorted as text
    assert panel.credentials.dtype == np.int64
    np.testing.assert_array_equal(panel.credentials, [0, 1, 3, 0, 1, 0, 2])


def test_empty_frame_is_refused(frame: pd.DataFrame) -> None:
    msg = error_of(frame.iloc[:0])
    assert_rule(msg, "worker_id", "the panel has no rows", 0, 0, "(none)", "add periods")
