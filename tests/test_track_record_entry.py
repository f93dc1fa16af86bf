"""The track record at entry: each row takes its worker's track record in the first period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayescred as bc
from bayescred.data.simulate import simulate
from bayescred.model.make import make_design


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    f = simulate("paper", seed=3, n_workers=80, n_periods=6).frame
    return f.sample(frac=1.0, random_state=1).reset_index(drop=True)  # rows in no order


def _entry_spec() -> bc.ModelSpec:
    return bc.ModelSpec.from_dict({"track_record": {"measured": "entry"}})


def test_each_row_has_its_workers_first_track_record(frame: pd.DataFrame) -> None:
    """Brute force by a loop over workers; periods without projects (log project value
    missing, so set aside) still count as the worker's entry."""
    design = make_design(_entry_spec(), frame)
    p = design.panel
    expected = {}
    for worker, rows in frame.groupby("worker_id"):
        expected[worker] = float(rows.loc[rows["period"].idxmin(), "track_record"])
    workers = p.frame["worker_id"].to_numpy()
    np.testing.assert_array_equal(p.track_record, [expected[w] for w in workers])
    np.testing.assert_array_equal(p.frame["track_record"].to_numpy(), p.track_record)
    # some worker's first period had no projects, so it is not among the rows used
    first = frame.loc[frame.groupby("worker_id")["period"].idxmin()]
    assert first["log_project_value"].isna().any()
    # the track-record scale is fitted to the values used
    assert design.track_scale.reference == pytest.approx(np.median(p.track_record))


def test_current_is_the_default_and_entry_is_idempotent(frame: pd.DataFrame) -> None:
    assert bc.ModelSpec().track_record.measured == "current"
    current = make_design(bc.ModelSpec(), frame).panel
    np.testing.assert_array_equal(
        current.track_record, current.frame["track_record"].to_numpy(dtype=float)
    )
    entry = make_design(_entry_spec(), frame).panel
    assert not np.array_equal(current.track_record, entry.track_record)
    again = make_design(_entry_spec(), entry).panel  # a panel already at entry: unchanged
    np.testing.assert_array_equal(again.track_record, entry.track_record)


def test_an_unknown_measure_is_refused() -> None:
    with pytest.raises(bc.SpecError, match="measured"):
        bc.ModelSpec.from_dict({"track_record": {"measured": "lagged"}})
