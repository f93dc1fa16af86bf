"""Tests of the panel simulator and the calibration of the ``paper`` preset."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayescred.data.presets import PAPER_DISCRIMINATED_GROUP
from bayescred.data.simulate import (
    GroupTruth,
    SimulatedPanel,
    SimulationSettings,
    TrueParameters,
    paper_preset,
    simulate,
)
from bayescred.maths.curves import TrackRecordScale, credential_curve

BASE_COLUMNS = [
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
]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def small(**changes: Any) -> SimulationSettings:
    """A small paper-style panel for the switch tests."""
    return dataclasses.replace(paper_preset(n_workers=600, n_periods=12), **changes)


def credentials_gained(frame: pd.DataFrame) -> pd.Series:
    by_worker = frame.groupby("worker_id", sort=True)["credentials"]
    return by_worker.last() - by_worker.first()


def value_residual(sim: SimulatedPanel, effect: np.ndarray) -> pd.Series:
    """log_project_value minus every systematic term but ``effect`` (which is subtracted)."""
    f, truth = sim.frame, sim.truth
    xcols = list(truth.delta.index)
    systematic = (
        truth.intercept
        + truth.alpha.loc[f["worker_id"]].to_numpy()
        + truth.tau.loc[f["period"]].to_numpy()
        + f[xcols].to_numpy() @ truth.delta.to_numpy()
    )
    return f["log_project_value"] - systematic - effect


def brute_force_effect(sim: SimulatedPanel, held: np.ndarray) -> np.ndarray:
    """``beta_g S(held) M(z)`` from credential_curve and the modifier written out by hand."""
    f, truth = sim.frame, sim.truth
    k = np.array([truth.groups.index(g) for g in f["group"]])
    r = f["track_record"].to_numpy(dtype=float)
    z = (np.log(1.0 + r) - np.log(1.0 + truth.track_record_reference)) / truth.track_record_scale
    if truth.modifier == "log_quadratic":
        m = np.exp(truth.gamma1[k] * z + truth.gamma2[k] * z * z)
    elif truth.modifier == "log_linear":
        m = np.exp(truth.gamma1[k] * z)
    else:
        m = np.ones_like(z)
    s = credential_curve(np, truth.curve, held.astype(float), truth.shape[k])
    return truth.beta[k] * s * m


def within(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Deviations from worker means."""
    return frame[columns] - frame.groupby("worker_id")[columns].transform("mean")


def poisson_fe_slope(frame: pd.DataFrame, regressor: str, iterations: int = 25) -> float:
    """Conditional (worker fixed-effects) Poisson MLE of ``n_projects`` on ``regressor`` and
    period dummies, by Newton's method on the concentrated likelihood."""
    codes, _ = pd.factorize(frame["worker_id"])
    periods = frame["period"].to_numpy()
    dummies = (periods[:, None] == np.unique(periods)[None, 1:]).astype(float)
    x = np.column_stack([frame[regressor].to_numpy(dtype=float), dummies])
    y = frame["n_projects"].to_numpy(dtype=float)
    total = np.bincount(codes, weights=y)
    b = np.zeros(x.shape[1])
    for _ in range(iterations):
        eta = x @ b
        w = np.exp(eta - np.max(eta))
        p = w / np.bincount(codes, weights=w)[codes]
        grad = x.T @ (y - total[codes] * p)
        px = np.column_stack([np.bincount(codes, weights=p * x[:, j]) for j in range(x.shape[1])])
        hess = (x * (total[codes] * p)[:, None]).T @ x - (px * total[:, None]).T @ px
        b = b + np.linalg.solve(hess, grad)
    return float(b[0])


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paper() -> SimulatedPanel:
    """A large draw of the paper preset (4000 workers, 26 periods)."""
    return simulate(paper_preset(n_workers=4000, n_periods=26), seed=1)


@pytest.fixture(scope="module")
def observed(paper: SimulatedPanel) -> pd.Series:
    return paper.frame["log_project_value"].notna()


# --------------------------------------------------------------------------------------------
# API and reproducibility
# --------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_panel() -> None:
    a = simulate(small(), seed=7)
    b = simulate(small(), seed=7)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_series_equal(a.next_effect, b.next_effect)
    pd.testing.assert_series_equal(a.truth.alpha, b.truth.alpha)
    xr.testing.assert_identical(a.truth.to_dataset(), b.truth.to_dataset())


def test_different_seed_gives_different_panel() -> None:
    a = simulate(small(), seed=7).frame
    b = simulate(small(), seed=8).frame
    assert not a.equals(b)
    common = min(len(a), len(b))
    assert not np.allclose(a["x1"].to_numpy()[:common], b["x1"].to_numpy()[:common])


def test_preset_name_is_a_shortcut() -> None:
    by_name = simulate("paper", seed=3, n_workers=200, n_periods=8)
    by_settings = simulate(paper_preset(n_workers=200, n_periods=8), seed=3)
    pd.testing.assert_frame_equal(by_name.frame, by_settings.frame)
    assert by_name.settings == by_settings.settings
    assert by_name.frame["worker_id"].nunique() == 200


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(ValueError, match=r"unknown simulation preset 'nope'.*paper"):
        simulate("nope", seed=1)


def test_keyword_changes_apply_to_settings() -> None:
    sim = simulate(small(), seed=1, n_workers=50, curve="linear")
    assert sim.settings.curve == "linear"
    assert sim.frame["worker_id"].nunique() == 50


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"curve": "cubic"}, "curve"),
        ({"modifier": "exp"}, "modifier"),
        ({"worker_effects": "fixed"}, "worker_effects"),
        ({"n_workers": 0}, "n_workers"),
        ({"sigma": 0.0}, "sigma"),
        ({"credential_rate": 1.5}, "credential_rate"),
        ({"groups": (GroupTruth("A", 0.5, 0.1, 0.3), GroupTruth("B", 0.4, 0.1, 0.3))}, "sum"),
        ({"groups": (GroupTruth("A", 0.5, 0.1, 0.3), GroupTruth("A", 0.5, 0.1, 0.3))}, "unique"),
        ({"groups": (GroupTruth("A", 1.0, 0.1, 0.0),)}, "lambda"),
    ],
)
def test_invalid_settings_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        small(**change)


def test_frame_columns_and_dtypes() -> None:
    sim = simulate(small(delta=(0.1, 0.2, 0.3)), seed=2)
    f = sim.frame
    assert list(f.columns) == [*BASE_COLUMNS, "x1", "x2", "x3"]
    for col in ("period", "credentials", "track_record", "any_project", "n_projects"):
        assert f[col].dtype == np.int64, col
    for col in ("log_project_value", "earnings", "log_earnings", "x1", "x2", "x3"):
        assert f[col].dtype == np.float64, col
    assert pd.api.types.is_string_dtype(f["worker_id"])
    assert pd.api.types.is_string_dtype(f["group"])
    assert f["worker_id"].iloc[0] == "w00001"
    assert sim.next_effect.index.equals(f.index)
    no_x = simulate(small(delta=()), seed=2).frame
    assert list(no_x.columns) == BASE_COLUMNS


def test_truth_to_dataset_has_named_dims() -> None:
    sim = simulate(small(), seed=4)
    ds = sim.truth.to_dataset()
    assert isinstance(sim.truth, TrueParameters)
    assert dict(ds.sizes) == {
        "group": 4,
        "worker": 600,
        "period": 12,
        "covariate": 2,
        "gamma_term": 2,
    }
    assert list(ds["gamma_term"].values) == ["z", "z_squared"]
    np.testing.assert_allclose(ds["beta"].values, sim.truth.beta)
    np.testing.assert_allclose(ds["lambda"].values, sim.truth.shape)
    np.testing.assert_allclose(ds["gamma"].sel(gamma_term="z").values, sim.truth.gamma1)
    np.testing.assert_allclose(ds["mu_loglam"].values, np.log(sim.truth.lambda_ or np.nan))
    np.testing.assert_allclose(ds["alpha"].sel(worker="w00003").values, sim.truth.alpha["w00003"])
    assert ds.attrs["curve"] == "geometric"
    none_ds = simulate(small(modifier="none", curve="linear"), seed=4).truth.to_dataset()
    assert none_ds.sizes["gamma_term"] == 0
    assert "lambda" not in none_ds and "mu_loglam" not in none_ds


# --------------------------------------------------------------------------------------------
# structure of the panel
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def structure() -> SimulatedPanel:
    return simulate(paper_preset(n_workers=1500, n_periods=20), seed=11)


def test_credentials_are_cumulative(structure: SimulatedPanel) -> None:
    f = structure.frame
    step = f.groupby("worker_id")["credentials"].diff().dropna()
    assert (step >= 0).all()
    assert set(step.unique()) <= {0, 1, 2}
    assert (step > 0).mean() > 0.02
    first = f.groupby("worker_id")["credentials"].first()
    assert 0.6 < (first == 0).mean() < 0.95
    assert first.max() >= 3


def test_projects_outcomes_are_consistent(structure: SimulatedPanel) -> None:
    f = structure.frame
    no_project = f["n_projects"] == 0
    assert (f["log_project_value"].isna() == no_project).all()
    assert (f["any_project"] == (~no_project).astype(int)).all()
    assert (f.loc[no_project, "earnings"] == 0).all()
    with_project = f[~no_project]
    np.testing.assert_allclose(
        with_project["earnings"],
        with_project["n_projects"] * np.exp(with_project["log_project_value"]),
        rtol=1e-12,
    )
    assert np.isfinite(with_project["log_project_value"]).all()
    assert (f["log_earnings"].isna() == no_project).all()
    np.testing.assert_allclose(
        with_project["log_earnings"], np.log(with_project["earnings"]), rtol=1e-12, atol=1e-12
    )


def test_track_record_accumulates_projects(structure: SimulatedPanel) -> None:
    f = structure.frame
    grown = f.groupby("worker_id")["track_record"].diff()
    earlier = f.groupby("worker_id")["n_projects"].shift()
    keep = grown.notna()
    assert (grown[keep] == earlier[keep]).all()
    entry = f.groupby("worker_id")["track_record"].first()
    assert 0.08 < (entry == 0).mean() < 0.25
    assert entry.max() >= 300


def test_panel_is_unbalanced_with_single_period_workers(structure: SimulatedPanel) -> None:
    f = structure.frame
    assert not f.duplicated(["worker_id", "period"]).any()
    assert (f.groupby("worker_id")["period"].diff().dropna() == 1).all()  # contiguous, sorted
    lengths = f.groupby("worker_id").size()
    assert 0.01 < (lengths == 1).mean() < 0.1
    assert lengths.median() >= 10
    assert f.groupby("worker_id")["period"].first().nunique() > 10
    assert f["period"].between(1, 20).all()


def test_track_record_scale_comes_from_the_data(structure: SimulatedPanel) -> None:
    expected = TrackRecordScale.from_data(structure.frame["track_record"])
    assert structure.truth.track_record_reference == expected.reference
    assert structure.truth.track_record_scale == expected.scale
    assert structure.truth.scale == expected


def test_single_period_and_single_worker_panels() -> None:
    one_period = simulate(small(n_periods=1), seed=1).frame
    assert (one_period["period"] == 1).all()
    assert one_period["worker_id"].is_unique
    one_worker = simulate(small(n_workers=1), seed=1).frame
    assert one_worker["worker_id"].nunique() == 1


# --------------------------------------------------------------------------------------------
# switches
# --------------------------------------------------------------------------------------------

CURVE_SHAPES = {"geometric": 0.3, "linear": 0.0, "quadratic": -0.4, "step": 0.0}


@pytest.mark.parametrize("curve", list(CURVE_SHAPES))
@pytest.mark.parametrize("modifier", ["log_quadratic", "log_linear", "none"])
def test_next_effect_matches_brute_force(curve: str, modifier: str) -> None:
    groups = tuple(
        dataclasses.replace(g, shape=CURVE_SHAPES[curve], gamma1=-0.3 - 0.1 * k)
        for k, g in enumerate(paper_preset().groups)
    )
    sim = simulate(small(curve=curve, modifier=modifier, groups=groups), seed=5)
    n = sim.frame["credentials"].to_numpy()
    expected = brute_force_effect(sim, n + 1) - brute_force_effect(sim, n)
    np.testing.assert_allclose(sim.next_effect, expected, rtol=1e-10, atol=1e-14)
    truth_fn = sim.truth.next_effect(sim.frame["group"], n, sim.frame["track_record"])
    np.testing.assert_allclose(truth_fn, expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("curve", ["geometric", "quadratic", "step"])
def test_log_project_value_uses_the_curve(curve: str) -> None:
    groups = tuple(
        dataclasses.replace(g, shape=CURVE_SHAPES[curve], beta=1.0) for g in paper_preset().groups
    )
    sim = simulate(small(n_workers=2000, curve=curve, groups=groups, sigma=0.5), seed=6)
    effect = brute_force_effect(sim, sim.frame["credentials"].to_numpy())
    resid = value_residual(sim, effect).dropna()
    assert abs(resid.std() - 0.5) < 0.02
    assert abs(resid.mean()) < 0.02
    # a wrong curve leaves part of the effect in the residual
    assert abs(np.corrcoef(resid, effect[resid.index])[0, 1]) < 0.03


def test_modifier_none_effect_ignores_track_record() -> None:
    flat = simulate(small(modifier="none"), seed=3)
    f = flat.frame.assign(effect=flat.next_effect)
    spread = f.groupby(["group", "credentials"])["effect"].agg(lambda s: s.max() - s.min())
    assert (spread < 1e-12).all()
    curved = simulate(small(), seed=3)
    g = curved.frame.assign(effect=curved.next_effect)
    assert (
        g.groupby(["group", "credentials"])["effect"].agg(lambda s: s.max() - s.min()).max() > 0.01
    )


def test_log_linear_modifier_is_monotone_in_track_record() -> None:
    sim = simulate(small(modifier="log_linear"), seed=3)
    r = np.linspace(0, 500, 200)
    m = sim.truth.modifier_value(["A"] * r.size, r)
    assert np.all(np.diff(m) < 0)  # gamma1 < 0 in the paper preset
    np.testing.assert_allclose(m, np.exp(sim.truth.gamma1[0] * sim.truth.scale.z(r)))


def test_worker_effects_switch() -> None:
    none = simulate(small(worker_effects="none"), seed=2)
    assert (none.truth.alpha == 0).all()
    random = simulate(small(worker_effects="random", sigma_alpha=0.8), seed=2)
    assert abs(random.truth.alpha.std() - 0.8) < 0.08
    # everything not driven by alpha is drawn from the same streams
    pd.testing.assert_series_equal(none.frame["credentials"], random.frame["credentials"])


def test_period_effects_switch() -> None:
    off = simulate(small(period_effects=False), seed=2)
    assert (off.truth.tau == 0).all() and (off.truth.tau_count == 0).all()
    on = simulate(small(period_effects=True, sigma_tau=0.2), seed=2)
    assert on.truth.tau.abs().max() > 0.05
    assert abs(on.truth.tau.sum()) < 1e-12 and abs(on.truth.tau_count.sum()) < 1e-12
    assert list(on.truth.tau.index) == list(range(1, 13))


def test_covariates_enter_with_their_coefficients() -> None:
    delta = (0.5, -0.3, 0.2)
    sim = simulate(small(n_workers=1500, delta=delta), seed=9)
    f = sim.frame
    x = f[["x1", "x2", "x3"]].to_numpy()
    assert np.all(np.abs(x.mean(axis=0)) < 0.03) and np.all(np.abs(x.std(axis=0) - 1) < 0.03)
    effect = brute_force_effect(sim, f["credentials"].to_numpy())
    y = value_residual(sim, effect) + x @ np.array(delta)
    keep = y.notna().to_numpy()
    estimate = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
    np.testing.assert_allclose(estimate, delta, atol=0.03)
    assert list(sim.truth.delta.index) == ["x1", "x2", "x3"]


def test_no_selection_means_no_correlation() -> None:
    sim = simulate(small(n_workers=4000, selection=0.0), seed=12)
    gained = credentials_gained(sim.frame)
    assert abs(np.corrcoef(sim.truth.alpha.loc[gained.index], gained)[0, 1]) < 0.05
    strong = simulate(small(n_workers=4000, selection=1.0), seed=12)
    gained = credentials_gained(strong.frame)
    assert np.corrcoef(strong.truth.alpha.loc[gained.index], gained)[0, 1] < -0.15


def test_student_t_noise_has_heavier_tails() -> None:
    def kurtosis(sim: SimulatedPanel) -> float:
        effect = brute_force_effect(sim, sim.frame["credentials"].to_numpy())
        resid = value_residual(sim, effect).dropna().to_numpy()
        return float(np.mean((resid - resid.mean()) ** 4) / resid.var() ** 2)

    assert abs(kurtosis(simulate(small(n_workers=2000), seed=1)) - 3) < 0.3
    assert kurtosis(simulate(small(n_workers=2000, noise_df=4.0), seed=1)) > 4.5


def test_count_model_switch() -> None:
    flat = {"count_worker_sd": 0.0, "period_effects": False, "beta_count": 0.0}
    pois = simulate(small(n_workers=2000, count_model="poisson", **flat), seed=1).frame
    negb = simulate(small(n_workers=2000, count_model="negative_binomial", **flat), seed=1).frame
    assert abs(pois["n_projects"].var() / pois["n_projects"].mean() - 1) < 0.1
    assert negb["n_projects"].var() / negb["n_projects"].mean() > 1.5


def test_beta_count_moves_the_number_of_projects() -> None:
    sim = simulate(small(n_workers=2000, beta_count=0.3, curve="linear"), seed=1)
    assert abs(poisson_fe_slope(sim.frame, "credentials") - 0.3) < 0.05


# --------------------------------------------------------------------------------------------
# the paper preset
# --------------------------------------------------------------------------------------------


def test_paper_preset_parameters() -> None:
    s = paper_preset()
    assert (s.n_workers, s.n_periods, s.curve, s.modifier) == (
        3000,
        26,
        "geometric",
        "log_quadratic",
    )
    betas = {g.name: g.beta for g in s.groups}
    assert len(betas) == 4
    others = [b for name, b in betas.items() if name != PAPER_DISCRIMINATED_GROUP]
    assert 1.6 <= betas[PAPER_DISCRIMINATED_GROUP] / max(others) <= 2.0
    assert len({g.shape for g in s.groups}) == 1
    assert len({(g.gamma1, g.gamma2) for g in s.groups}) == 1
    assert s.groups[0].gamma2 < 0
    assert 0.5 <= s.sigma <= 0.8 and 0.5 <= s.sigma_alpha <= 1.0
    assert s.selection > 0


def test_paper_truth_population_values(paper: SimulatedPanel) -> None:
    t = paper.truth
    assert t.mu_beta == pytest.approx(np.mean(t.beta))
    assert t.lambda_ == pytest.approx(float(np.exp(np.mean(np.log(t.shape)))))
    assert t.gamma == pytest.approx((np.mean(t.gamma1), np.mean(t.gamma2)))


def test_paper_average_effect(paper: SimulatedPanel, observed: pd.Series) -> None:
    assert 0.07 <= paper.next_effect[observed].mean() <= 0.11


def test_paper_saturation_about_eleven(paper: SimulatedPanel) -> None:
    t = paper.truth
    n = np.arange(0, 41)

    def at_reference(k: int) -> np.ndarray:
        return np.mean([t.next_effect(g, k, t.track_record_reference) for g in t.groups], axis=0)

    assert all(at_reference(int(k)) < 0.01 for k in n[n >= 11])
    assert at_reference(9) > 0.01
    # diminishing returns: each credential adds less than the one before
    effects = np.array([at_reference(int(k)) for k in n])
    assert np.all(np.diff(effects) < 0)


def test_paper_effect_peaks_at_a_short_track_record(paper: SimulatedPanel) -> None:
    t = paper.truth
    r = paper.frame["track_record"].to_numpy()
    p10, p90, p99 = np.percentile(r, [10, 90, 99])
    grid = np.linspace(0, r.max(), 20001)
    m = np.mean([t.modifier_value(g, grid) for g in t.groups], axis=0)
    peak = grid[np.argmax(m)]
    assert p10 < peak < p90
    assert peak < t.track_record_reference  # short but non-empty
    m_zero, m_p99 = np.mean([t.modifier_value(g, [0.0, p99]) for g in t.groups], axis=0)
    assert m_zero < 0.3 * m.max() and m_p99 < 0.3 * m.max()


def test_paper_group_with_discrimination_gains_more(
    paper: SimulatedPanel, observed: pd.Series
) -> None:
    by_group = paper.next_effect[observed].groupby(paper.frame.loc[observed, "group"]).mean()
    assert by_group.idxmax() == PAPER_DISCRIMINATED_GROUP
    assert by_group.max() > 1.4 * by_group.drop(PAPER_DISCRIMINATED_GROUP).max()


def test_paper_count_effect_is_negligible(paper: SimulatedPanel) -> None:
    t, f = paper.truth, paper.frame
    k = np.array([t.groups.index(g) for g in f["group"]])
    gain = credential_curve(np, t.curve, f["credentials"] + 1.0, t.shape[k]) - credential_curve(
        np, t.curve, f["credentials"] * 1.0, t.shape[k]
    )
    assert abs(np.mean(t.beta_count * gain)) < 0.01
    assert abs(poisson_fe_slope(f, "credentials")) < 0.02


def test_paper_share_of_periods_without_projects(paper: SimulatedPanel) -> None:
    assert 0.2 <= (paper.frame["n_projects"] == 0).mean() <= 0.4


def test_paper_negative_selection(paper: SimulatedPanel, observed: pd.Series) -> None:
    gained = credentials_gained(paper.frame)
    corr = np.corrcoef(paper.truth.alpha.loc[gained.index], gained)[0, 1]
    assert corr < -0.15
    d = paper.frame[observed]
    x = np.column_stack([np.ones(len(d)), d["credentials"]])
    pooled_slope = np.linalg.lstsq(x, d["log_project_value"], rcond=None)[0][1]
    assert pooled_slope < paper.next_effect[observed].mean() - 0.05


def test_paper_within_worker_comparison_is_unbiased(
    paper: SimulatedPanel, observed: pd.Series
) -> None:
    """Following each worker over time recovers the credential term that pooling misses."""
    f = paper.frame
    effect = brute_force_effect(paper, f["credentials"].to_numpy())
    # keep the worker effects in; remove the other systematic terms
    y = value_residual(paper, 0.0 * effect) + paper.truth.alpha.loc[f["worker_id"]].to_numpy()
    d = pd.DataFrame({"worker_id": f["worker_id"], "y": y, "effect": effect})[observed]
    dm = within(d, ["y", "effect"])
    e, yw = dm["effect"].to_numpy(), dm["y"].to_numpy()
    slope = float(e @ yw / (e @ e))
    assert abs(slope - 1.0) < 0.1
    pooled = float(np.polyfit(d["effect"], d["y"], 1)[0])
    assert pooled < 0.5
