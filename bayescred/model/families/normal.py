"""The normal likelihood: real outcomes such as log project value or log earnings.

``y = eta + e``, ``e ~ Normal(0, sigma)``. With ``within``, ``random`` or ``correlated`` worker
effects the intercepts are integrated out in closed form
(:mod:`bayescred.maths.worker_likelihoods`): the model holds the per-worker log-likelihood as
a deterministic and adds its sum as a potential, with no per-worker parameter. With ``none``
the outcome is observed given ``mu_alpha``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayescred.maths.worker_likelihoods import LOG_2PI, random_loglik, within_loglik
from bayescred.model.design import ModelDesign
from bayescred.model.families.base import DrawParameters, Family, Part
from bayescred.model.gaussian_kernel import kernel_loglik
from bayescred.model.intercepts import intercept_mean, latent_intercepts
from bayescred.model.pilot import PilotEstimates, pilot_estimates
from bayescred.model.predictor import (
    OUTCOME_VAR,
    SAMPLER_FORM,
    WORKER_LOGLIK,
    BuildOptions,
    Predictor,
)
from bayescred.model.priors import linear_predictor_priors, prior_distribution
from bayescred.spec import ModelSpec, PriorSpec

#: Name of the rows-per-worker data of the closed-form likelihoods (data, not a constant, so
#: that a compiled model can be reused for a new panel of the same shape).
PERIODS_PER_WORKER = "periods_per_worker"
#: Worker effects whose intercepts the Gaussian likelihood integrates out in closed form.
CLOSED_FORM_EFFECTS: tuple[str, ...] = ("within", "random", "correlated")


class Normal(Family):
    """Normal outcomes; worker intercepts integrated out in closed form where possible."""

    name: ClassVar[str] = "normal"
    additive: ClassVar[bool] = True
    parameters: ClassVar[tuple[str, ...]] = ("sigma",)
    descriptions: ClassVar[Mapping[str, str]] = {"sigma": "residual sd"}

    def closed_form(self, worker_effects: str) -> bool:
        return worker_effects in CLOSED_FORM_EFFECTS

    def pilot(self, design: ModelDesign) -> PilotEstimates | None:
        """Least-squares estimates on the within-worker rows (the Gaussian likelihood's own
        criterion), :func:`bayescred.model.pilot.pilot_estimates`."""
        return pilot_estimates(design)

    def default_priors(
        self, spec: ModelSpec, *, y_mean: float, y_sd: float, covariate_sds: np.ndarray
    ) -> dict[str, PriorSpec]:
        """Priors scaled by the outcome's sd ``s``: ``mu_alpha ~ N(mean, 2 s)``,
        ``sigma ~ HalfNormal(s)`` and the linear predictor's defaults on scale ``s``; also the
        Student-t's ``nu ~ Gamma(2, 0.1)`` (mean 20), so that the stored priors of a fit with
        Gaussian noise hold both noise models' (as they always have)."""
        s = float(y_sd) if np.isfinite(y_sd) and y_sd > 0 else 1.0
        priors = linear_predictor_priors(
            scale=s,
            intercept_mean=y_mean,
            intercept_sd=2.0 * s,
            covariate_sds=covariate_sds,
            dynamics=spec.dynamics,
            credential_types=spec.credential_types,
        )
        priors["sigma"] = PriorSpec(dist="half_normal", sigma=1.0 * s)
        priors["nu"] = PriorSpec(dist="gamma", alpha=2.0, beta=0.1)
        return priors

    def add_likelihood(
        self, part: Part, predictor: Predictor, options: BuildOptions = SAMPLER_FORM
    ) -> None:
        design, n = part.design, part.naming
        data, mean = predictor.data, predictor.mean
        effects = design.spec.worker_effects
        sigma = prior_distribution(n("sigma"), design.priors["sigma"])
        if not self.closed_form(effects):
            eta = latent_intercepts(design, data, mean, n)
            self.observe(part, eta, data["y"], sigma)
            return
        counts = pm.Data(
            n(PERIODS_PER_WORKER), design.panel.periods_per_worker().astype(float), dims=n.worker
        )
        d = data["y"] - mean
        mu_alpha = sigma_alpha = None
        if effects == "within":
            ll = within_loglik(pt, d, data["worker_idx"], counts, sigma)
        else:
            mu_alpha = intercept_mean(design, n)
            sigma_alpha = prior_distribution(n("sigma_alpha"), design.priors["sigma_alpha"])
            ll = random_loglik(pt, d, data["worker_idx"], counts, sigma, sigma_alpha, mu_alpha)
        # per worker (for LOO and checks, computed after sampling): the graph over the rows
        worker_ll = pm.Deterministic(n(WORKER_LOGLIK), ll, dims=n.worker)
        if options.kernel:
            # the sampled log density: the same number from every term's small tables and one
            # fused loop (about 10 times cheaper per row with its gradient; model.gaussian_kernel)
            total = kernel_loglik(
                design,
                predictor.terms,
                prefix=n.prefix,
                sigma=sigma,
                counts=counts,
                sigma_alpha=sigma_alpha,
                mu_alpha=mu_alpha,
            )
        else:
            total = worker_ll.sum()
        pm.Potential(n("worker_likelihood"), total)

    def observe(self, part: Part, eta: Any, y: Any, sigma: Any) -> None:
        """The observed outcome given the predictor with its intercepts."""
        n = part.naming
        pm.Normal(n(OUTCOME_VAR), mu=eta, sigma=sigma, observed=y, dims=n.obs)

    def worker_loglik(
        self,
        d: np.ndarray,
        codes: np.ndarray,
        counts: np.ndarray,
        worker_effects: str,
        params: DrawParameters,
        intercept_mean: np.ndarray | float = 0.0,
    ) -> np.ndarray:
        """Closed-form per-worker log-likelihood of residuals ``d`` (intercepts integrated out)."""
        sigma = params["sigma"]
        if worker_effects == "within":
            return np.asarray(within_loglik(np, d, codes, counts, sigma))
        sa = params["sigma_alpha"]
        return np.asarray(random_loglik(np, d, codes, counts, sigma, sa, intercept_mean))

    def noise(self, params: DrawParameters, size: int, rng: np.random.Generator) -> np.ndarray:
        """Residuals of one draw."""
        sigma = float(params["sigma"])
        return sigma * rng.standard_normal(size)

    def draw(self, eta: np.ndarray, params: DrawParameters, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(eta + self.noise(params, np.size(eta), rng))

    def residual_logpdf(self, e: np.ndarray, params: DrawParameters) -> np.ndarray:
        """Log density of the residuals ``e = y - eta``."""
        sigma = float(params["sigma"])
        r = e / sigma
        return np.asarray(-0.5 * LOG_2PI - np.log(sigma) - 0.5 * r * r)

    def row_logpdf(self, y: np.ndarray, eta: np.ndarray, params: DrawParameters) -> np.ndarray:
        return self.residual_logpdf(y - eta, params)

    def log_scale(self, column: str) -> bool:
        """Effects are log changes when the outcome is a log (``log_project_value``)."""
        return column.startswith("log")

    def effect_label(self, outcome: str, column: str) -> str:
        if self.log_scale(column):
            return f"Δ {outcome}"
        return f"Δ {outcome} (outcome units)"
