"""The pilot estimates and the whitened group parameters they shape.

* The least-squares pilot (:mod:`bayescred.model.pilot`) recovers each group's effect and decay
  on a simulated panel within a few of its own standard errors, and gives precision 0 to a
  group the data cannot inform.
* Writing the group values through their conditional posterior
  (:func:`bayescred.model.pooling.whitened_group_values`) leaves the model's density unchanged: at
  any point, the whitened model's log density equals the non-centred model's at the same group
  values plus the log Jacobian of the change of coordinates, exactly.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

import bayescred as bc
from bayescred.data.simulate import SimulatedPanel, simulate
from bayescred.model.build import build_model, build_prior_model
from bayescred.model.design import ModelDesign
from bayescred.model.make import make_design
from bayescred.model.pilot import PilotEstimates, pilot_estimates
from bayescred.model.predictor import BuildOptions
from bayescred.spec import PriorSpec

#: The sampler's (whitened) model with its likelihood as a graph over the rows.
GRAPH = BuildOptions(kernel=False)


@pytest.fixture(scope="module")
def sim() -> SimulatedPanel:
    """Paper preset, 1,500 workers x 16 periods."""
    return simulate("paper", seed=3, n_workers=1500, n_periods=16)


def test_pilot_recovers_the_group_effects(sim: SimulatedPanel) -> None:
    design = make_design(bc.ModelSpec(), sim.frame)
    pilot = pilot_estimates(design)
    labels = [str(g) for g in design.panel.group_labels]
    truth = {g.name: g for g in sim.settings.groups}
    beta = np.array([truth[g].beta for g in labels])
    log_lambda = np.log([truth[g].shape for g in labels])
    for name, true in (("mu_beta", beta), ("log_lambda", log_lambda)):
        centre, precision = pilot.get(name, len(labels))
        assert np.all(precision > 0)
        z = (centre - true) * np.sqrt(precision)
        assert np.all(np.abs(z) < 4.0), (name, centre, true, 1 / np.sqrt(precision))


def test_a_group_without_credential_changes_gets_no_information(sim: SimulatedPanel) -> None:
    frame = sim.frame.copy()
    in_a = frame["group"] == "A"
    # every worker of group A holds the same count in every period: nothing identifies A
    frame.loc[in_a, "credentials"] = 2
    design = make_design(bc.ModelSpec(), frame)
    pilot = pilot_estimates(design)
    a = list(design.panel.group_labels).index("A")
    for name in ("mu_beta", "log_lambda"):
        _, precision = pilot.get(name, design.panel.n_groups)
        assert precision[a] == 0.0
    # the other groups' effects are still informed (a decay may sit at its bound: precision 0)
    assert np.all(np.delete(pilot.get("mu_beta", design.panel.n_groups)[1], a) > 0)


def whitened_mean(
    prior: PriorSpec, mu_name: str, sd: float, centre: np.ndarray, q: np.ndarray, u: float
) -> tuple[float, float]:
    """``mu`` at ``point`` and the spread ``S`` of its coordinate, by brute force: the
    conditional posterior of ``mu`` given ``sd`` in the joint Gaussian model ``mu ~ N(m0, s0)``,
    ``b[g] ~ N(mu, sd)``, ``centre[g] ~ N(b[g], 1 / q[g])``, from its dense precision matrix."""
    m0, s0 = float(prior.mu or 0.0), float(prior.sigma or 1.0)
    G = len(centre)
    # unknowns (mu, b_1..b_G); pseudo-observations centre with precisions q
    P = np.zeros((G + 1, G + 1))
    P[0, 0] = 1.0 / s0**2 + G / sd**2
    P[0, 1:] = P[1:, 0] = -1.0 / sd**2
    P[1:, 1:] = np.diag(1.0 / sd**2 + q)
    rhs = np.concatenate([[m0 / s0**2], q * centre])
    cov = np.linalg.inv(P)
    mean = cov @ rhs
    spread = float(np.sqrt(cov[0, 0]))
    return float(mean[0] + spread * u), spread


def assert_same_density(
    whitened: pm.Model, plain: pm.Model, pilot: PilotEstimates, design: ModelDesign, jitter: float
) -> None:
    """At random points, the whitened model's log density equals the non-centred model's at
    the same group values plus the log Jacobian of the change of coordinates."""
    logp_w = whitened.compile_logp()
    logp_p = plain.compile_logp()
    rng = np.random.default_rng(0)
    start = whitened.initial_point()
    for _ in range(3):
        point = {k: v + rng.normal(0.0, jitter, np.shape(v)) for k, v in start.items()}
        other = {k: v for k, v in point.items() if not k.endswith("_whitened")}
        jacobian = 0.0
        for name, mu_name, sd_name in (
            ("beta", "mu_beta", "sigma_beta_log__"),
            ("lambda", "log_lambda", "sigma_log_lambda_log__"),
        ):
            sd = np.exp(point[sd_name])
            centre, q = pilot.get(mu_name, design.panel.n_groups)
            u = float(point[f"{mu_name}_whitened"])
            mu, spread = whitened_mean(design.priors[mu_name], mu_name, sd, centre, q, u)
            other[mu_name] = mu
            jacobian += float(np.log(spread))
            v = 1.0 / np.sqrt(1.0 / sd**2 + q)
            m = v**2 * (mu / sd**2 + q * centre)
            other[f"{name}_offset"] = (m + v * point[f"{name}_whitened"] - mu) / sd
            jacobian += float(np.sum(np.log(v / sd)))
        assert float(logp_w(point)) == pytest.approx(
            float(logp_p(other)) + jacobian, rel=1e-10, abs=1e-8
        )


def test_whitening_changes_coordinates_not_the_density(sim: SimulatedPanel) -> None:
    design = make_design(bc.ModelSpec(), sim.frame)
    whitened = build_model(design, GRAPH)
    plain = build_prior_model(design)
    assert {"beta_whitened", "lambda_whitened"} <= {v.name for v in whitened.free_RVs}
    assert {"beta_offset", "lambda_offset"} <= {v.name for v in plain.free_RVs}
    assert_same_density(whitened, plain, pilot_estimates(design), design, 0.5)


def _binary_frame(sim: SimulatedPanel, beta: dict[str, float], lam: float) -> object:
    """``any`` drawn from a logit model with worker intercepts and a geometric curve."""
    from scipy.special import expit

    from bayescred.maths.curves import credential_curve

    rng = np.random.default_rng(7)
    frame = sim.frame.copy()
    codes = frame["worker_id"].astype("category").cat.codes.to_numpy()
    alpha = rng.normal(0.3, 1.0, codes.max() + 1)[codes]
    s = credential_curve(np, "geometric", frame["credentials"].to_numpy(float), lam)
    eta = alpha + frame["group"].map(beta).to_numpy(float) * s
    frame["any"] = (rng.random(len(frame)) < expit(eta)).astype(float)
    return frame


BINARY = bc.ModelSpec(
    outcome={"column": "any", "likelihood": "bernoulli"},
    effect={"modifier": "none"},
    period_effects=False,
)


def test_bernoulli_pilot_is_on_the_logit_scale(sim: SimulatedPanel) -> None:
    """The linear-probability pilot moved to log-odds lands near each group's true logit
    effect (an approximation: within a third of it or three of its own standard errors),
    where the unscaled probability-scale estimates are several times too small."""
    from bayescred.model.families import get_family

    beta = {"A": 0.4, "B": 0.6, "C": 0.3, "D": 0.9}
    design = make_design(BINARY, _binary_frame(sim, beta, 0.5))
    labels = [str(g) for g in design.panel.group_labels]
    true = np.array([beta[g] for g in labels])
    centre, precision = get_family("bernoulli").pilot(design).get("mu_beta", len(labels))
    assert np.all(precision > 0)
    se = 1.0 / np.sqrt(precision)
    assert np.all(np.abs(centre - true) < np.maximum(true / 3.0, 3.0 * se)), (centre, true, se)
    raw, _ = pilot_estimates(design).get("mu_beta", len(labels))
    assert np.all(raw < true / 3.0)


def test_a_student_t_population_prior_keeps_its_density(sim: SimulatedPanel) -> None:
    """``mu`` is whitened with the Student t's location and scale; the density keeps the
    Student t (its tails), exactly."""
    spec = bc.ModelSpec(priors={"mu_beta": {"dist": "student_t", "nu": 3, "mu": 0.1, "sigma": 0.2}})
    design = make_design(spec, sim.frame)
    whitened = build_model(design, GRAPH)
    assert "mu_beta_whitened" in {v.name for v in whitened.free_RVs}
    assert_same_density(whitened, build_prior_model(design), pilot_estimates(design), design, 0.5)


def test_a_population_prior_off_the_real_line_is_not_whitened(sim: SimulatedPanel) -> None:
    spec = bc.ModelSpec(priors={"mu_beta": {"dist": "lognormal", "mu": -2.0, "sigma": 1.0}})
    model = build_model(make_design(spec, sim.frame), GRAPH)
    free = {v.name for v in model.free_RVs}
    assert "mu_beta" in free and "mu_beta_whitened" not in free
    assert {"beta_whitened", "log_lambda_whitened"} <= free
