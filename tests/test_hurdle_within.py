"""``worker_effects = "within"`` for the hurdle log-normal model: flat-prior worker intercepts
integrated out of the amount part, latent (by default correlated) intercepts in the logit part.

Each behaviour is checked against an independent computation: the within likelihood's
invariance to worker-constant shifts and brute-force moments of the intercepts (the
factorisation into the two parts' own models is tested with the other hurdle tests).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

import bayescred as bc
from bayescred.analysis.levels import within_intercept_moments
from bayescred.analysis.predictor import mean_without_intercepts
from bayescred.data.simulate import simulate
from bayescred.maths.worker_likelihoods import flat_intercept_moments
from bayescred.model.build import build_model, build_prior_model
from bayescred.model.families import family_of
from bayescred.model.make import make_design
from bayescred.model.parts import EXTENSIVE, POSITIVE


def _spec(**changes: Any) -> bc.ModelSpec:
    return bc.load_spec("hurdle_earnings").with_changes(worker_effects="within", **changes)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return simulate("paper", seed=3, n_workers=150, n_periods=8).frame


# ----------------------------------------------------------------------------------- spec
def test_within_applies_to_the_amount_part_and_the_logit_part_keeps_latent_intercepts() -> None:
    spec = _spec()
    assert spec.worker_effects == "within"
    assert spec.extensive_worker_effects == "correlated"
    own = _spec(extensive={"worker_effects": "random"})
    assert own.extensive_worker_effects == "random"
    # without within the extensive part follows the spec, unless set
    assert bc.load_spec("hurdle_earnings").extensive_worker_effects == "correlated"
    assert _spec().with_changes(worker_effects="random").extensive_worker_effects == "random"
    assert bc.ModelSpec.from_toml_string(own.to_toml_string()) == own


def test_within_is_refused_where_no_part_has_a_closed_form() -> None:
    with pytest.raises(bc.SpecError, match="hurdle_lognormal.*'correlated'"):
        bc.ModelSpec.from_dict(
            {
                "outcome": {"column": "n_projects", "likelihood": "hurdle_negative_binomial"},
                "worker_effects": "within",
            }
        )
    with pytest.raises(bc.SpecError, match="worker_effects"):
        _spec(extensive={"worker_effects": "within"})


def test_parts_take_their_own_worker_effects_and_no_row_is_set_aside(frame: pd.DataFrame) -> None:
    # a worker seen in one period stays: it counts in the logit part
    one = frame[frame["worker_id"] == frame["worker_id"].iloc[0]].iloc[:1]
    data = pd.concat([frame[frame["worker_id"] != one["worker_id"].iloc[0]], one])
    design = make_design(_spec(), data)
    assert design.panel.n_rows == len(data)
    ext, pos = family_of(design).parts(design)
    assert ext.design.spec.worker_effects == "correlated"
    assert pos.design.spec.worker_effects == "within"
    assert pos.design.mundlak_names == ()  # no Mundlak terms in a within part
    assert ext.design.mundlak_names[:2] == ("mean_credentials", "mean_track_record_z")


# ----------------------------------------------------------------------------------- model
def test_amount_likelihood_ignores_each_workers_level(frame: pd.DataFrame) -> None:
    """Multiplying one worker's earnings by a constant moves only that worker's log amounts by
    a constant: flat-prior intercepts absorb it, so the amount part's per-worker likelihood does
    not change at any parameter value (with correlated intercepts it does)."""
    rng = np.random.default_rng(1)

    def worker_logliks(spec: bc.ModelSpec) -> tuple[np.ndarray, np.ndarray]:
        design = make_design(spec, frame)
        p = design.panel
        factor = np.exp(rng.normal(0, 1, p.n_workers))[p.worker_codes]
        scaled = replace(design, panel=replace(p, y=np.asarray(p.y, dtype=float) * factor))
        out = []
        point: dict[str, np.ndarray] = {}
        for d in (design, scaled):  # same priors, same point: only the amounts differ
            model = build_model(d)
            point = point or {
                k: v + 0.2 * rng.standard_normal(np.shape(v))
                for k, v in model.initial_point().items()
            }
            (ll,) = model.replace_rvs_by_values([model["worker_loglik"]])
            fn = model.compile_fn(ll, inputs=model.value_vars, on_unused_input="ignore")
            out.append(np.asarray(fn(point)))
        return out[0], out[1]

    original, scaled = worker_logliks(_spec())
    np.testing.assert_allclose(scaled, original, rtol=1e-10, atol=1e-8)
    original, scaled = worker_logliks(bc.load_spec("hurdle_earnings"))
    assert not np.allclose(scaled, original, rtol=1e-6)


# ---------------------------------------------------------------------- intercept moments
def test_flat_intercept_moments_against_brute_force() -> None:
    rng = np.random.default_rng(2)
    counts = rng.integers(1, 12, size=40_000).astype(float)
    alpha = rng.normal(1.5, 0.6, size=counts.size)
    sigma = np.array([0.0, 0.8])
    dbar = alpha + sigma[:, None] * rng.standard_normal(counts.size) / np.sqrt(counts)
    mean, sd = flat_intercept_moments(dbar, counts, sigma)
    # no noise: exactly the workers' mean and sd
    assert mean[0] == pytest.approx(alpha.mean()) and sd[0] == pytest.approx(alpha.std())
    # noise removed on average: the intercepts' own spread
    assert mean[1] == pytest.approx(1.5, abs=0.02) and sd[1] == pytest.approx(0.6, abs=0.02)
    # more noise than spread: sd 0, not NaN
    _, none = flat_intercept_moments(np.zeros(5), np.ones(5), np.array(1.0))
    assert none == 0.0


def test_within_intercept_moments_match_a_loop_over_draws(frame: pd.DataFrame) -> None:
    design = make_design(_spec(), frame)
    _, pos = family_of(design).parts(design)
    model = build_prior_model(design)
    rng = np.random.default_rng(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pymc as pm

        prior = pm.sample_prior_predictive(draws=7, model=model, random_seed=rng)["prior"]
    post = POSITIVE.view(prior.to_dataset(), others=(EXTENSIVE,))
    mean, sd = within_intercept_moments(post, pos.design)
    p = pos.design.panel
    y = np.asarray(p.y, dtype=float)
    sigma = post["sigma"].values.reshape(-1)
    for j in range(7):
        m = mean_without_intercepts(post, pos.design, np.array([j]), slice(0, p.n_rows))[0]
        dbar = pd.Series(y - m).groupby(p.worker_codes).mean().to_numpy()
        counts = np.bincount(p.worker_codes).astype(float)
        var = dbar.var() - sigma[j] ** 2 * np.mean(1 / counts)
        assert mean[j] == pytest.approx(dbar.mean(), rel=1e-9)
        assert sd[j] == pytest.approx(np.sqrt(max(var, 0.0)), rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------------- one real fit
@pytest.fixture(scope="module")
def within_fit(frame: pd.DataFrame) -> bc.CredentialFit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        return bc.CredentialModel(_spec()).fit(
            frame, draws=100, tune=150, chains=1, random_seed=5, progressbar=False
        )


def test_fit_effects_checks_and_loo_work_without_amount_intercepts(
    within_fit: bc.CredentialFit,
) -> None:
    assert "alpha_offset" not in within_fit.posterior and "mu_alpha" not in within_fit.posterior
    avg = within_fit.average_effect().table.set_index("margin")
    assert avg.loc["total", "mean"] == pytest.approx(
        avg.loc["extensive", "mean"] + avg.loc["intensive", "mean"]
    )
    # a new worker profile: the amount level comes from the observed workers' intercepts
    eff = within_fit.effect(group="A", credentials=1, track_record=5)
    row = eff.table.iloc[0]
    assert np.isfinite(row["expected_before"]) and row["expected_before"] > 0
    assert np.isfinite(row["gain_mean"])
    table = within_fit.check(max_draws=30, random_seed=1)
    overall = table[table["scope"] == "all"].set_index("statistic")
    observed = float((within_fit.design.panel.y == 0).mean())
    assert abs(overall.loc["zero_share", "replicated_mean"] - observed) < 0.05
    # amounts replicated around each worker's rebuilt intercept: a wrong intercept (sign,
    # scale, or the moments for workers without amounts) moves the median earnings
    assert not overall.loc[["zero_share", "q50"], "flag"].any(), overall
    ll = within_fit.log_likelihood()["y"]
    assert ll.shape[-1] == within_fit.design.panel.n_workers and np.isfinite(ll.values).all()


def test_sbc_draws_amounts_whose_deviations_follow_the_prior_draw(frame: pd.DataFrame) -> None:
    """SBC of a within hurdle: zeros from the logit part's prior draw, and log amounts whose
    within-worker deviations around the draw's predictor have the draw's residual sd (the
    workers' levels, which the likelihood does not see, stay at their observed means)."""
    from bayescred.analysis.replicate import TwoPartReplicator
    from bayescred.calibration.sbc import (
        _prior_draw,
        fixed_prior_spec,
        ranked_variables,
        simulate_outcome,
    )

    spec = fixed_prior_spec(_spec(), frame)
    design = make_design(spec, frame)
    params = _prior_draw(
        design, ranked_variables(build_prior_model(design)), np.random.SeedSequence(4)
    )
    y = simulate_outcome(design, params, np.random.default_rng(5))
    assert (y >= 0).all() and (y == 0).any() and (y > 0).any()
    rep = TwoPartReplicator(design, params, "prior")
    m = rep.intensive.predictor(0, replace(rep.intensive.design, panel=design.panel))
    positive = y > 0
    logs = np.log(np.where(positive, y, 1.0))
    rows = pd.DataFrame({"worker": design.panel.worker_codes, "e": logs - m})[positive]
    by_worker = rows.groupby("worker")["e"]
    dev = rows["e"] - by_worker.transform("mean")
    df = len(rows) - rows["worker"].nunique()
    sigma = float(params["sigma"].values.reshape(-1)[0])
    # pooled within-worker variance: sigma^2 within sampling error (df in the hundreds)
    assert float((dev**2).sum() / df) == pytest.approx(sigma**2, rel=0.15)
    # each worker's level is its observed mean log amount: simulated worker means differ from
    # it by noise of sd sigma / sqrt(T_i), so their standardised squares average about 1
    p = design.panel
    observed = pd.Series(np.log(np.where(p.y > 0, p.y, np.nan))).groupby(p.worker_codes).mean()
    both = by_worker.mean().index.intersection(observed.dropna().index)
    z = (by_worker.mean()[both] - observed[both]) * np.sqrt(by_worker.size()[both]) / sigma
    assert float((z**2).mean()) == pytest.approx(1.0, abs=0.3)
