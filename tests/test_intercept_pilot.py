"""Latent worker intercepts of binary models written through their conditional posterior.

* The per-worker pilot (:meth:`~bayescred.model.families.bernoulli.Bernoulli.intercept_pilot`)
  is the maximum of each worker's own likelihood of a common log-odds with half a success and
  half a failure added, and its precision the curvature of the worker's likelihood there
  (checked against a numerical optimiser and second differences of scipy's log densities).
* The whitened intercepts leave the model's density unchanged: at any point the model's log
  density equals the non-centred model's at the same intercepts, group effects and population
  means plus the log Jacobian, computed here from the numerical slopes of the map (this covers
  the logit-scale group pilot of :meth:`~bayescred.model.families.bernoulli.Bernoulli.pilot`
  too).
* A small Bernoulli fit gives the same posterior in either parameterisation (slow tier: two
  fits, one of them in the slow non-centred form, about 100 s).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import optimize, stats

import bayescred as bc
from bayescred.data.simulate import simulate
from bayescred.inference.sampling import run_sampler
from bayescred.model.build import build_model, build_prior_model, stored_variables
from bayescred.model.families import family_of
from bayescred.model.make import make_design
from bayescred.model.outcomes import OutcomeTruth, PartTruth, simulate_outcome
from bayescred.model.predictor import BuildOptions

SKELETON = ["worker_id", "period", "group", "credentials", "track_record"]
PART = PartTruth(
    beta={"A": 0.15, "B": 0.15, "C": 0.15, "D": 0.25},
    lambda_=0.25,
    gamma=(-0.3, -0.2),
    mu_alpha=0.2,
    sigma_alpha=0.8,
    psi=(-0.2, 0.1),
)
BINARY = bc.ModelSpec().with_changes(
    outcome={"column": "y", "likelihood": "bernoulli", "kind": "binary"},
    worker_effects="correlated",
)


def _frame(n_workers: int = 120, n_periods: int = 8) -> pd.DataFrame:
    skeleton = simulate("paper", seed=5, n_workers=n_workers, n_periods=n_periods).frame
    return simulate_outcome(skeleton[SKELETON], OutcomeTruth("bernoulli", PART), seed=6)


def _loglik(y: np.ndarray, a: float) -> float:
    return float(stats.bernoulli.logpmf(y, 1.0 / (1.0 + np.exp(-a))).sum())


def test_pilot_is_each_workers_smoothed_maximum_and_its_curvature() -> None:
    design = make_design(BINARY, _frame())
    pilot = family_of(design).intercept_pilot(design)
    assert pilot is not None
    centre, precision = pilot
    p = design.panel
    y = np.asarray(p.y, dtype=float)
    for w in range(0, p.n_workers, 17):
        rows = y[p.worker_codes == w]

        def minus_loglik(a: float, rows: np.ndarray = rows) -> float:
            return -(_loglik(rows, a) + 0.5 * _loglik(np.array([1.0, 0.0]), a))

        best = optimize.minimize_scalar(minus_loglik, bounds=(-12, 12), method="bounded")
        assert centre[w] == pytest.approx(best.x, abs=1e-4)
        h, a = 1e-3, centre[w]
        curvature = -(_loglik(rows, a + h) - 2 * _loglik(rows, a) + _loglik(rows, a - h)) / h**2
        assert precision[w] == pytest.approx(curvature, rel=1e-4)


def _values(model: pm.Model, names: tuple[str, ...]) -> Any:
    """A function of a point (unconstrained values) returning ``names``' values."""
    outs = model.replace_rvs_by_values([model[n] for n in names])
    return model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")


def _slope(
    values: Any, point: dict[str, np.ndarray], name: str, out: int, log: bool = False
) -> np.ndarray:
    """Derivative of output ``out`` (or of its log) in coordinate ``name``, element by element
    (the map is affine in each coordinate, so a unit step gives it exactly)."""
    moved = {**point, name: point[name] + 1.0}
    f = np.log if log else np.asarray
    return np.asarray(f(values(moved)[out]) - f(values(point)[out]))


def test_whitened_intercepts_change_the_coordinates_not_the_density() -> None:
    design = make_design(BINARY, _frame())
    whitened, plain = build_model(design), build_prior_model(design)
    free_w = {v.name for v in whitened.free_RVs}
    assert {"alpha_whitened", "beta_whitened", "mu_beta_whitened"} <= free_w
    assert "alpha_offset" not in free_w and "alpha_offset" in {v.name for v in plain.free_RVs}
    # both forms store the intercepts as alpha_offset, not the sampler's coordinates
    stored = stored_variables(whitened, design)
    assert "alpha_offset" in stored and "alpha_whitened" not in stored
    names = ("alpha_offset", "alpha", "beta_group", "mu_beta", "lambda_group", "log_lambda")
    values = _values(whitened, names)
    logp_w, logp_p = whitened.compile_logp(), plain.compile_logp()
    rng = np.random.default_rng(0)
    start = whitened.initial_point()
    for _ in range(3):
        point = {k: v + rng.normal(0.0, 0.5, np.shape(v)) for k, v in start.items()}
        alpha_offset, _, beta, mu_beta, lam, log_lambda = values(point)
        sd = {k: float(np.exp(point[f"{k}_log__"])) for k in ("sigma_alpha", "sigma_beta")}
        sd_lambda = float(np.exp(point["sigma_log_lambda_log__"]))
        other = {k: x for k, x in point.items() if "whitened" not in k}
        other.update(
            alpha_offset=alpha_offset,
            mu_beta=mu_beta,
            log_lambda=log_lambda,
            beta_offset=(beta - mu_beta) / sd["sigma_beta"],
            lambda_offset=(np.log(lam) - log_lambda) / sd_lambda,
        )
        # the map is triangular: its Jacobian is the product of the diagonal slopes
        jacobian = float(np.sum(np.log(_slope(values, point, "alpha_whitened", 1))))
        jacobian -= design.panel.n_workers * np.log(sd["sigma_alpha"])
        jacobian += float(np.sum(np.log(_slope(values, point, "beta_whitened", 2))))
        jacobian -= design.panel.n_groups * np.log(sd["sigma_beta"])
        jacobian += float(np.log(_slope(values, point, "mu_beta_whitened", 3)))
        jacobian += float(np.sum(np.log(_slope(values, point, "lambda_whitened", 4, log=True))))
        jacobian -= design.panel.n_groups * np.log(sd_lambda)
        jacobian += float(np.log(_slope(values, point, "log_lambda_whitened", 5)))
        assert float(logp_w(point)) == pytest.approx(
            float(logp_p(other)) + jacobian, rel=1e-10, abs=1e-8
        )


def test_hurdle_extensive_intercepts_are_whitened() -> None:
    sim = simulate("paper", seed=3, n_workers=100, n_periods=6)
    design = make_design(bc.load_spec("hurdle_earnings"), sim.frame)
    free = {v.name for v in build_model(design).free_RVs}
    assert "ext_alpha_whitened" in free and "ext_alpha_offset" not in free
    plain = build_model(design, BuildOptions(whitened=False))
    assert "ext_alpha_offset" in {v.name for v in plain.free_RVs}


@pytest.mark.slow
def test_both_parameterisations_give_the_same_posterior() -> None:
    frame = _frame(n_workers=300, n_periods=10)
    kw: dict[str, Any] = {"draws": 400, "tune": 400, "chains": 2, "random_seed": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        whitened = bc.CredentialModel(BINARY).fit(frame, progressbar=False, **kw)
        design = make_design(BINARY, frame)
        plain_model = build_model(design, BuildOptions(whitened=False))
        plain = run_sampler(
            plain_model,
            design,
            sampler="nutpie",
            progressbar=False,
            target_accept=0.95,
            **kw,
        )
    a, b = whitened.posterior, plain["posterior"].to_dataset()
    for name in ("mu_beta", "mu_alpha", "sigma_alpha", "gamma", "sigma_tau"):
        x = a[name].stack(s=("chain", "draw")).values
        y = b[name].stack(s=("chain", "draw")).values
        se = np.sqrt(x.var(axis=-1) / 200 + y.var(axis=-1) / 200)  # ESS of at least 200 each
        assert np.all(np.abs(x.mean(axis=-1) - y.mean(axis=-1)) < 4 * se), name
    assert "alpha_offset" in a and "alpha_whitened" not in a
