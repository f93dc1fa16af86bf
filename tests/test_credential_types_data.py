"""The credential-types data contract: ``validate(..., events=, credential_types=, job_category=)``,
the checked types table (:class:`~bayescred.data.credential_types.CredentialTypes`) and its
messages, on hand-built frames and on the simulator's ``"types"`` preset."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import bayescred as bc
from bayescred.data.credential_types import (
    NO_JOB_CATEGORY,
    CredentialTypes,
    credential_types_table,
)
from bayescred.data.panel import select_rows
from bayescred.data.simulate import SimulatedPanel, simulate
from bayescred.errors import DataError


def _frame(**job: Any) -> pd.DataFrame:
    """Three workers over three periods, no credentials column (derived from the events);
    ``job`` gives the job-category column(s) (``job_category=[...]`` by default)."""
    frame = pd.DataFrame(
        {
            "worker_id": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
            "period": [1, 2, 3] * 3,
            "group": "g",
            "track_record": [0.0, 1, 2, 0, 1, 2, 0, 1, 2],
            "y": [1.0, 2, 3, 1.5, 2.5, 3.5, 0.5, 1.0, 2.0],
        }
    )
    if not job:
        job = {"job_category": ["programming"] * 3 + ["office"] * 3 + [None] * 3}
    for name, values in job.items():
        frame[name] = values
    return frame


def _events(types: list[Any] | None = None) -> pd.DataFrame:
    """Four events; ``c``'s first is held before the panel (missing period)."""
    events = pd.DataFrame(
        {
            "worker_id": ["a", "a", "b", "c"],
            "period": pd.array([2, 3, 2, pd.NA], dtype="Int64"),
            "credential_type": ["python", "sql", "excel", "python"] if types is None else types,
        }
    )
    return events


def _types(**extra: Any) -> pd.DataFrame:
    """python, sql: programming; excel, word: office (word is used by no event)."""
    table = pd.DataFrame(
        {
            "credential_type": ["python", "excel", "sql", "word"],
            "category": ["programming", "office", "programming", "office"],
        }
    )
    for name, values in extra.items():
        table[name] = values
    return table


def _validate(
    frame: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    types: Any = None,
    **kwargs: Any,
) -> bc.Panel:
    return bc.validate(
        _frame() if frame is None else frame,
        outcome="y",
        events=_events() if events is None else events,
        credential_types=_types() if types is None else types,
        **kwargs,
    )


def _error(**kwargs: Any) -> str:
    with pytest.raises(DataError) as info:
        _validate(**kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------- valid panels


def test_a_valid_types_table_is_checked_and_attached() -> None:
    types = _types(difficulty=[3, 1, 2, 1])
    before = types.copy()
    panel = _validate(types=types)
    ct = panel.credential_types
    assert isinstance(ct, CredentialTypes)
    assert ct.labels.tolist() == ["excel", "python", "sql", "word"]
    assert ct.category_labels.tolist() == ["office", "programming"]
    assert ct.category_codes.tolist() == [0, 1, 1, 0]
    assert (ct.n_types, ct.n_categories) == (4, 2)
    assert ct.job_category == "job_category"
    # the table is sorted by type, index reset, with its attribute columns
    assert ct.table.columns.tolist() == ["credential_type", "category", "difficulty"]
    assert ct.table["credential_type"].tolist() == ct.labels.tolist()
    assert ct.table["difficulty"].tolist() == [1, 3, 2, 1]
    assert ct.table.index.tolist() == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(types, before)  # the argument is not modified
    frame = ct.to_frame()
    frame.loc[0, "difficulty"] = 99
    assert ct.table.loc[0, "difficulty"] == 1  # to_frame is a copy
    # the events keep their types
    assert panel.events is not None and panel.events.credential_type is not None
    assert sorted(panel.events.credential_type.tolist()) == ["excel", "python", "python", "sql"]
    assert panel.frame["credentials"].tolist() == [0, 1, 2, 0, 1, 1, 1, 1, 1]


def test_types_no_event_uses_are_allowed() -> None:
    panel = _validate(events=_events(["python"] * 4))
    assert panel.credential_types is not None
    assert panel.credential_types.labels.tolist() == ["excel", "python", "sql", "word"]


def test_the_frame_without_a_job_category_column_validates() -> None:
    frame = _frame().drop(columns="job_category")
    ct = _validate(frame=frame).credential_types
    assert ct is not None and ct.job_category is None
    assert ct.job_codes(None, 3).tolist() == [NO_JOB_CATEGORY] * 3


def test_missing_job_categories_are_allowed_and_have_no_code() -> None:
    panel = _validate()
    ct = panel.credential_types
    assert ct is not None
    codes = ct.job_codes(panel.frame["job_category"], panel.n_rows)
    assert codes.tolist() == [1, 1, 1, 0, 0, 0, -1, -1, -1]
    assert NO_JOB_CATEGORY == -1


def test_a_job_category_column_of_another_name() -> None:
    frame = _frame(my_job=["office"] * 9)
    assert "job_category" not in frame.columns
    ct = _validate(frame=frame, job_category="my_job").credential_types
    assert ct is not None and ct.job_category == "my_job"


def test_labels_are_compared_as_text() -> None:
    events = _events([1, 2, 1, "2"])
    types = pd.DataFrame({"credential_type": ["1", 2], "category": [10, 20]})
    frame = _frame(job_category=[10] * 3 + ["20"] * 3 + [None] * 3)
    ct = _validate(frame=frame, events=events, types=types).credential_types
    assert ct is not None
    assert ct.labels.tolist() == ["1", "2"]
    assert ct.category_labels.tolist() == ["10", "20"]
    assert ct.table["credential_type"].tolist() == ["1", "2"]
    assert ct.table["category"].tolist() == ["10", "20"]
    assert ct.codes(np.array([2, "1"], dtype=object)).tolist() == [1, 0]


def test_a_categorical_or_string_dtype_table_and_job_column() -> None:
    types = _types().astype("category")
    frame = _frame()
    frame["job_category"] = pd.Categorical(frame["job_category"])
    ct = _validate(frame=frame, types=types).credential_types
    assert ct is not None and ct.labels.tolist() == ["excel", "python", "sql", "word"]
    ct = _validate(types=_types().astype("string")).credential_types
    assert ct is not None and ct.category_codes.tolist() == [0, 1, 1, 0]


# ---------------------------------------------------------------------------- CredentialTypes


def _checked() -> CredentialTypes:
    return credential_types_table(_types(), np.array(["sql", "python"], dtype=object))


def test_codes_index_into_the_sorted_labels() -> None:
    ct = _checked()
    assert ct.codes(np.array(["word", "excel", "sql"], dtype=object)).tolist() == [3, 0, 2]
    assert ct.codes(np.array([], dtype=object)).tolist() == []
    assert ct.codes(np.array(["sql"], dtype=object)).dtype == np.int64
    with pytest.raises(DataError, match="unknown credential types") as info:
        ct.codes(np.array(["python", "pyhton", "zzz"], dtype=object))
    message = str(info.value)
    assert "'pyhton'" in message and "'zzz'" in message
    assert "'pyhton' -> 'python'" in message


def test_category_of_names_the_category_or_suggests_types() -> None:
    ct = _checked()
    assert ct.category_of("python") == "programming"
    assert ct.category_of("word") == "office"
    with pytest.raises(KeyError, match="not a credential type") as info:
        ct.category_of("exel")
    assert "did you mean" in str(info.value) and "'excel'" in str(info.value)
    with pytest.raises(KeyError) as info:
        ct.category_of("zzzzzz")
    assert "did you mean" not in str(info.value)


def test_job_codes_map_categories_and_missing_to_minus_one() -> None:
    ct = _checked()
    values = pd.Series(["office", None, "programming", np.nan, pd.NA])
    assert ct.job_codes(values, 5).tolist() == [0, -1, 1, -1, -1]
    assert ct.job_codes(values.to_numpy(dtype=object), 5).dtype == np.int64
    assert ct.job_codes(None, 2).tolist() == [-1, -1]
    with pytest.raises(DataError, match="no credential type has") as info:
        ct.job_codes(pd.Series(["office", "desing"]), 2)
    assert "'desing'" in str(info.value)


def test_an_empty_table_raises_data_errors_not_index_errors() -> None:
    empty = credential_types_table(_types().iloc[:0], np.array([], dtype=object))
    assert empty.n_types == 0 and empty.n_categories == 0
    with pytest.raises(DataError, match="unknown credential types"):
        empty.codes(np.array(["python"], dtype=object))
    with pytest.raises(DataError, match="no credential type has"):
        empty.job_codes(pd.Series(["office"]), 1)
    assert empty.job_codes(pd.Series([None]), 1).tolist() == [-1]


# ---------------------------------------------------------------------------- errors: table


def test_a_non_dataframe_types_argument_is_a_type_error() -> None:
    for bad in ([("python", "programming")], _types()["category"], {"python": "programming"}):
        with pytest.raises(TypeError, match="expects a pandas DataFrame") as info:
            _validate(types=bad)
        assert "'credential_type'" in str(info.value) and "'category'" in str(info.value)


@pytest.mark.parametrize("name", ["Category", "categ"])
def test_a_missing_category_column_is_named_with_a_close_match(name: str) -> None:
    message = _error(types=_types().rename(columns={"category": name}))
    assert "lacks column(s) 'category'" in message
    assert f"did you mean {name!r}" in message


def test_a_missing_type_column_is_named() -> None:
    message = _error(types=_types().rename(columns={"credential_type": "skill"}))
    assert "lacks column(s) 'credential_type'" in message
    assert "'skill'" in message  # the columns it has
    message = _error(types=pd.DataFrame({"name": ["python"]}))
    assert "'credential_type'" in message and "'category'" in message


def test_a_repeated_table_column_is_named() -> None:
    types = pd.concat([_types(), _types()[["category"]]], axis=1)
    message = _error(types=types)
    assert "repeated column" in message and "'category' appears 2 times" in message


def test_types_without_a_category_are_named() -> None:
    types = _types()
    types.loc[[1, 3], "category"] = None
    message = _error(types=types, frame=_frame().drop(columns="job_category"))
    assert "break 1 rule;" in message
    assert "types without a category: 'excel', 'word'" in message
    # with them gone, no type has the job category 'office' either
    message = _error(types=types)
    assert "break 2 rules" in message and "no credential type has: 'office'" in message


def test_a_type_listed_twice_is_named() -> None:
    types = pd.concat([_types(), _types().iloc[[2]]], ignore_index=True)
    message = _error(types=types)
    assert "types listed more than once: 'sql'" in message
    # 1 and "1" are one label
    types = pd.DataFrame({"credential_type": [1, "1"], "category": ["x", "y"]})
    message = _error(events=_events([1, 1, 1, 1]), types=types, frame=_frame(job_category="x"))
    assert "listed more than once: '1'" in message


def test_a_type_row_without_a_label_is_named() -> None:
    types = _types()
    types.loc[2, "credential_type"] = np.nan
    message = _error(types=types)
    assert "1 row(s) of the types table have no 'credential_type'" in message
    assert "table rows [2]" in message
    # the events' "sql" is then unknown too
    assert "'sql'" in message and "break 2 rules" in message


# ---------------------------------------------------------------------------- errors: events


def test_an_event_type_not_in_the_table_is_named_with_close_matches() -> None:
    message = _error(events=_events(["pyhton", "sql", "excel", "cobol"]))
    assert "the events name 2 type(s) the types table does not have" in message
    assert "'cobol'" in message and "'pyhton'" in message
    assert "close matches: 'pyhton' -> 'python'" in message
    assert "'cobol' ->" not in message


def test_events_without_a_type_column_are_an_error() -> None:
    message = _error(events=_events().drop(columns="credential_type"))
    assert "the credential events have no 'credential_type' column" in message


def test_types_without_events_are_an_error() -> None:
    frame = _frame().assign(credentials=0)
    with pytest.raises(DataError, match="credential_types= needs the credential events") as info:
        bc.validate(frame, outcome="y", credential_types=_types())
    assert "events=" in str(info.value)


# ---------------------------------------------------------------------------- errors: job category


def test_a_job_category_of_no_type_is_named() -> None:
    frame = _frame(job_category=["programming"] * 3 + ["desing"] * 3 + ["legal"] * 3)
    message = _error(frame=frame)
    assert "column 'job_category': job categories that no credential type has" in message
    assert "'desing', 'legal'" in message
    assert "the categories are 'office', 'programming'" in message


def test_a_job_category_close_to_a_category_is_suggested() -> None:
    frame = _frame(job_category=["Programming"] * 9)
    message = _error(frame=frame)
    assert "'Programming' -> 'programming'" in message


def test_whole_number_job_categories_read_as_floats_get_a_hint() -> None:
    frame = _frame(job_category=[1, 1, 1, 2, 2, 2, np.nan, np.nan, np.nan])
    types = pd.DataFrame({"credential_type": ["python", "sql", "excel"], "category": [1, 1, 2]})
    message = _error(frame=frame, types=types)
    assert "'1.0', '2.0'" in message
    assert "1.0 is not 1" in message and "Int64" in message
    frame["job_category"] = frame["job_category"].astype("Int64")
    assert _validate(frame=frame, types=types).credential_types is not None


def test_a_misspelled_job_category_column_name_is_named() -> None:
    message = _error(job_category="job_categroy")
    assert "job_category='job_categroy'" in message
    assert "did you mean 'job_category'" in message


def test_a_repeated_job_category_column_is_an_error() -> None:
    frame = _frame()
    frame = pd.concat([frame, frame[["job_category"]]], axis=1)
    message = _error(frame=frame)
    assert "'job_category' appears 2 times" in message


def test_job_categories_of_rows_set_aside_are_not_checked() -> None:
    frame = _frame(job_category=["programming"] * 8 + ["legal"])
    frame.loc[8, "y"] = np.nan
    panel = _validate(frame=frame, missing_outcome="exclude")
    assert panel.credential_types is not None and panel.n_rows == 8


# ---------------------------------------------------------------------------- all at once


def test_every_broken_rule_is_listed_in_one_error() -> None:
    types = _types()
    types.loc[3, "category"] = None  # word: no category
    types = pd.concat([types, types.iloc[[0]]], ignore_index=True)  # python twice
    frame = _frame(job_category=["programming"] * 3 + ["legal"] * 3 + [None] * 3)
    events = _events(["python", "sqll", "excel", "python"])
    message = _error(frame=frame, events=events, types=types)
    assert message.startswith("The credential types (credential_types=) break 4 rules")
    lines = message.splitlines()
    assert len(lines) == 5
    assert "types listed more than once: 'python'" in lines[1]
    assert "types without a category: 'word'" in lines[2]
    assert "'sqll'" in lines[3] and "'sqll' -> 'sql'" in lines[3]
    assert "'legal'" in lines[4]


def test_three_rules_named_in_the_brief() -> None:
    types = _types()
    types.loc[1, "category"] = np.nan  # excel
    frame = _frame(job_category=["programming"] * 3 + ["design"] * 3 + [None] * 3)
    message = _error(frame=frame, events=_events(["pyhton", "sql", "excel", "python"]), types=types)
    assert "break 3 rules" in message
    for word in ("'excel'", "'pyhton' -> 'python'", "'design'"):
        assert word in message


# ---------------------------------------------------------------------------- simulator


@pytest.fixture(scope="module")
def sim() -> SimulatedPanel:
    return simulate("types", n_workers=200, n_periods=6, seed=1)


def _sim_types(sim: SimulatedPanel) -> pd.DataFrame:
    assert sim.credential_types is not None
    return sim.credential_types


def test_a_simulated_types_panel_validates(sim: SimulatedPanel) -> None:
    types = _sim_types(sim).copy()
    rng = np.random.default_rng(0)
    types["difficulty"] = rng.integers(1, 6, len(types))
    panel = bc.validate(sim.frame, outcome="earnings", events=sim.events, credential_types=types)
    ct = panel.credential_types
    assert ct is not None and panel.events is not None
    assert ct.labels.tolist() == sorted(str(t) for t in types["credential_type"])
    assert ct.job_category == "job_category"
    assert ct.category_labels.tolist() == sorted({str(c) for c in types["category"]})
    # each type's code points at its category in the table given
    given = types.set_index("credential_type")
    assert [ct.category_labels[c] for c in ct.category_codes] == [
        given.loc[t, "category"] for t in ct.labels
    ]
    assert [ct.category_of(t) for t in ct.labels[:5]] == [
        given.loc[t, "category"] for t in ct.labels[:5]
    ]
    # the attribute column is kept, aligned with the types
    assert "difficulty" in ct.table.columns
    assert ct.table["difficulty"].tolist() == [given.loc[t, "difficulty"] for t in ct.labels]
    # every event's type is known; the job codes match the category labels
    assert panel.events.credential_type is not None
    codes = ct.codes(panel.events.credential_type)
    assert (ct.labels[codes] == panel.events.credential_type).all()
    job = ct.job_codes(panel.frame["job_category"], panel.n_rows)
    assert (job >= 0).all()
    assert (ct.category_labels[job] == panel.frame["job_category"].astype(str).to_numpy()).all()


def test_a_simulated_panel_keeps_its_types_through_row_selection(sim: SimulatedPanel) -> None:
    panel = bc.validate(
        sim.frame, outcome="earnings", events=sim.events, credential_types=_sim_types(sim)
    )
    assert panel.events is not None and panel.events.credential_type is not None

    def triples(p: bc.Panel) -> list[tuple[str, int, str]]:
        assert p.events is not None and p.events.credential_type is not None
        labels = p.worker_labels.astype(str)[p.events.worker]
        return sorted(
            zip(
                labels.tolist(),
                p.events.time.tolist(),
                p.events.credential_type.tolist(),
                strict=True,
            )
        )

    # keep the rows of every other worker, plus the later periods of the rest
    workers = panel.worker_codes
    keep = (workers % 2 == 0) | (panel.period_codes >= 4)
    smaller = select_rows(panel, keep, "test")
    assert smaller.n_rows == int(keep.sum())
    assert smaller.credential_types is panel.credential_types
    kept_labels = set(smaller.worker_labels.astype(str).tolist())
    expected = [t for t in triples(panel) if t[0] in kept_labels]
    assert triples(smaller) == expected
    ct = smaller.credential_types
    assert ct is not None
    assert smaller.events is not None and smaller.events.credential_type is not None
    ct.codes(smaller.events.credential_type)  # all still known
    job = ct.job_codes(smaller.frame["job_category"], smaller.n_rows)
    assert job.shape == (smaller.n_rows,)


def test_a_simulated_frame_without_job_category_validates(sim: SimulatedPanel) -> None:
    frame = sim.frame.drop(columns="job_category")
    panel = bc.validate(
        frame, outcome="earnings", events=sim.events, credential_types=_sim_types(sim)
    )
    assert panel.credential_types is not None
    assert panel.credential_types.job_category is None


def test_a_simulated_table_missing_a_used_type_is_named(sim: SimulatedPanel) -> None:
    used = sim.events["credential_type"].value_counts().index[0]
    types = _sim_types(sim)
    types = types[types["credential_type"] != used]
    with pytest.raises(DataError, match="the types table does not have") as info:
        bc.validate(sim.frame, outcome="earnings", events=sim.events, credential_types=types)
    assert repr(str(used)) in str(info.value)
