"""The negative-binomial likelihood: overdispersed project counts, log link.

``y ~ NegBin(mu = exp(eta), phi)`` with variance ``mu + mu^2 / phi``; ``phi ~ Gamma(2, 0.5)``
by default (mean 4, most mass between 0.5 and 10).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy.special import gammaln

from bayescred.model.families.base import DrawParameters, Part
from bayescred.model.families.poisson import Poisson
from bayescred.model.predictor import OUTCOME_VAR
from bayescred.model.priors import prior_distribution
from bayescred.spec import ModelSpec, PriorSpec


def nb_logpmf(y: np.ndarray, eta: np.ndarray, phi: float) -> np.ndarray:
    """``log NegBin(y; exp(eta), phi)``, written on the log scale so large ``|eta|`` stays
    finite."""
    log_total = np.logaddexp(np.log(phi), eta)  # log(phi + mu)
    return np.asarray(
        gammaln(y + phi)
        - gammaln(phi)
        - gammaln(y + 1.0)
        + phi * (np.log(phi) - log_total)
        + y * (eta - log_total)
    )


class NegativeBinomial(Poisson):
    """Counts with variance ``mu + mu^2 / phi``."""

    name: ClassVar[str] = "negative_binomial"
    parameters: ClassVar[tuple[str, ...]] = ("phi",)
    descriptions: ClassVar[Mapping[str, str]] = {
        "phi": "negative-binomial dispersion (variance mu + mu^2 / phi)"
    }

    def default_priors(
        self, spec: ModelSpec, *, y_mean: float, y_sd: float, covariate_sds: np.ndarray
    ) -> dict[str, PriorSpec]:
        priors = super().default_priors(spec, y_mean=y_mean, y_sd=y_sd, covariate_sds=covariate_sds)
        priors["phi"] = PriorSpec(dist="gamma", alpha=2.0, beta=0.5)
        return priors

    def observe(self, part: Part, eta: Any, y: Any) -> None:
        n = part.naming
        phi = prior_distribution(n("phi"), part.design.priors["phi"])
        pm.NegativeBinomial(n(OUTCOME_VAR), mu=pt.exp(eta), alpha=phi, observed=y, dims=n.obs)

    def draw(self, eta: np.ndarray, params: DrawParameters, rng: np.random.Generator) -> np.ndarray:
        mu = np.exp(eta)
        phi = float(params["phi"])  # variance mu + mu^2 / phi
        return rng.negative_binomial(phi, phi / (phi + mu)).astype(float)

    def row_logpdf(self, y: np.ndarray, eta: np.ndarray, params: DrawParameters) -> np.ndarray:
        return nb_logpmf(y, eta, float(params["phi"]))
