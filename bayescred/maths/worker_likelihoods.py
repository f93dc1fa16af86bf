"""Gaussian likelihoods with the worker intercepts integrated out in closed form.

For worker ``i`` with ``T_i`` rows, residuals ``d_it = y_it - m_it`` (``m`` the linear predictor
without the worker intercept) and within-worker sum of squares
``SSW_i = sum_t (d_it - mean_t d_it)^2``:

``within`` (flat prior on ``alpha_i``)::

    log p_i = -(T_i - 1)/2 log(2 pi sigma^2) - 1/2 log T_i - SSW_i / (2 sigma^2)

the likelihood of the within-worker deviations, ``sum(T_i - 1)`` degrees of freedom.

``random`` (``alpha_i ~ Normal(mu_i, sigma_alpha)``): ``y_i ~ MVN(mu_i + m_i, sigma^2 I +
sigma_alpha^2 1 1')``. By the matrix determinant lemma and Sherman-Morrison, with
``e_i = d_i - mu_i`` and ``ebar_i`` its mean::

    log p_i = -T_i/2 log(2 pi) - (T_i - 1)/2 log sigma^2 - 1/2 log(sigma^2 + T_i sigma_alpha^2)
              - SSW_i / (2 sigma^2) - T_i ebar_i^2 / (2 (sigma^2 + T_i sigma_alpha^2))

Both are O(rows) and need no per-worker parameters. Every function takes ``xp`` (``numpy`` or
``pytensor.tensor``) so the sampler and the tests evaluate the same expression.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LOG_2PI = float(np.log(2.0 * np.pi))


def segment_sum(xp: Any, values: Any, codes: Any, n_segments: int) -> Any:
    """Sum ``values`` within each segment ``codes`` (ints in ``[0, n_segments)``)."""
    if xp is np:
        return np.bincount(codes, weights=values, minlength=n_segments)
    return xp.zeros(n_segments, dtype=values.dtype)[codes].inc(values)


def worker_sums(xp: Any, d: Any, codes: Any, counts: Any) -> tuple[Any, Any]:
    """Per-worker mean of ``d`` and within-worker sum of squares (two-pass, stable)."""
    n = counts.shape[0]
    mean = segment_sum(xp, d, codes, n) / counts
    dev = d - mean[codes]
    ssw = segment_sum(xp, dev**2, codes, n)
    return mean, ssw


def within_loglik(xp: Any, d: Any, codes: Any, counts: Any, sigma: Any) -> Any:
    """Per-worker log-likelihood with flat-prior worker intercepts integrated out.

    Parameters
    ----------
    d
        Residuals ``y - m`` per row.
    codes
        Worker code per row.
    counts
        Rows per worker ``T_i`` (float array).
    sigma
        Residual sd.
    """
    _, ssw = worker_sums(xp, d, codes, counts)
    log_s2 = 2.0 * xp.log(sigma)
    return -0.5 * (counts - 1.0) * (LOG_2PI + log_s2) - 0.5 * xp.log(counts) - 0.5 * ssw / sigma**2


def random_loglik(
    xp: Any, d: Any, codes: Any, counts: Any, sigma: Any, sigma_alpha: Any, mu_alpha: Any
) -> Any:
    """Per-worker log-likelihood with Normal(mu_alpha, sigma_alpha) intercepts integrated out.

    ``mu_alpha`` is a scalar or a per-worker array (the correlated/Mundlak mean).
    """
    mean, ssw = worker_sums(xp, d, codes, counts)
    s2 = sigma**2
    v = s2 + counts * sigma_alpha**2
    ebar = mean - mu_alpha
    return (
        -0.5 * counts * LOG_2PI
        - 0.5 * (counts - 1.0) * xp.log(s2)
        - 0.5 * xp.log(v)
        - 0.5 * ssw / s2
        - 0.5 * counts * ebar**2 / v
    )


def random_intercept_posterior(
    d: np.ndarray,
    codes: np.ndarray,
    counts: np.ndarray,
    sigma: np.ndarray,
    sigma_alpha: np.ndarray | None,
    mu_alpha: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Conditional posterior mean and sd of each worker intercept given the other parameters.

    With ``sigma_alpha = None`` the prior is flat (``within``): mean ``dbar_i``, sd
    ``sigma / sqrt(T_i)``. Used to draw intercepts for posterior predictive checks.
    """
    n = counts.shape[0]
    dbar = np.bincount(codes, weights=d, minlength=n) / counts
    if sigma_alpha is None:
        return dbar, sigma / np.sqrt(counts)
    prec = counts / sigma**2 + 1.0 / sigma_alpha**2
    mean = (counts * dbar / sigma**2 + mu_alpha / sigma_alpha**2) / prec
    return mean, 1.0 / np.sqrt(prec)


def flat_intercept_moments(
    dbar: np.ndarray, counts: np.ndarray, sigma: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd across workers of flat-prior (``within``) worker intercepts, by moments.

    A worker's mean residual ``dbar_i`` is its intercept plus noise of variance
    ``sigma^2 / T_i``, so the intercepts' variance is that of ``dbar`` less the noise's mean
    (at least 0). Workers count equally (a new worker drawn from the workers observed).

    Parameters
    ----------
    dbar
        Mean residual per worker ``(..., workers)`` (leading draw dims allowed).
    counts
        Rows per worker ``T_i`` ``(workers,)``.
    sigma
        Residual sd, ``(...)`` matching ``dbar``'s leading dims.
    """
    dbar = np.asarray(dbar, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    noise = sigma**2 * np.mean(1.0 / np.asarray(counts, dtype=float))
    var = np.var(dbar, axis=-1) - noise
    return np.mean(dbar, axis=-1), np.sqrt(np.maximum(var, 0.0))
