"""Default priors of the linear predictor, and their PyMC distributions.

Precedence: a prior written in the spec wins; otherwise the family's default is used
(:meth:`bayescred.model.families.base.Family.default_priors`), built here on the scale the
family gives: the outcome's sd for Gaussian outcomes (so the defaults are weakly informative
on the scale of the standardised data), a unit scale on a link scale (log, logit). The
resolved priors are stored with every fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm

from bayescred.spec import PriorSpec


def linear_predictor_priors(
    *, scale: float, intercept_mean: float, intercept_sd: float, covariate_sds: np.ndarray
) -> dict[str, PriorSpec]:
    """Default priors of a linear predictor's parameters on a predictor scale ``scale``.

    ``mu_beta ~ N(0, 0.5 s)``, ``sigma_beta ~ HalfNormal(0.25 s)``, the curve and modifier
    parameters on their own (unit-free) scales, ``mu_alpha ~ N(intercept_mean, intercept_sd)``,
    ``sigma_alpha ~ HalfNormal(s)``, ``psi ~ N(0, s)``, ``sigma_tau ~ HalfNormal(0.5 s)``, and
    ``delta`` such that one sd of a covariate moves the predictor by at most a few ``s``.
    """
    s = float(scale)
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
        "mu_alpha": p(dist="normal", mu=float(intercept_mean), sigma=float(intercept_sd)),
        "sigma_alpha": p(dist="half_normal", sigma=1.0 * s),
        "psi": p(dist="normal", mu=0.0, sigma=1.0 * s),
        "sigma_tau": p(dist="half_normal", sigma=0.5 * s),
    }
    if covariate_sds.size:
        # one sd of a covariate moves the outcome by at most a few sds a priori
        cov_scale = float(s / np.median(np.where(covariate_sds > 0, covariate_sds, 1.0)))
        priors["delta"] = p(dist="normal", mu=0.0, sigma=cov_scale)
    return priors


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
