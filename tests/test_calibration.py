"""Calibration studies: SBC end to end on a Dask cluster of 2 processes, resume, a
mis-specified study flagged, the results file refused to another study, the display in a
browser, and the repeated-sampling truth against the simulator's own per-row truth."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from browser import screenshot

import bayescred as bc
from bayescred.calibration.sbc import distinct_elements, fixed_prior_spec
from bayescred.calibration.store import StudyFileError
from bayescred.calibration.study import quantities, truth_posterior, truth_spec
from bayescred.data.simulate import simulate
from bayescred.model.make import make_design
from bayescred.spec import PriorSpec

FIT = {"draws": 100, "tune": 100, "chains": 2}


@pytest.fixture(scope="module")
def skeleton() -> pd.DataFrame:
    return simulate("paper", seed=1, n_workers=30, n_periods=5).frame


@pytest.fixture(scope="module")
def spec() -> bc.ModelSpec:
    return bc.ModelSpec(period_effects=False)


@pytest.fixture(scope="module")
def resumed(
    client: object,
    skeleton: pd.DataFrame,
    spec: bc.ModelSpec,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[bc.CalibrationResult, bc.CalibrationResult]:
    out = tmp_path_factory.mktemp("sbc") / "sbc.nc"
    kw = dict(client=client, out=out, progressbar=False, seed=5, **FIT)
    first = bc.calibrate(spec, skeleton, n_sims=3, **kw)
    second = bc.calibrate(spec, skeleton, n_sims=6, **kw)
    return first, second


def test_sbc_end_to_end_and_resume(resumed: tuple[object, object]) -> None:
    first, second = resumed
    assert list(first.simulations["index"]) == [0, 1, 2]
    assert list(second.simulations["index"]) == list(range(6))
    assert (second.simulations["status"] == "ok").all()
    # the first three records are read back, not refitted: same ranks, same worker process
    old = first.simulations.set_index("index")
    new = second.simulations.set_index("index").loc[old.index]
    pd.testing.assert_frame_equal(old, new, check_dtype=False)
    pd.testing.assert_frame_equal(
        first.table,
        second.table[second.table["simulation"] < 3].reset_index(drop=True),
        check_dtype=False,
    )
    # compile once per worker: every simulation of one shape reused the worker's model
    assert second.simulations.groupby("worker_pid")["compilations"].max().max() == 1
    table = second.table
    assert {"simulation", "parameter", "truth", "rank", "L", "pit"} <= set(table.columns)
    assert {"mu_beta", "sigma", "beta_group[A]", "gamma[z]"} <= set(table["parameter"])
    # gamma is completely pooled: its group values are copies of gamma, ranked once as gamma
    assert not table["parameter"].str.startswith("gamma_group").any()
    assert ((table["rank"] >= 0) & (table["rank"] <= table["L"])).all()
    assert ((table["pit"] > 0) & (table["pit"] < 1)).all()
    tests = second.tests
    assert set(tests["parameter"]) == set(table["parameter"])
    assert np.allclose(tests["p_adjusted"], np.minimum(1, tests["p_value"] * len(tests)))
    fig, axes = plt.subplots(1, 2)
    assert second.plot(["mu_beta", "sigma"], ax=axes) is fig
    assert "prior_sbc" in second.to_datatree().children
    plt.close("all")


def test_exact_copies_are_ranked_once() -> None:
    draws = np.arange(6.0)
    truth = {"gamma[z]": 1.0, "gamma_group[A,z]": 1.0, "beta": 1.0, "other": 2.0}
    values = {
        "gamma[z]": draws,
        "gamma_group[A,z]": draws.copy(),
        "beta": draws + 1,
        "other": draws,
    }
    assert distinct_elements(truth, values) == ["gamma[z]", "beta", "other"]


def test_misspecified_study_is_flagged(
    client: object, skeleton: pd.DataFrame, spec: bc.ModelSpec, tmp_path: Path
) -> None:
    """Truths of sigma drawn from a prior 10 times wider than the model's: the model's prior
    pulls every posterior of sigma below the truth, and the uniformity test says so."""
    s = fixed_prior_spec(spec, skeleton).priors["sigma"].sigma
    assert s is not None
    result = bc.calibrate(
        spec, skeleton, n_sims=10, client=client, out=tmp_path / "bad.nc", progressbar=False,
        simulation_priors={"sigma": PriorSpec(dist="half_normal", sigma=10 * s)}, **FIT,
    )  # fmt: skip
    assert not result.calibrated
    tests = result.tests.set_index("parameter")
    assert not tests.loc["sigma", "uniform"]
    assert "NOT calibrated" in result.verdict and "sigma" in result.verdict


def test_another_study_on_the_same_file_is_refused(
    resumed: tuple[bc.CalibrationResult, bc.CalibrationResult],
    skeleton: pd.DataFrame,
    spec: bc.ModelSpec,
) -> None:
    path = resumed[1].path
    assert path is not None
    with pytest.raises(StudyFileError, match="different study"):
        bc.calibrate(spec, skeleton, n_sims=6, out=path, seed=6, progressbar=False, **FIT)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_display_says_the_same_and_renders(
    resumed: tuple[bc.CalibrationResult, bc.CalibrationResult], tmp_path: Path
) -> None:
    result = resumed[1]
    markup = result._repr_html_()
    parser = _Text()
    parser.feed(markup)
    shown = " ".join(parser.text)
    text = repr(result)
    for view in (shown, text):
        assert result.verdict in view
        for r in result.tests.itertuples():
            assert r.parameter in view and f"{r.p_adjusted:.3g}" in view
    page = tmp_path / "sbc.html"
    page.write_text(f"<html><body>{markup}</body></html>")
    image = screenshot(
        page, tmp_path / "shot.png", tmp_path / "profile", window=(900, 1400), timeout=120
    )
    assert image.shape[0] > 100 and image.std() > 0.01  # something was drawn


def test_study_truth_agrees_with_the_simulators_own() -> None:
    """The truth of the repeated-sampling quantities, computed by the analysis functions on the
    true parameters rewritten on the fit's track-record scale, equals the simulator's per-row
    true effects averaged over the rows used (and its peak in closed form)."""
    sim = simulate("paper", seed=4, n_workers=200, n_periods=8)
    spec = bc.ModelSpec(track_record={"reference": 5.0})  # another reference than the simulator's
    design = make_design(spec, sim.frame)
    used = design.panel.frame[["worker_id", "period"]].astype(str)
    frame = sim.frame.assign(effect=sim.next_effect.to_numpy())
    frame[["worker_id", "period"]] = frame[["worker_id", "period"]].astype(str)
    rows = used.merge(frame, on=["worker_id", "period"], how="left")
    assert design.track_scale.reference != sim.truth.track_record_reference  # a real rewrite
    assert design.track_scale.scale != sim.truth.track_record_scale
    truths = quantities(
        truth_posterior(sim.truth, design), truth_spec(spec, sim.truth), design, 0.01
    )
    assert truths["average_effect"]["estimate"] == pytest.approx(rows["effect"].mean(), rel=1e-10)
    for g, sub in rows.groupby("group"):
        assert truths[f"average_effect[{g}]"]["estimate"] == pytest.approx(
            sub["effect"].mean(), rel=1e-10
        )
    g1, g2 = sim.truth.gamma
    peak = float(sim.truth.scale.track_record(-g1 / (2 * g2)))
    assert truths["peak_track_record[population]"]["estimate"] == pytest.approx(peak, rel=1e-8)


def test_repeated_sampling_end_to_end(client: object, tmp_path: Path) -> None:
    result = bc.repeated_sampling(
        bc.ModelSpec(period_effects=False), "paper", n_panels=2, n_workers=40, n_periods=5,
        client=client, out=tmp_path / "study.nc", progressbar=False, **FIT,
    )  # fmt: skip
    assert (result.simulations["status"] == "ok").all()
    table = result.table.set_index("quantity")
    assert {"average_effect", "average_effect[D]", "saturation_point[population]"} <= set(
        table.index
    )
    rec = result.records[result.records["name"] == "average_effect"]
    err = rec["estimate"] - rec["truth"]
    assert table.loc["average_effect", "bias"] == pytest.approx(err.mean())
    assert table.loc["average_effect", "rmse"] == pytest.approx(np.sqrt((err**2).mean()))
    inside = (rec["low"] <= rec["truth"]) & (rec["truth"] <= rec["high"])
    assert table.loc["average_effect", "coverage"] == pytest.approx(inside.mean())
    assert "average_effect" in repr(result) and "average_effect" in result._repr_html_()


@pytest.mark.slow
def test_sbc_of_the_default_spec_is_calibrated() -> None:
    """SBC of the default spec, 200 simulations on a small skeleton: every population
    parameter's ranks pass the Bonferroni-corrected uniformity test."""
    skeleton = simulate("paper", seed=11, n_workers=60, n_periods=6).frame
    result = bc.calibrate(
        "default", skeleton, n_sims=200, draws=300, tune=300, chains=2, progressbar=False
    )
    tests = result.tests
    population = tests[~tests["parameter"].str.contains("_group")]
    print(result)  # the figures for the record (pytest -s)
    assert population["uniform"].all(), result.verdict


def test_a_study_without_out_keeps_nothing() -> None:
    """Without ``out`` the results go to a temporary file removed afterwards: a later study
    with the same settings runs again rather than reading old (maybe stale) results."""
    from bayescred.calibration.api import _study_path

    with _study_path(None, "sbc") as first, _study_path(None, "sbc") as second:
        assert first != second
        first.write_bytes(b"x")
        assert first.exists()
    assert not first.exists() and not first.parent.exists()
    with _study_path("given.nc", "sbc") as path:
        assert path.name == "given.nc"
