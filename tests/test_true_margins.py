"""The simulator's exact count margins against brute force: a large Monte Carlo draw from the
same distribution (tolerance from its standard error), the Poisson limit of the negative
binomial, the small-mean limit, and the simulator's own counts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bayescred.data.presets import paper_preset
from bayescred.data.simulate import simulate
from bayescred.data.true_margins import (
    count_means,
    log_mean_positive,
    log_prob_positive,
    mean_log_positive,
    next_count_changes,
    next_effects,
)
from bayescred.maths.curves import credential_curve

N_DRAWS = 2_000_000
CASES = [
    ("negative_binomial", 2.0, 0.3),
    ("negative_binomial", 2.0, 2.0),
    ("negative_binomial", 0.7, 9.0),
    ("negative_binomial", 0.5, 200.0),  # a long tail: the truncation matters
    ("poisson", 0.0, 0.3),
    ("poisson", 0.0, 2.0),
    ("poisson", 0.0, 40.0),
]


def draws(model: str, phi: float, mu: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if model == "poisson":
        return rng.poisson(mu, N_DRAWS)
    return rng.negative_binomial(phi, phi / (phi + mu), N_DRAWS)


@pytest.mark.parametrize(("model", "phi", "mu"), CASES)
def test_margins_agree_with_monte_carlo(model: str, phi: float, mu: float) -> None:
    n = draws(model, phi, mu, seed=int(mu * 100))
    positive = n[n > 0]
    share = positive.size / n.size
    se_share = np.sqrt(share * (1 - share) / n.size)
    exact = np.exp(log_prob_positive(np.array([mu]), model, phi))[0]
    assert abs(exact - share) <= 5 * se_share + 1e-12
    mean_pos = np.exp(log_mean_positive(np.array([mu]), model, phi))[0]
    assert abs(mean_pos - positive.mean()) < 5 * positive.std() / np.sqrt(positive.size)
    logs = np.log(positive)
    exact_log = mean_log_positive(np.array([mu]), model, phi)[0]
    assert abs(exact_log - logs.mean()) < 5 * logs.std() / np.sqrt(logs.size)


def test_negative_binomial_tends_to_poisson() -> None:
    """``phi -> inf``: the negative binomial's margins tend to the Poisson's, with differences
    of order ``mu^2 / phi`` (``phi = 1e6``: below 1e-4 relative or 1e-12 absolute)."""
    mu = np.array([0.05, 0.8, 3.0, 25.0])
    for f in (log_prob_positive, log_mean_positive, mean_log_positive):
        nb, pois = f(mu, "negative_binomial", 1e6), f(mu, "poisson", 0.0)
        np.testing.assert_allclose(nb, pois, rtol=1e-4, atol=1e-12)
        assert not np.array_equal(nb, pois)


def test_small_mean_limits() -> None:
    """As ``mu -> 0`` a positive count is 1, then 2 with probability ``mu / 2`` (Poisson):
    ``E[log n | n > 0] ~ log(2) mu / 2`` and ``E[n | n > 0] ~ 1 + mu / 2``."""
    mu = np.array([1e-3, 1e-4])
    np.testing.assert_allclose(mean_log_positive(mu, "poisson", 0.0), np.log(2) * mu / 2, rtol=2e-3)
    np.testing.assert_allclose(log_mean_positive(mu, "poisson", 0.0), np.log1p(mu / 2), rtol=2e-3)
    np.testing.assert_allclose(log_prob_positive(mu, "poisson", 0.0), np.log(-np.expm1(-mu)))


def test_shapes_and_bad_model() -> None:
    mu = np.full((3, 4), 1.5)
    assert mean_log_positive(mu, "poisson", 0.0).shape == (3, 4)
    with pytest.raises(ValueError, match="unknown count model"):
        log_prob_positive(mu, "binomial", 1.0)


@pytest.mark.parametrize("count_model", ["negative_binomial", "poisson"])
def test_row_margins_follow_the_simulators_counts(count_model: str) -> None:
    """The rebuilt mean counts are those the simulator drew from (the counts' standardised sum
    is small), and the margins per row add up to ``next_effect + beta_count (S(n+1) - S(n))``
    (``log E[earnings]``) exactly."""
    settings = dataclasses.replace(
        paper_preset(n_workers=2000, n_periods=10), beta_count=0.4, count_model=count_model
    )
    sim = simulate(settings, seed=3)
    f = sim.frame
    mu = count_means(sim.truth, f)
    phi = sim.truth.count_dispersion
    var = mu + (mu**2 / phi if count_model == "negative_binomial" else 0.0)
    assert abs((f["n_projects"] - mu).sum() / np.sqrt(var.sum())) < 4
    p0 = np.exp(-mu) if count_model == "poisson" else (phi / (phi + mu)) ** phi
    assert abs((f["n_projects"] == 0).sum() - p0.sum()) < 4 * np.sqrt((p0 * (1 - p0)).sum())

    truth = next_effects(sim)
    shape = sim.truth.shape[sim.truth._group_index(f["group"].to_numpy())]
    n = f["credentials"].to_numpy(float)
    d_curve = credential_curve(np, settings.curve, n + 1, shape) - credential_curve(
        np, settings.curve, n, shape
    )
    np.testing.assert_allclose(
        truth["total"], sim.next_effect + settings.beta_count * d_curve, rtol=1e-9, atol=1e-12
    )
    changes = next_count_changes(sim.truth, f)
    assert (changes["log_prob_positive"] > 0).all()  # more credentials, more projects
    np.testing.assert_allclose(
        truth["log_earnings"] - truth["log_project_value"], changes["mean_log_positive"]
    )


def test_no_count_effect_no_count_margins() -> None:
    sim = simulate(dataclasses.replace(paper_preset(n_workers=100, n_periods=5), beta_count=0.0))
    truth = next_effects(sim)
    np.testing.assert_array_equal(truth["extensive"], 0.0)
    for column in ("log_earnings", "intensive", "total"):
        np.testing.assert_allclose(truth[column], sim.next_effect, atol=1e-15)
