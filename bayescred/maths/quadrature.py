"""Averages over a normal worker intercept by Gauss-Hermite quadrature.

A probability or mean that depends non-linearly on the predictor, for a worker drawn from the
intercepts' distribution ``Normal(level, sigma_alpha)``, is
``E[f(level + sigma_alpha * u)]`` with ``u ~ N(0, 1)``; 64 Gauss-Hermite nodes give it to
about 1e-8 (checked against ``scipy.integrate.quad`` in the tests).

Examples
--------
>>> import numpy as np
>>> from scipy.special import expit
>>> level, sa = np.zeros((1, 1)), np.array([1.0])
>>> round(float(normal_average(expit, level, sa)[0, 0]), 6)
0.5
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit

#: Gauss-Hermite nodes for averaging over a worker intercept's distribution.
QUADRATURE_NODES = 64


def normal_average(
    f: Callable[[np.ndarray], np.ndarray], level: np.ndarray, sigma_alpha: np.ndarray | None
) -> np.ndarray:
    """``E[f(level + sigma_alpha * u)]``, ``u ~ N(0, 1)``, by Gauss-Hermite quadrature.

    ``level`` is ``(draws, items)``, ``sigma_alpha`` ``(draws,)`` (None: no intercept spread,
    ``f(level)``).
    """
    if sigma_alpha is None:
        return np.asarray(f(level))
    x, w = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
    spread = np.sqrt(2.0) * sigma_alpha[:, None, None] * x  # (draws, 1, nodes)
    return np.asarray(f(level[..., None] + spread) @ (w / np.sqrt(np.pi)))


def marginal_probability(level: np.ndarray, sigma_alpha: np.ndarray | None) -> np.ndarray:
    """``E[logistic(level + sigma_alpha * u)]``: the probability of a logit model averaged over
    the intercept's spread."""
    return normal_average(expit, level, sigma_alpha)
