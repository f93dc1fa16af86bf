"""The pilot estimates and the whitened group parameters they shape.

* The least-squares pilot (:mod:`bayescred.model.pilot`) recovers each group's effect and decay
  on a simulated panel within a few of its own standard errors, and gives precision 0 to a
  group the data cannot inform.
* Writing the group values through their conditional posterior
  (:func:`bayescred.model.terms.whitened_group_values`) leaves the model's density unchanged: at
  any point, the whitened model's log density equals the non-centred model's at the same group
  values plus the log Jacobian of the change of coordinates, exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import bayescred as bc
from bayescred.data.simulate import SimulatedPanel, simulate
from bayescred.model.build import build_model, build_prior_model
from bayescred.model.gaussian_kernel import graph_likelihood
from bayescred.model.make import make_design
from bayescred.model.pilot import pilot_estimates


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


def test_whitening_changes_coordinates_not_the_density(sim: SimulatedPanel) -> None:
    design = make_design(bc.ModelSpec(), sim.frame)
    with graph_likelihood():
        whitened = build_model(design)
    plain = build_prior_model(design)
    assert {"beta_whitened", "lambda_whitened"} <= {v.name for v in whitened.free_RVs}
    assert {"beta_offset", "lambda_offset"} <= {v.name for v in plain.free_RVs}
    pilot = pilot_estimates(design)
    logp_w = whitened.compile_logp()
    logp_p = plain.compile_logp()
    rng = np.random.default_rng(0)
    start = whitened.initial_point()
    for _ in range(4):
        point = {k: v + rng.normal(0.0, 0.5, np.shape(v)) for k, v in start.items()}
        other = {k: v for k, v in point.items() if not k.endswith("_whitened")}
        jacobian = 0.0
        for name, mu_name, sd_name in (
            ("beta", "mu_beta", "sigma_beta_log__"),
            ("lambda", "log_lambda", "sigma_log_lambda_log__"),
        ):
            mu = point[mu_name]
            sd = np.exp(point[sd_name])
            centre, q = pilot.get(mu_name, design.panel.n_groups)
            v = 1.0 / np.sqrt(1.0 / sd**2 + q)
            m = v**2 * (mu / sd**2 + q * centre)
            b = m + v * point[f"{name}_whitened"]
            other[f"{name}_offset"] = (b - mu) / sd
            jacobian += float(np.sum(np.log(v / sd)))
        assert float(logp_w(point)) == pytest.approx(
            float(logp_p(other)) + jacobian, rel=1e-10, abs=1e-8
        )
