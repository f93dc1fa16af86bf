"""The negative-binomial hurdle (``hurdle_negative_binomial``): project counts with many zeros.

Fast tier: the zero-truncated negative binomial against scipy (density, draws, mean), the PyMC
model's log-likelihood at the true parameters against scipy, the structure of the model, and a
tiny real fit whose effects split by margin, predictive checks and log-likelihood work.
Slow tier: recovery of both parts' parameters from outcomes drawn from the model itself.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit

import bayescred as bc
from bayescred.data.simulate import simulate
from bayescred.model.build import build_model
from bayescred.model.families import get_family
from bayescred.model.families.hurdle_negative_binomial import (
    HurdleNegativeBinomial,
    ZeroTruncatedNegativeBinomial,
    ztnb_logpmf,
)
from bayescred.model.make import make_design
from bayescred.model.outcomes import PartTruth, linear_predictor

FAMILY = get_family("hurdle_negative_binomial")
ZTNB = ZeroTruncatedNegativeBinomial()
PHI = 1.6
BETA = {"A": 0.10, "B": 0.10, "C": 0.10, "D": 0.18}
INTENSIVE = PartTruth(beta=BETA, lambda_=0.3, mu_alpha=0.3, sigma_alpha=0.4, psi=(0.0, 0.0))
EXTENSIVE = PartTruth(beta=BETA, lambda_=0.3, mu_alpha=0.2, sigma_alpha=0.7, psi=(-0.2, 0.1))


def _scipy_ztnb(y: np.ndarray, eta: np.ndarray, phi: float) -> np.ndarray:
    p = phi / (phi + np.exp(eta))
    return np.asarray(stats.nbinom.logpmf(y, phi, p) - np.log1p(-stats.nbinom.pmf(0, phi, p)))


def draw_hurdle_counts(frame: pd.DataFrame, seed: int, phi: float = PHI) -> pd.DataFrame:
    """``n_projects`` drawn from the hurdle model itself: Bernoulli(expit(eta_ext)) times a
    zero-truncated negative binomial of ``exp(eta_int)`` (the family's own draws)."""
    rng = np.random.default_rng(seed)
    n_workers = frame["worker_id"].nunique()
    order = frame.sort_values(["worker_id", "period"]).reset_index(drop=True)
    eta_int = linear_predictor(order, INTENSIVE, rng.standard_normal(n_workers))
    eta_ext = linear_predictor(order, EXTENSIVE, rng.standard_normal(n_workers))
    any_project = rng.random(len(order)) < expit(eta_ext)
    counts = ZTNB.draw(eta_int, {"phi": phi}, rng)
    return order.assign(n_projects=np.where(any_project, counts, 0.0).astype(np.int64))


@pytest.fixture(scope="module")
def skeleton() -> pd.DataFrame:
    return simulate("paper", seed=4, n_workers=120, n_periods=8).frame


# ----------------------------------------------------------------------- the distribution
def test_ztnb_log_density_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    eta = rng.normal(0.2, 1.5, 300)
    y = rng.integers(1, 30, 300).astype(float)
    np.testing.assert_allclose(ztnb_logpmf(y, eta, PHI), _scipy_ztnb(y, eta, PHI), rtol=1e-10)
    np.testing.assert_allclose(ZTNB.row_logpdf(y, eta, {"phi": PHI}), _scipy_ztnb(y, eta, PHI))


def test_ztnb_draws_follow_the_distribution() -> None:
    """No zeros; the mean is ``mu / (1 - p0)``; frequencies match the truncated pmf."""
    rng = np.random.default_rng(1)
    for eta in (-1.5, 0.5, 2.0):
        y = ZTNB.draw(np.full(200_000, eta), {"phi": PHI}, rng)
        assert y.min() >= 1 and np.all(y == np.round(y))
        mean = float(np.exp(ZTNB.log_mean(np.array(eta), np.array(PHI))))
        assert y.mean() == pytest.approx(mean, rel=0.01)
        for k in (1, 2, 3):
            want = float(np.exp(_scipy_ztnb(np.array([k]), np.array([eta]), PHI))[0])
            assert (y == k).mean() == pytest.approx(want, abs=0.005)


def test_positive_mean_over_intercepts_matches_monte_carlo() -> None:
    """``positive_log_mean`` with an intercept spread is ``log E[v(eta + sa u)]``."""
    assert isinstance(FAMILY, HurdleNegativeBinomial)
    eta = np.array([[-1.0, 0.4], [1.2, 0.0]])
    phi, sa = np.array([1.5, 3.0]), np.array([0.6, 0.3])
    got = FAMILY.positive_log_mean(eta, {"phi": phi}, sa)
    u = np.random.default_rng(2).standard_normal(400_000)
    for d in range(2):
        for i in range(2):
            v = np.exp(ZTNB.log_mean(eta[d, i] + sa[d] * u, phi[d]))
            assert got[d, i] == pytest.approx(np.log(v.mean()), abs=2e-3)
    no_spread = FAMILY.positive_log_mean(eta, {"phi": phi}, None)
    np.testing.assert_allclose(no_spread, ZTNB.log_mean(eta, phi[:, None]))


# ----------------------------------------------------------------------- spec and model
def test_bundled_spec_and_support(skeleton: pd.DataFrame) -> None:
    spec = bc.load_spec("hurdle_projects")
    assert spec.outcome.likelihood == "hurdle_negative_binomial"
    assert spec.worker_effects == "correlated"
    for values, error, message in (
        ((1.5, 0.0), bc.DataError, "whole number"),  # the data contract of a count column
        ((-1.0, 0.0), bc.DataError, "whole number"),
        ((1.0, 2.0), bc.SpecError, "no zeros"),
    ):
        bad = skeleton.assign(n_projects=np.where(skeleton.index % 2 == 0, *values))
        with pytest.raises(error, match=message):
            make_design(spec, bad)
    # the family's own rule, for outcomes declared with another kind
    with pytest.raises(bc.SpecError, match="non-negative integer counts"):
        FAMILY.check_support(np.array([0.0, 1.5, 2.0]), "n_projects")
    with pytest.raises(bc.SpecError, match="within"):
        spec.with_changes(worker_effects="within")


def test_model_structure(skeleton: pd.DataFrame) -> None:
    design = make_design(bc.load_spec("hurdle_projects"), skeleton)
    model = build_model(design)
    names = {v.name for v in model.free_RVs}
    # the logit part's effects and intercepts in the sampler's whitened coordinates; the count
    # part's non-centred (no pilot for counts)
    assert {"ext_mu_beta_whitened", "ext_alpha_whitened", "mu_beta", "phi", "alpha_offset"} <= names
    assert "sigma" not in names and "ext_phi" not in names
    assert model.named_vars_to_dims["outcome"] == ("obs_positive",)
    assert model.named_vars_to_dims["ext_outcome"] == ("obs",)
    assert model.named_vars_to_dims["alpha_offset"] == ("worker_positive",)
    positive = np.asarray(design.panel.y) > 0
    assert int(positive.sum()) == len(model.coords["obs_positive"])
    assert len(model.coords["worker_positive"]) == len(
        np.unique(design.panel.worker_codes[positive])
    )


def test_model_likelihood_at_the_truth_matches_scipy(skeleton: pd.DataFrame) -> None:
    """The intensive part's log-likelihood in the PyMC model at the true parameters equals
    scipy's zero-truncated negative binomial on this module's predictor."""
    frame = draw_hurdle_counts(skeleton, seed=3)
    spec = bc.load_spec("hurdle_projects").with_changes(
        period_effects=False,
        effect={"modifier": "none", "pooling": {"lambda": "complete"}},
    )
    design = make_design(spec, frame)
    model = build_model(design)
    positive = frame["n_projects"].to_numpy() > 0
    workers = np.sort(frame["worker_id"].unique())
    kept = np.isin(workers, frame.loc[positive, "worker_id"].unique())
    e = np.random.default_rng(5).standard_normal(len(workers))
    labels = list(design.panel.group_labels)
    beta = np.array([BETA[g] for g in labels])
    start = model.initial_point()
    point = {k: np.asarray(v) for k, v in start.items()}
    point.update(
        mu_beta=np.asarray(beta.mean()),
        sigma_beta_log__=np.asarray(0.0),
        beta_offset=beta - beta.mean(),
        log_lambda=np.asarray(np.log(INTENSIVE.lambda_)),
        mu_alpha=np.asarray(INTENSIVE.mu_alpha),
        psi=np.zeros(2),
        sigma_alpha_log__=np.asarray(np.log(INTENSIVE.sigma_alpha)),
        alpha_offset=e[kept],
        phi_log__=np.asarray(np.log(PHI)),
    )
    got = model.compile_logp(vars=[model["outcome"]], sum=True)(point)
    rows = frame[positive]
    eta = linear_predictor(rows, INTENSIVE, e[np.isin(workers, rows["worker_id"].unique())])
    want = _scipy_ztnb(rows["n_projects"].to_numpy(float), eta, PHI).sum()
    assert got == pytest.approx(want, rel=1e-9)


# ----------------------------------------------------------------------- a tiny real fit
@pytest.fixture(scope="module")
def tiny_fit(skeleton: pd.DataFrame) -> bc.CredentialFit:
    frame = draw_hurdle_counts(skeleton, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bc.CredentialModel("hurdle_projects").fit(
            frame, draws=40, tune=60, chains=2, random_seed=1, progressbar=False
        )


def test_effects_split_by_margin(tiny_fit: bc.CredentialFit) -> None:
    avg = tiny_fit.average_effect().table
    assert list(avg["margin"]) == ["total", "extensive", "intensive"]
    result = tiny_fit.effect(group="B", credentials=1, track_record=10)
    assert result.margin_draws is not None and result.margins is not None
    d = result.margin_draws
    np.testing.assert_allclose(
        d.sel(margin="total"), d.sel(margin="extensive") + d.sel(margin="intensive"), atol=1e-12
    )
    m = result.margins.set_index("margin")
    assert m.loc["total", "gain_mean"] == pytest.approx(
        m.loc["extensive", "gain_mean"] + m.loc["intensive", "gain_mean"], rel=1e-9, abs=1e-12
    )
    assert "expected n projects" in result.sentence() or "expected" in result.sentence()


def test_checks_and_log_likelihood(tiny_fit: bc.CredentialFit) -> None:
    table = tiny_fit.check(max_draws=10, random_seed=0)
    assert "zero_share" in set(table["statistic"])
    assert table["p_value"].between(0, 1).all()
    ll = tiny_fit.log_likelihood()["y"]
    assert ll.dims == ("chain", "draw", "worker")
    assert np.isfinite(ll.values).all() and (ll.values < 0).all()


def test_intensive_margin_depends_on_the_level() -> None:
    """Unlike the log-normal hurdle, the truncated count's intensive log change is smaller than
    the predictor's change where zeros would be common (the truncation absorbs some of it)."""
    assert isinstance(FAMILY, HurdleNegativeBinomial)
    phi = np.array([PHI])
    low = FAMILY.positive_log_change(np.array([[-2.0]]), np.array([[0.1]]), {"phi": phi}, None)
    high = FAMILY.positive_log_change(np.array([[3.0]]), np.array([[0.1]]), {"phi": phi}, None)
    assert 0 < low[0, 0] < high[0, 0] < 0.1 + 1e-6


# ----------------------------------------------------------------------- slow: recovery
@pytest.mark.slow
def test_recovery_from_the_models_own_outcomes() -> None:
    """Both parts' parameters recovered from counts drawn from the hurdle model itself."""
    frame = draw_hurdle_counts(simulate("paper", seed=8, n_workers=1500, n_periods=12).frame, 9)
    spec = bc.load_spec("hurdle_projects").with_changes(period_effects=False)
    fit = bc.CredentialModel(spec).fit(frame, draws=500, tune=500, chains=2, random_seed=2)
    table = fit.summary()
    truth: dict[tuple[str, str], float] = {
        ("phi", ""): PHI,
        ("lambda", ""): INTENSIVE.lambda_,
        ("sigma_alpha", ""): INTENSIVE.sigma_alpha,
        ("ext_lambda", ""): EXTENSIVE.lambda_,
        ("ext_sigma_alpha", ""): EXTENSIVE.sigma_alpha,
        ("ext_psi", "mean_credentials"): EXTENSIVE.psi[0],
        ("ext_psi", "mean_track_record_z"): EXTENSIVE.psi[1],
    }
    for g, b in BETA.items():
        truth[("beta_group", g)] = b
        truth[("ext_beta_group", g)] = b
    covered: dict[Any, bool] = {}
    for (name, label), value in truth.items():
        row = table[(table["parameter"] == name) & (table["label"] == label)].iloc[0]
        covered[(name, label)] = bool(row["hdi_low"] <= value <= row["hdi_high"])
        print(
            f"{name}[{label}] {row['mean']:.3f} [{row['hdi_low']:.3f}, {row['hdi_high']:.3f}]"
            f" truth {value}"
        )
    misses = [k for k, ok in covered.items() if not ok]
    assert len(misses) <= 2, misses  # 90% intervals: about 1.5 misses of 15 expected
