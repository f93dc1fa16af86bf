"""Credential events as data (issue #21, item 1): ``validate(..., events=)``, the panel's
events, their derivation from the credentials column, and their storage in fit files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayescred as bc
from bayescred.data.events import (
    NO_EVENT,
    UNKNOWN_TIME,
    CredentialEvents,
    counts_at,
    events_from_credentials,
    period_positions,
)
from bayescred.data.panel import select_rows, track_record_at_entry
from bayescred.datasets import platform_panel
from bayescred.errors import DataError
from bayescred.inference.schema import attach_design
from bayescred.model.design import ModelDesign


def _frame(credentials: bool = True) -> pd.DataFrame:
    """Three workers; ``b`` skips period 3, ``c`` holds one credential at entry."""
    frame = pd.DataFrame(
        {
            "worker_id": ["a"] * 4 + ["b"] * 3 + ["c"] * 3,
            "period": [1, 2, 3, 4, 1, 2, 4, 2, 3, 4],
            "group": ["g", "g", "g", "g", "h", "h", "h", "g", "g", "g"],
            "credentials": [0, 1, 1, 3, 0, 0, 1, 1, 1, 2],
            "track_record": [0.0, 1, 2, 3, 0, 2, 4, 1, 1, 2],
            "y": [1.0, 2, 3, 4, 1.5, 2.5, 3.5, 0.5, 1.0, 2.0],
        }
    )
    return frame if credentials else frame.drop(columns="credentials")


def _events() -> pd.DataFrame:
    """The events of :func:`_frame`'s credentials column (one of ``b``'s at the gap)."""
    return pd.DataFrame(
        {
            "worker_id": ["a", "a", "a", "b", "c", "c"],
            "period": pd.array([2, 4, 4, 3, pd.NA, 4], dtype="Int64"),
            "credential_type": ["x", "x", "y", "x", "y", "x"],
        }
    )


# ---------------------------------------------------------------------------- counts


def test_counts_at_matches_a_brute_force_loop() -> None:
    rng = np.random.default_rng(0)
    worker = rng.integers(0, 7, 60)
    time = rng.integers(-3, 12, 60)
    time[rng.random(60) < 0.2] = UNKNOWN_TIME
    events = CredentialEvents(worker=worker, time=time)
    row_worker = rng.integers(0, 8, 200)
    row_time = rng.integers(-5, 14, 200)
    expected = [
        sum(1 for w, t in zip(worker, time, strict=True) if w == rw and t <= rt)
        for rw, rt in zip(row_worker, row_time, strict=True)
    ]
    assert counts_at(events, row_worker, row_time).tolist() == expected
    first = events.first_time(8)
    for w in range(8):
        mine = time[worker == w]
        assert first[w] == (mine.min() if mine.size else NO_EVENT)


def test_credentials_derived_from_events_match_a_brute_force_loop() -> None:
    events = _events()
    panel = bc.validate(_frame(credentials=False), outcome="y", events=events)
    frame = panel.frame
    expected = []
    for w, p in zip(frame["worker_id"], frame["period"], strict=True):
        mine = events[events["worker_id"] == w]["period"]
        expected.append(int(mine.isna().sum() + (mine.dropna() <= p).sum()))
    assert panel.credentials.tolist() == expected
    assert frame["credentials"].tolist() == expected
    assert (
        panel.credentials.tolist()
        == _frame().sort_values(["worker_id", "period"])["credentials"].tolist()
    )
    ev = panel.events
    assert ev is not None and not ev.derived and ev.n_events == 6
    assert ev.credential_type is not None
    assert sorted(ev.credential_type.tolist()) == ["x", "x", "x", "x", "y", "y"]
    back = ev.to_frame(panel.worker_labels, panel.period_labels)
    assert back["period"].isna().sum() == 1 and back["period"].dtype == "Int64"


def test_without_events_nothing_changes() -> None:
    panel = bc.validate(_frame(), outcome="y")
    assert panel.events is None
    assert "credential events" not in panel.describe().index
    derived = panel.credential_events()
    assert derived.derived and derived.credential_type is None
    # b's increase at its gap (period 3 not observed) is put at period 4
    frame = derived.to_frame(panel.worker_labels, panel.period_labels)
    assert frame[frame["worker_id"] == "b"]["period"].tolist() == [4]
    with pytest.raises(DataError, match="absent"):
        bc.validate(_frame(credentials=False), outcome="y")


# ---------------------------------------------------------------------------- both given


def test_both_given_and_agreeing_are_accepted() -> None:
    panel = bc.validate(_frame(), outcome="y", events=_events())
    assert panel.events is not None and panel.events.n_events == 6
    assert len(panel.events.outside) == 0
    assert panel.describe().loc["credential events", "value"] == 6


def test_disagreement_names_worker_period_and_both_counts() -> None:
    events = _events()
    events.loc[0, "period"] = 3  # a's first credential one period late
    with pytest.raises(DataError) as err:
        bc.validate(_frame(), outcome="y", events=events)
    message = str(err.value)
    assert "disagree" in message and "on 1 of 10 rows" in message
    assert "('a', 2): 'credentials' 1, events 0" in message


# ---------------------------------------------------------------------------- checks


def test_outside_events_are_kept_and_reported() -> None:
    events = pd.concat(
        [_events(), pd.DataFrame({"worker_id": ["b"], "period": [7], "credential_type": ["z"]})],
        ignore_index=True,
    )
    panel = bc.validate(_frame(), outcome="y", events=events)
    ev = panel.events
    assert ev is not None and ev.n_events == 7
    assert ev.outside.to_dict("list") == {
        "worker_id": ["b"],
        "period": [7],
        "credential_type": ["z"],
    }
    assert panel.describe().loc["credential events outside observed periods", "value"] == 1
    # before the worker's first period: outside too, and counted from its first row on
    early = pd.DataFrame({"worker_id": ["c"], "period": [1], "credential_type": ["x"]})
    events = pd.concat([_events().iloc[[0, 1, 2, 3, 5]], early], ignore_index=True)
    panel = bc.validate(_frame(), outcome="y", events=events)
    assert panel.events is not None
    assert panel.events.outside["worker_id"].tolist() == ["c"]


def test_unknown_workers_are_refused_by_name() -> None:
    events = pd.concat(
        [_events(), pd.DataFrame({"worker_id": ["zz", "zz"], "period": [1, 2]})],
        ignore_index=True,
    )
    events["credential_type"] = events["credential_type"].fillna("x")
    with pytest.raises(DataError, match=r"not in the panel: 'zz'"):
        bc.validate(_frame(), outcome="y", events=events)


def test_event_frame_rules() -> None:
    with pytest.raises(TypeError, match="events= expects a pandas DataFrame"):
        bc.validate(_frame(), outcome="y", events=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="period column is absent"):
        bc.validate(_frame(), outcome="y", events=pd.DataFrame({"worker_id": ["a"]}))
    bad = pd.DataFrame(
        {
            "worker_id": ["a", None, "a"],
            "period": [2.5, 2, 4],
            "credential_type": ["x", "x", None],
        }
    )
    with pytest.raises(DataError) as err:
        bc.validate(_frame(credentials=False), outcome="y", events=bad)
    message = str(err.value)
    assert "break 3 data rules" in message
    assert "worker id of an event is NaN" in message
    assert "whole period number" in message and "('a', 2.5)" in message
    assert "credential_type" in message and "some rows only" in message


def test_a_panel_with_events_is_refused() -> None:
    panel = bc.validate(_frame(), outcome="y")
    with pytest.raises(DataError, match="validate with events= instead"):
        bc.CredentialModel().design(panel, events=_events())


# ---------------------------------------------------------------------------- dates


def _weekly(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["period"] = pd.Timestamp("2024-01-01") + pd.to_timedelta((out["period"] - 1) * 7, "D")
    return out


def test_weekly_dates_map_to_positions() -> None:
    events = _events()
    events["period"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(
        (events["period"].astype("float") - 1) * 7, "D"
    )
    panel = bc.validate(_weekly(_frame(credentials=False)), outcome="y", events=events)
    assert panel.period_positions.tolist() == [0, 1, 2, 3]
    assert panel.credentials.tolist() == bc.validate(_frame(), outcome="y").credentials.tolist()
    assert panel.events is not None
    assert sorted(panel.events.time.tolist()) == [UNKNOWN_TIME, 1, 2, 3, 3, 3]
    back = panel.events.to_frame(panel.worker_labels, panel.period_labels)
    assert back["period"].isna().sum() == 1
    assert set(back["period"].dropna()) <= set(pd.DatetimeIndex(panel.period_labels))
    # a date off the weekly grid
    events.loc[0, "period"] = pd.Timestamp("2024-01-09")
    with pytest.raises(DataError, match="grid of periods"):
        bc.validate(_weekly(_frame(credentials=False)), outcome="y", events=events)
    # numbers for a date panel
    with pytest.raises(DataError, match="grid of periods"):
        bc.validate(_weekly(_frame(credentials=False)), outcome="y", events=_events())


def test_irregular_dates_are_refused() -> None:
    weeks = pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-18"]).to_numpy()
    with pytest.raises(DataError, match="equally spaced periods"):
        period_positions(weeks)
    frame = _weekly(_frame())
    frame.loc[frame["period"] == pd.Timestamp("2024-01-22"), "period"] = pd.Timestamp("2024-01-25")
    events = pd.DataFrame({"worker_id": ["a"], "period": [pd.Timestamp("2024-01-08")]})
    with pytest.raises(DataError, match="equally spaced periods"):
        bc.validate(frame.drop(columns="credentials"), outcome="y", events=events)


# ---------------------------------------------------------------------------- panels


def test_events_from_credentials_reproduce_the_embedded_panel() -> None:
    frame, events = platform_panel(events=True)
    assert platform_panel().equals(frame)
    panel = bc.validate(frame)
    derived = events_from_credentials(panel)
    assert derived.derived
    assert counts_at(derived, panel.worker_codes, panel.row_time).tolist() == (
        panel.credentials.tolist()
    )
    assert len(events) == derived.n_events
    # the events frame rebuilds the credentials column, and agrees with it
    rebuilt = bc.validate(frame.drop(columns="credentials"), events=events)
    assert np.array_equal(rebuilt.credentials, panel.credentials)
    checked = bc.validate(frame, events=events)
    assert checked.events is not None and checked.events.n_events == len(events)
    assert events["period"].isna().sum() == int((derived.time == UNKNOWN_TIME).sum())


def test_select_rows_remaps_and_entry_keeps_events() -> None:
    panel = bc.validate(_frame(), outcome="y", events=_events())
    keep = panel.frame["worker_id"].to_numpy() != "a"
    sub = select_rows(panel, keep, "test")
    assert sub.worker_labels.tolist() == ["b", "c"]
    ev = sub.events
    assert ev is not None and ev.n_events == 3
    assert counts_at(ev, sub.worker_codes, sub.row_time).tolist() == sub.credentials.tolist()
    assert ev.to_frame(sub.worker_labels, sub.period_labels)["worker_id"].tolist() == [
        "b",
        "c",
        "c",
    ]
    assert track_record_at_entry(panel).events is panel.events


# ---------------------------------------------------------------------------- fit files


def _unsampled_fit(design: ModelDesign) -> bc.CredentialFit:
    """A fit whose posterior is a placeholder: enough to save, load and rebuild the design."""
    posterior = xr.Dataset({"placeholder": (("chain", "draw"), np.zeros((1, 2)))})
    tree = xr.DataTree.from_dict({"posterior": posterior})
    return bc.CredentialFit(attach_design(tree, design, sampler="none", wall_time=0.0))


def test_fit_file_round_trip_keeps_the_events(tmp_path: Path) -> None:
    events = pd.concat(
        [_events(), pd.DataFrame({"worker_id": ["b"], "period": [7], "credential_type": ["z"]})],
        ignore_index=True,
    )
    design = bc.CredentialModel().design(
        _frame(credentials=False).rename(columns={"y": "log_project_value"}), events=events
    )
    panel = design.panel
    assert panel.events is not None and panel.events.n_events == 7
    path = _unsampled_fit(design).save(tmp_path / "fit.nc")
    loaded = bc.load(path).design.panel
    ev, back = panel.events, loaded.events
    assert back is not None and not back.derived
    assert np.array_equal(ev.worker, back.worker) and np.array_equal(ev.time, back.time)
    assert ev.credential_type is not None and back.credential_type is not None
    assert ev.credential_type.tolist() == back.credential_type.tolist()
    pd.testing.assert_frame_equal(ev.outside, back.outside)
    assert np.array_equal(loaded.credentials, panel.credentials)
    # a fit without events given as data stores none, and loads without them
    plain = bc.CredentialModel().design(_frame().rename(columns={"y": "log_project_value"}))
    path = _unsampled_fit(plain).save(tmp_path / "plain.nc")
    fit = bc.load(path)
    assert "event_worker" not in fit.tree["constant_data"].variables
    assert fit.design.panel.events is None


def test_platform_panel_events() -> None:
    frame, events = platform_panel(events=True)
    assert list(events.columns) == ["worker_id", "period"]
    assert events["period"].dtype == "Int64"
    held = frame.groupby("worker_id")["credentials"].max()
    per_worker = events.groupby("worker_id").size()
    assert per_worker.to_dict() == held[held > 0].to_dict()
    entry = frame.sort_values("period").groupby("worker_id")["credentials"].first()
    unknown = events[events["period"].isna()].groupby("worker_id").size()
    assert unknown.to_dict() == entry[entry > 0].to_dict()
