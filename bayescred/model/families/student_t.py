"""The Student-t likelihood: real outcomes with heavy tails, latent worker intercepts.

``y = eta + e``, ``e ~ StudentT(nu, 0, sigma)``; no closed form exists for the intercepts, so
they are latent and non-centred (``none``: one ``mu_alpha``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pymc as pm
from scipy.special import gammaln

from bayescred.model.families.base import DrawParameters, Part
from bayescred.model.families.normal import Normal
from bayescred.model.predictor import OUTCOME_VAR
from bayescred.model.priors import prior_distribution


class StudentT(Normal):
    """Student-t outcomes with latent worker intercepts."""

    name: ClassVar[str] = "student_t"
    parameters: ClassVar[tuple[str, ...]] = ("sigma", "nu")
    descriptions: ClassVar[Mapping[str, str]] = {
        "sigma": "residual sd",
        "nu": "Student-t degrees of freedom",
    }

    def closed_form(self, worker_effects: str) -> bool:
        return False

    def observe(self, part: Part, eta: Any, y: Any, sigma: Any) -> None:
        n = part.naming
        nu = prior_distribution(n("nu"), part.design.priors["nu"])
        pm.StudentT(n(OUTCOME_VAR), nu=nu, mu=eta, sigma=sigma, observed=y, dims=n.obs)

    def noise(self, params: DrawParameters, size: int, rng: np.random.Generator) -> np.ndarray:
        sigma = float(params["sigma"])
        return sigma * rng.standard_t(float(params["nu"]), size)

    def residual_logpdf(self, e: np.ndarray, params: DrawParameters) -> np.ndarray:
        sigma, nu = float(params["sigma"]), float(params["nu"])
        r = e / sigma
        const = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * np.pi) - np.log(sigma)
        return np.asarray(const - 0.5 * (nu + 1) * np.log1p(r * r / nu))
