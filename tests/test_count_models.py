"""Count (Poisson, negative binomial) and binary (Bernoulli) likelihoods on the latent-intercept
path: model structure, link-scale priors, per-row log densities and one small real fit."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from scipy import stats

import bayescred as bc
from bayescred.analysis.replicate import Replicator
from bayescred.data.simulate import simulate
from bayescred.model.families import family_of, get_family
from bayescred.model.make import make_design
from bayescred.model.predictor import OUTCOME_VAR

COLUMN = {"poisson": "n_projects", "negative_binomial": "n_projects", "bernoulli": "any_project"}
OBSERVED_OP = {
    "poisson": "PoissonRV",
    "negative_binomial": "NegBinomialRV",
    "bernoulli": "BernoulliRV",
}


def _spec(likelihood: str, effects: str = "correlated", **changes: Any) -> bc.ModelSpec:
    return bc.ModelSpec().with_changes(
        outcome={"column": COLUMN[likelihood], "likelihood": likelihood},
        worker_effects=effects,
        **changes,
    )


def _names(model: pm.Model) -> set[str]:
    return {v.name for v in model.free_RVs} | {v.name for v in model.deterministics}


@pytest.mark.parametrize("likelihood", list(COLUMN))
@pytest.mark.parametrize("effects", ["correlated", "random", "none"])
def test_structure(small_frame: pd.DataFrame, likelihood: str, effects: str) -> None:
    model = bc.CredentialModel(_spec(likelihood, effects)).build(small_frame)
    names = _names(model)
    assert "sigma" not in names and "nu" not in names
    assert ("phi" in names) == (likelihood == "negative_binomial")
    assert ("alpha_offset" in names) == (effects != "none")
    assert ("psi" in names) == (effects == "correlated")
    assert "worker_loglik" not in names
    # period effects non-centred on the link scale (the centred form is a funnel there)
    assert "tau_offset" in {v.name for v in model.free_RVs}
    assert "tau" in {v.name for v in model.deterministics}
    observed = model[OUTCOME_VAR]
    assert observed in model.observed_RVs
    assert type(observed.owner.op).__name__ == OBSERVED_OP[likelihood]
    assert model.named_vars_to_dims[OUTCOME_VAR] == ("obs",)
    if effects == "correlated":  # compiling is the slow part: once per likelihood
        point = model.initial_point()
        assert np.isfinite(model.compile_logp()(point))
        assert np.all(np.isfinite(model.compile_dlogp()(point)))


@pytest.mark.parametrize("likelihood", list(COLUMN))
def test_within_is_refused_with_the_reason(likelihood: str) -> None:
    with pytest.raises(bc.SpecError, match="closed form.*'correlated'"):
        _spec(likelihood, "within")


@pytest.mark.parametrize("likelihood", list(COLUMN))
def test_priors_are_on_the_link_scale(small_frame: pd.DataFrame, likelihood: str) -> None:
    design = make_design(_spec(likelihood), small_frame)
    pr = design.priors
    assert "sigma" not in pr and "nu" not in pr
    assert pr["mu_beta"].parameters() == {"mu": 0.0, "sigma": 0.5}
    assert pr["sigma_alpha"].parameters() == {"sigma": 1.0}
    assert pr["sigma_tau"].parameters() == {"sigma": 0.5}
    ybar = float(small_frame[COLUMN[likelihood]].mean())
    link = np.log(ybar / (1 - ybar)) if likelihood == "bernoulli" else np.log(ybar)
    assert pr["mu_alpha"].parameters() == pytest.approx({"mu": link, "sigma": 1.0})
    assert ("phi" in pr) == (likelihood == "negative_binomial")


def test_gaussian_priors_keep_the_outcome_scale(small_frame: pd.DataFrame) -> None:
    design = make_design(bc.ModelSpec().with_changes(worker_effects="random"), small_frame)
    s = design.y_sd
    assert design.priors["mu_beta"].parameters()["sigma"] == pytest.approx(0.5 * s)
    assert design.priors["mu_alpha"].mu == pytest.approx(design.y_mean)
    assert "sigma" in design.priors and "phi" not in design.priors


def test_phi_prior_can_be_overridden(small_frame: pd.DataFrame) -> None:
    spec = _spec("negative_binomial", priors={"phi": {"dist": "exponential", "lam": 0.1}})
    assert make_design(spec, small_frame).priors["phi"].dist == "exponential"


@pytest.mark.parametrize(
    ("likelihood", "column"), [("poisson", "log_project_value"), ("bernoulli", "n_projects")]
)
def test_outcome_outside_the_support_is_refused(
    small_frame: pd.DataFrame, likelihood: str, column: str
) -> None:
    spec = _spec(likelihood).with_changes(outcome={"column": column, "kind": "real"})
    with pytest.raises(bc.SpecError, match=likelihood):
        make_design(spec, small_frame)


@pytest.mark.parametrize("likelihood", list(COLUMN))
def test_row_logpdf_matches_scipy(likelihood: str) -> None:
    rng = np.random.default_rng(0)
    eta = rng.normal(0.3, 1.5, 200)
    mu = np.exp(eta)
    phi = 1.7
    if likelihood == "bernoulli":
        y = rng.integers(0, 2, 200).astype(float)
        expected = stats.bernoulli.logpmf(y, 1 / (1 + np.exp(-eta)))
    elif likelihood == "poisson":
        y = rng.poisson(mu).astype(float)
        expected = stats.poisson.logpmf(y, mu)
    else:
        y = rng.negative_binomial(phi, phi / (phi + mu)).astype(float)
        expected = stats.nbinom.logpmf(y, phi, phi / (phi + mu))
    got = get_family(likelihood).row_logpdf(y, eta, {"phi": phi})
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("likelihood", list(COLUMN))
def test_replicates_follow_the_likelihood(likelihood: str) -> None:
    """With known parameters the replicated outcomes have the likelihood's mean and support."""
    sim = simulate("paper", seed=2, n_workers=60, n_periods=6)
    design = make_design(
        _spec(
            likelihood,
            "none",
            period_effects=False,
            effect={"curve": "geometric", "modifier": "none"},
        ),
        sim.frame,
    )
    beta = np.zeros((1, 1, design.panel.n_groups))
    params = xr.Dataset(
        {
            "beta_group": (("chain", "draw", "group"), beta),
            "lambda_group": (("chain", "draw", "group"), np.ones_like(beta)),
            "mu_alpha": (("chain", "draw"), np.array([[0.4]])),
            "phi": (("chain", "draw"), np.array([[2.0]])),
        },
        coords={"group": list(design.panel.group_labels)},
    )
    params = params.drop_vars("phi") if likelihood != "negative_binomial" else params
    (part,) = family_of(design).parts(design)
    rep = Replicator(part, params, "posterior")
    rng = np.random.default_rng(5)
    y = np.concatenate([rep.draw(0, rng) for _ in range(20)])
    assert np.all(y == np.round(y)) and y.min() >= 0
    if likelihood == "bernoulli":
        assert set(np.unique(y)) <= {0.0, 1.0}
        assert y.mean() == pytest.approx(1 / (1 + np.exp(-0.4)), abs=0.03)
    else:
        assert y.mean() == pytest.approx(np.exp(0.4), rel=0.05)
        if likelihood == "negative_binomial":  # variance mu + mu^2 / phi
            mu = np.exp(0.4)
            assert y.var() == pytest.approx(mu + mu**2 / 2.0, rel=0.15)


@pytest.fixture(scope="module")
def nb_fit() -> tuple[bc.CredentialFit, Any]:
    """The bundled project_counts spec (negative binomial) on 400 workers x 10 periods."""
    sim = simulate("paper", seed=11, n_workers=400, n_periods=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        fit = bc.CredentialModel(bc.load_spec("project_counts")).fit(
            sim.frame, draws=150, tune=150, chains=2, random_seed=1, progressbar=False
        )
    return fit, sim


def test_negative_binomial_fit_recovers_a_small_count_effect(nb_fit: Any) -> None:
    fit, sim = nb_fit
    table = fit.summary()
    assert {"mu_beta", "mu_alpha", "sigma_alpha", "psi"} <= set(table["parameter"])
    assert "sigma" not in set(table["parameter"])
    assert "phi" in fit.posterior
    effect = fit.average_effect().table
    # the paper preset's true effect on log E[n_projects] is beta_count = 0.003
    assert sim.truth.beta_count == pytest.approx(0.003)
    assert abs(float(effect["mean"].iloc[0])) < 0.05
    assert "pct_mean" in effect  # log link: percentage gains
    # the dispersion is identified (truth 2.0)
    assert 1.0 < float(fit.posterior["phi"].mean()) < 4.0


def test_negative_binomial_check_and_log_likelihood(nb_fit: Any) -> None:
    fit, _ = nb_fit
    table = fit.check(max_draws=40, random_seed=3)
    overall = table.loc[table["scope"] == "all"].set_index("statistic")
    assert "zero_share" in overall.index
    observed_zeros = float((fit.design.panel.y == 0).mean())
    assert overall.loc["zero_share", "observed"] == pytest.approx(observed_zeros)
    assert abs(overall.loc["zero_share", "replicated_mean"] - observed_zeros) < 0.05
    assert not overall.loc[["mean", "zero_share"], "flag"].any()
    ll = fit.log_likelihood()
    sizes = fit.posterior.sizes
    assert ll["y"].shape == (sizes["chain"], sizes["draw"], fit.design.panel.n_workers)
    assert np.all(np.isfinite(ll["y"].values))
    assert np.all(ll["y"].values <= 0)  # log probabilities of discrete outcomes


def test_poisson_fit_to_overdispersed_counts_flags_the_zeros() -> None:
    """The simulator's counts are negative binomial (phi = 2): a Poisson model cannot reproduce
    their share of zeros or their sd, and the check says so."""
    sim = simulate("paper", seed=3, n_workers=100, n_periods=6)
    spec = bc.load_spec("project_counts").with_changes(outcome={"likelihood": "poisson"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        fit = bc.CredentialModel(spec).fit(
            sim.frame, draws=100, tune=100, chains=2, random_seed=1, progressbar=False
        )
    overall = fit.check(max_draws=20, random_seed=1, by_group=False).set_index("statistic")
    assert overall.loc["zero_share", "flag"] and overall.loc["sd", "flag"]
    assert overall.loc["zero_share", "replicated_mean"] < overall.loc["zero_share", "observed"]


def test_bernoulli_effects_in_percentage_points(small_frame: pd.DataFrame) -> None:
    """The change in probability for a typical worker, against a Monte Carlo brute force, from
    the same parameter draws as the log-odds columns (also for an unseen group, whose
    population draws are random when no seed is given)."""
    from scipy.special import expit

    from bayescred.analysis.binary_effects import with_probability_change
    from bayescred.analysis.effects import profile_effects, profile_group_parameters
    from bayescred.model.build import build_prior_model

    spec = _spec("bernoulli")
    design = make_design(spec, small_frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = pm.sample_prior_predictive(draws=30, model=build_prior_model(design), random_seed=2)
    post = prior["prior"].to_dataset()
    profiles = pd.DataFrame(
        {"group": ["B", "Z"], "credentials": [2, 2], "track_record": [10.0, 10.0], "to": [3, 3]}
    )
    shared = profile_group_parameters(post, spec, profiles, "population", None)
    result = with_probability_change(
        profile_effects(post, spec, design.track_scale, profiles, group_parameters=shared),
        post,
        design,
        profiles,
        shared,
    )
    params, codes = shared
    np.testing.assert_array_equal(
        params.beta[:, codes[0]], post["beta_group"].sel(group="B").values.reshape(-1)
    )

    def flat(name: str) -> np.ndarray:
        v = post[name].values
        return v.reshape(-1, *v.shape[2:])

    z = (np.log1p(10.0) - np.log1p(design.track_scale.reference)) / design.track_scale.scale
    w = (np.array([2.0, z]) - np.array(design.mundlak_center)) / np.array(design.mundlak_scale)
    level = flat("mu_alpha") + flat("psi") @ w
    u = np.random.default_rng(0).standard_normal(200_000)
    assert params.shape is not None
    for i, code in enumerate(codes):
        lam, gam = params.shape[:, code], params.gamma[:, code, :]
        modifier = np.exp(gam[:, 0] * z + gam[:, 1] * z**2)
        term = {
            k: params.beta[:, code] * (1 - np.exp(-lam * k)) / (1 - np.exp(-lam)) * modifier
            for k in (2, 3)
        }
        p = {
            k: np.array(
                [
                    expit(a + s * u).mean()
                    for a, s in zip(level + term[k], flat("sigma_alpha"), strict=True)
                ]
            )
            for k in (2, 3)
        }
        row = result.table.iloc[i]
        assert row["mean"] == pytest.approx((term[3] - term[2]).mean(), rel=1e-10)
        assert row["probability_before"] == pytest.approx(p[2].mean(), abs=2e-3)
        assert row["pp_mean"] == pytest.approx(100 * (p[3] - p[2]).mean(), abs=0.02)
    assert "percentage points" in result.sentence()
    from bayescred.cli.commands import format_effect_table

    assert "pp median" in format_effect_table(result)


def test_report_of_a_count_fit(nb_fit: Any, tmp_path: Any) -> None:
    """The report renders for a count model: percentage effects and the share of zeros."""
    fit, _ = nb_fit
    html = bc.report(fit, tmp_path / "counts.html").read_text(encoding="utf-8")
    assert "median (%)" in html  # log link: percentage changes
    assert "zero_share" in html or "share of zeros" in html


@pytest.mark.parametrize(
    ("likelihood", "effects"),
    [("poisson", "correlated"), ("negative_binomial", "random"), ("bernoulli", "correlated")],
)
def test_subset_average_effects_of_each_family(
    small_frame: pd.DataFrame, likelihood: str, effects: str
) -> None:
    """Averages by group over a selection equal the written-out next-credential effect of the
    selected rows (prior draws stand in for a posterior); percentages only on a log link."""
    from bayescred.analysis.average_effects import average_effect
    from bayescred.model.build import build_prior_model

    design = make_design(_spec(likelihood, effects), small_frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = pm.sample_prior_predictive(draws=25, model=build_prior_model(design), random_seed=4)
    post = prior["prior"].to_dataset()
    res = average_effect(post, design, by="group", where="credentials >= 1")

    def flat(name: str) -> np.ndarray:
        v = post[name].values
        return v.reshape(-1, *v.shape[2:])

    p = design.panel
    g = p.group_codes
    scale = design.track_scale
    z = (np.log1p(p.track_record) - np.log1p(scale.reference)) / scale.scale
    gamma = flat("gamma_group")[:, g, :]
    per_row = (
        flat("beta_group")[:, g]
        * np.exp(-flat("lambda_group")[:, g] * p.credentials)
        * np.exp(gamma[..., 0] * z + gamma[..., 1] * z**2)
    )
    table = res.table.set_index("scope")
    for code, label in enumerate(p.group_labels):
        rows = (g == code) & (p.credentials >= 1)
        assert table.loc[label, "rows"] == rows.sum()
        assert table.loc[label, "mean"] == pytest.approx(per_row[:, rows].mean(axis=1).mean())
    log_link = likelihood != "bernoulli"
    assert ("pct_mean" in table) == log_link and (res.percent is not None) == log_link
    positive = res.prob(gt=0, scale="model").to_numpy()
    assert positive == pytest.approx(table["prob_positive"].to_numpy())
