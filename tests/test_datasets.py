"""Tests of the embedded default panel."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from bayescred import datasets
from bayescred.data.simulate import SimulationSettings, TrueParameters, paper_preset
from bayescred.maths.curves import TrackRecordScale

COLUMNS = [
    "worker_id",
    "period",
    "group",
    "credentials",
    "track_record",
    "any_project",
    "n_projects",
    "log_project_value",
    "earnings",
    "log_earnings",
    "x1",
    "x2",
]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return datasets.platform_panel()


def test_same_frame_on_every_call(panel: pd.DataFrame) -> None:
    again = datasets.platform_panel()
    pd.testing.assert_frame_equal(panel, again, check_exact=True)
    again.loc[0, "credentials"] = 999  # a fresh copy: changing it leaves the next call intact
    assert datasets.platform_panel().loc[0, "credentials"] != 999


def test_shape_columns_and_dtypes(panel: pd.DataFrame) -> None:
    assert list(panel.columns) == COLUMNS
    assert panel["worker_id"].nunique() == 3000
    assert set(panel["period"].unique()) == set(range(1, 27))
    assert 40_000 < len(panel) < 3000 * 26
    assert list(panel["worker_id"].iloc[[0, -1]]) == ["w00001", "w03000"]
    assert set(panel["group"].unique()) == {"A", "B", "C", "D"}
    for col in ("period", "credentials", "track_record", "any_project", "n_projects"):
        assert panel[col].dtype == np.int64, col
    for col in ("log_project_value", "earnings", "x1", "x2"):
        assert panel[col].dtype == np.float64, col
    assert pd.api.types.is_string_dtype(panel["worker_id"])
    assert pd.api.types.is_string_dtype(panel["group"])


def test_regenerating_matches_the_shipped_file(panel: pd.DataFrame) -> None:
    fresh = datasets.platform_panel_simulation().frame
    pd.testing.assert_frame_equal(panel, fresh, check_exact=False, rtol=1e-8, atol=1e-8)


def test_settings_and_seed_are_the_paper_preset() -> None:
    settings = datasets.platform_panel_settings()
    assert isinstance(settings, SimulationSettings)
    assert settings == paper_preset(n_workers=3000, n_periods=26)
    assert isinstance(datasets.PLATFORM_PANEL_SEED, int)


def test_contract_properties(panel: pd.DataFrame) -> None:
    assert not panel.duplicated(["worker_id", "period"]).any()
    steps = panel.groupby("worker_id")["credentials"].diff().dropna()
    assert (steps >= 0).all() and (panel["credentials"] >= 0).all()
    assert (panel["track_record"] >= 0).all()
    no_project = panel["n_projects"] == 0
    assert (panel["log_project_value"].isna() == no_project).all()
    assert (panel["any_project"] == (~no_project).astype(int)).all()
    assert (panel.loc[no_project, "earnings"] == 0).all()
    with_project = panel[~no_project]
    np.testing.assert_allclose(
        with_project["earnings"],
        with_project["n_projects"] * np.exp(with_project["log_project_value"]),
        rtol=1e-8,
    )
    for col in ("x1", "x2", "earnings"):
        assert np.isfinite(panel[col]).all()


def test_truth_belongs_to_the_panel(panel: pd.DataFrame) -> None:
    truth = datasets.platform_panel_truth()
    assert isinstance(truth, TrueParameters)
    assert list(truth.alpha.index) == sorted(panel["worker_id"].unique())
    scale = TrackRecordScale.from_data(panel["track_record"])
    assert truth.track_record_reference == scale.reference
    assert truth.track_record_scale == pytest.approx(scale.scale, rel=1e-12)
    groups = panel.groupby("worker_id")["group"].first()
    assert (truth.worker_group.loc[groups.index] == groups).all()


def test_file_is_small_and_documented() -> None:
    source = resources.files("bayescred.datasets").joinpath(datasets.PLATFORM_PANEL_FILE)
    assert len(source.read_bytes()) < 3_000_000
    doc = datasets.platform_panel.__doc__ or ""
    assert "SIMULATED" in doc and str(datasets.PLATFORM_PANEL_SEED) in doc
    for col in COLUMNS:
        assert f"``{col}``" in doc, col


def test_the_shipped_panel_has_null_credential_types() -> None:
    """Its types come from the same seed and leave every shipped column as it is; the truth
    says every type pays the same, and the typed panel validates with its events."""
    import bayescred as bc
    from bayescred import datasets

    typed = datasets.platform_panel_types()
    shipped = datasets.platform_panel()
    pd.testing.assert_frame_equal(typed.frame.drop(columns="job_category"), shipped)
    assert typed.frame.groupby("worker_id")["job_category"].nunique().max() == 1
    truth = datasets.platform_panel_truth().type_effects()
    assert len(truth) == 200 and truth["effect"].nunique() == 1
    assert truth["holders"].max() > 300 and (truth["holders"] < 10).sum() >= 30
    panel = bc.validate(
        typed.frame,
        outcome="log_project_value",
        events=typed.events,
        credential_types=typed.credential_types,
        missing_outcome="exclude",
    )
    assert panel.credential_types is not None and panel.credential_types.n_types == 200
