"""Closed-form worker likelihoods against brute-force computations, to 1e-8."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import integrate, stats

from bayescred.maths.worker_likelihoods import (
    random_intercept_posterior,
    random_loglik,
    within_loglik,
)


def _ragged(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(1, 9, size=12)  # includes single-period workers
    codes = np.repeat(np.arange(t.size), t)
    # residuals with large worker offsets, to expose cancellation
    d = rng.normal(0, 1.3, size=codes.size) + rng.normal(0, 5, size=t.size)[codes]
    return d, codes, t.astype(float)


def _brute_within(d: np.ndarray, sigma: float) -> float:
    """log of the integral over alpha of prod_t N(d_t | alpha, sigma), by quadrature."""
    center = d.mean()

    def log_f(a: float) -> float:
        return float(stats.norm.logpdf(d, loc=a, scale=sigma).sum())

    peak = log_f(center)
    half_width = 40 * sigma / np.sqrt(d.size)
    val, _ = integrate.quad(
        lambda a: np.exp(log_f(a) - peak),
        center - half_width,
        center + half_width,
        epsabs=0,
        epsrel=1e-13,
        limit=200,
    )
    return peak + np.log(val)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_within_matches_integral_over_flat_intercept(seed: int) -> None:
    d, codes, counts = _ragged(seed)
    sigma = float(np.random.default_rng(seed + 10).uniform(0.3, 2.0))
    closed = within_loglik(np, d, codes, counts, sigma)
    brute = np.array([_brute_within(d[codes == i], sigma) for i in range(counts.size)])
    np.testing.assert_allclose(closed, brute, rtol=0, atol=1e-8)


def test_within_sum_of_squares_is_the_ols_within_residual() -> None:
    """SSW equals the residual sum of squares of OLS on worker dummies (the within identity)."""
    d, codes, counts = _ragged(5)
    dummies = np.eye(counts.size)[codes]
    coef, *_ = np.linalg.lstsq(dummies, d, rcond=None)
    rss = np.bincount(codes, weights=(d - dummies @ coef) ** 2)
    sigma = 0.7
    ll = within_loglik(np, d, codes, counts, sigma)
    expected = (
        -0.5 * (counts - 1) * np.log(2 * np.pi * sigma**2)
        - 0.5 * np.log(counts)
        - rss / (2 * sigma**2)
    )
    np.testing.assert_allclose(ll, expected, rtol=0, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_matches_explicit_multivariate_normal(seed: int) -> None:
    d, codes, counts = _ragged(seed)
    rng = np.random.default_rng(seed + 20)
    sigma, sigma_alpha = rng.uniform(0.3, 2.0, size=2)
    mu_alpha = rng.normal(0, 3, size=counts.size)  # per-worker (correlated/Mundlak) means
    closed = random_loglik(np, d, codes, counts, sigma, sigma_alpha, mu_alpha)
    brute = []
    for i, t in enumerate(counts.astype(int)):
        cov = sigma**2 * np.eye(t) + sigma_alpha**2 * np.ones((t, t))
        brute.append(
            stats.multivariate_normal(mean=np.full(t, mu_alpha[i]), cov=cov).logpdf(d[codes == i])
        )
    np.testing.assert_allclose(closed, np.array(brute), rtol=0, atol=1e-8)


def test_random_with_scalar_mean_matches_per_worker_mean() -> None:
    d, codes, counts = _ragged(7)
    a = random_loglik(np, d, codes, counts, 0.8, 1.5, 0.3)
    b = random_loglik(np, d, codes, counts, 0.8, 1.5, np.full(counts.size, 0.3))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_pytensor_and_numpy_versions_agree() -> None:
    d, codes, counts = _ragged(3)
    dv, sv, sav, mv = pt.dvector("d"), pt.dscalar("s"), pt.dscalar("sa"), pt.dvector("m")
    f_within = pytensor.function(
        [dv, sv], within_loglik(pt, dv, pt.as_tensor(codes), pt.as_tensor(counts), sv)
    )
    f_random = pytensor.function(
        [dv, sv, sav, mv],
        random_loglik(pt, dv, pt.as_tensor(codes), pt.as_tensor(counts), sv, sav, mv),
    )
    mu = np.linspace(-1, 1, counts.size)
    np.testing.assert_allclose(
        f_within(d, 0.9), within_loglik(np, d, codes, counts, 0.9), atol=1e-10
    )
    np.testing.assert_allclose(
        f_random(d, 0.9, 1.1, mu), random_loglik(np, d, codes, counts, 0.9, 1.1, mu), atol=1e-10
    )


def test_intercept_conditional_posterior_matches_brute_force() -> None:
    """Normal-normal conjugacy: compare with the posterior computed on a dense grid."""
    d, codes, counts = _ragged(4)
    sigma, sigma_alpha, mu_alpha = 0.9, 1.7, 0.4
    mean, sd = random_intercept_posterior(
        d, codes, counts, np.float64(sigma), np.float64(sigma_alpha), mu_alpha
    )
    i = 2
    grid = np.linspace(mean[i] - 12 * sd[i], mean[i] + 12 * sd[i], 200_001)
    logp = stats.norm.logpdf(grid, mu_alpha, sigma_alpha) + stats.norm.logpdf(
        d[codes == i][:, None], grid, sigma
    ).sum(axis=0)
    w = np.exp(logp - logp.max())
    w /= w.sum()
    m = (w * grid).sum()
    np.testing.assert_allclose(m, mean[i], atol=1e-8)
    np.testing.assert_allclose(np.sqrt((w * (grid - m) ** 2).sum()), sd[i], rtol=1e-6)
    flat_mean, flat_sd = random_intercept_posterior(d, codes, counts, np.float64(sigma), None, 0.0)
    np.testing.assert_allclose(flat_mean[i], d[codes == i].mean(), atol=1e-12)
    np.testing.assert_allclose(flat_sd[i], sigma / np.sqrt(counts[i]), atol=1e-12)
