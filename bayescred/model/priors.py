"""Default priors, derived from the data's scale, and their PyMC distributions.

Precedence: a prior written in the spec wins; otherwise the default below is used, with the
location and scale of outcome-scale quantities multiplied by the outcome's sd (so the defaults
are weakly informative on the scale of the standardised data). The resolved priors are stored
with every fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm

from bayescred.spec import ModelSpec, PriorSpec


def default_priors(
    spec: ModelSpec, *, y_sd: float, y_mean: float, covariate_sds: np.ndarray
) -> dict[str, PriorSpec]:
    """Weakly informative priors on the data's scale (see the module docstring)."""
    s = float(y_sd) if np.isfinite(y_sd) and y_sd > 0 else 1.0
    p = PriorSpec
    priors = {
        "mu_beta": p(dist="normal", mu=0.0, sigma=0.5 * s),
        "sigma_beta": p(dist="half_normal", sigma=0.25 * s),
        "log_lambda": p(dist="normal", mu=float(np.log(0.2)), sigma=0.75),
        "sigma_log_lambda": p(dist="half_normal", sigma=0.3),
        "kappa": p(dist="normal", mu=0.0, sigma=0.5),
        "sigma_kappa": p(dist="half_normal", sigma=0.2),
        "gamma": p(dist="normal", mu=0.0, sigma=0.5),
        "sigma_gamma": p(dist="half_normal", sigma=0.3),
        "sigma": p(dist="half_normal", sigma=1.0 * s),
        "nu": p(dist="gamma", alpha=2.0, beta=0.1),
        "mu_alpha": p(dist="normal", mu=float(y_mean), sigma=2.0 * s),
        "sigma_alpha": p(dist="half_normal", sigma=1.0 * s),
        "psi": p(dist="normal", mu=0.0, sigma=1.0 * s),
        "sigma_tau": p(dist="half_normal", sigma=0.5 * s),
    }
    if covariate_sds.size:
        # one sd of a covariate moves the outcome by at most a few sds a priori
        scale = float(s / np.median(np.where(covariate_sds > 0, covariate_sds, 1.0)))
        priors["delta"] = p(dist="normal", mu=0.0, sigma=scale)
    return priors


def resolve_priors(spec: ModelSpec, defaults: dict[str, PriorSpec]) -> dict[str, PriorSpec]:
    """Defaults overridden by the spec's priors."""
    return {**defaults, **spec.priors}


def prior_distribution(name: str, prior: PriorSpec, **kwargs: Any) -> Any:
    """Create the PyMC random variable ``name`` with the given prior inside the model context."""
    a = prior.parameters()
    match prior.dist:
        case "normal":
            return pm.Normal(name, mu=a["mu"], sigma=a["sigma"], **kwargs)
        case "half_normal":
            return pm.HalfNormal(name, sigma=a["sigma"], **kwargs)
        case "student_t":
            return pm.StudentT(name, nu=a["nu"], mu=a["mu"], sigma=a["sigma"], **kwargs)
        case "half_student_t":
            return pm.HalfStudentT(name, nu=a["nu"], sigma=a["sigma"], **kwargs)
        case "lognormal":
            return pm.LogNormal(name, mu=a["mu"], sigma=a["sigma"], **kwargs)
        case "exponential":
            return pm.Exponential(name, lam=a["lam"], **kwargs)
        case "gamma":
            return pm.Gamma(name, alpha=a["alpha"], beta=a["beta"], **kwargs)
    raise AssertionError(f"unhandled prior {prior.dist}")  # pragma: no cover
