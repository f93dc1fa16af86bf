"""Default priors, derived from the data's scale, and their PyMC distributions.

Precedence: a prior written in the spec wins; otherwise the default below is used, with the
location and scale of outcome-scale quantities multiplied by the outcome's sd (so the defaults
are weakly informative on the scale of the standardised data). The resolved priors are stored
with every fit.

Count (``poisson``, ``negative_binomial``) and binary (``bernoulli``) likelihoods put the
predictor on the link scale (log, logit), where the outcome's sd means nothing: their defaults
use a unit scale (so ``mu_beta ~ N(0, 0.5)``, ``sigma_alpha ~ HalfNormal(1)``, ``sigma_tau ~
HalfNormal(0.5)``: a first credential multiplying the expected count by up to about e), put
``mu_alpha ~ N(m, 1)`` with ``m`` the log (counts) or logit (binary) of the outcome's mean, have
no ``sigma`` or ``nu``, and give the negative binomial's dispersion ``phi`` (variance
``mu + mu^2 / phi``) a Gamma(2, 0.5) prior: mean 4, most mass between 0.5 and 10.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm

from bayescred.spec import EXTENSIVE_PREFIX, ModelSpec, PriorSpec

#: Likelihoods whose predictor is on a link scale (log or logit): priors there have unit scale.
LINK_SCALE_LIKELIHOODS: tuple[str, ...] = ("poisson", "negative_binomial", "bernoulli")


def default_priors(
    spec: ModelSpec, *, y_sd: float, y_mean: float, covariate_sds: np.ndarray
) -> dict[str, PriorSpec]:
    """Weakly informative priors on the data's scale (see the module docstring)."""
    likelihood = spec.outcome.likelihood
    link = likelihood in LINK_SCALE_LIKELIHOODS
    if link:  # the predictor is on the link scale: unit scale, intercepts at the link of the mean
        s = 1.0
        y_mean = _link_of_mean(likelihood, y_mean)
    else:
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
        # on a link scale a sd of 2 would allow mean counts e^4 times the observed one
        "mu_alpha": p(dist="normal", mu=float(y_mean), sigma=1.0 if link else 2.0 * s),
        "sigma_alpha": p(dist="half_normal", sigma=1.0 * s),
        "psi": p(dist="normal", mu=0.0, sigma=1.0 * s),
        "sigma_tau": p(dist="half_normal", sigma=0.5 * s),
    }
    if link:
        del priors["sigma"], priors["nu"]
    if likelihood == "negative_binomial":
        priors["phi"] = p(dist="gamma", alpha=2.0, beta=0.5)
    if covariate_sds.size:
        # one sd of a covariate moves the outcome by at most a few sds a priori
        scale = float(s / np.median(np.where(covariate_sds > 0, covariate_sds, 1.0)))
        priors["delta"] = p(dist="normal", mu=0.0, sigma=scale)
    return priors


def _link_of_mean(likelihood: str, y_mean: float) -> float:
    """The outcome's mean on the link scale: log for counts, logit for binary outcomes."""
    m = float(y_mean) if np.isfinite(y_mean) else 0.5
    if likelihood == "bernoulli":
        m = min(max(m, 1e-3), 1.0 - 1e-3)
        return float(np.log(m / (1.0 - m)))
    return float(np.log(max(m, 1e-3)))


def resolve_priors(spec: ModelSpec, defaults: dict[str, PriorSpec]) -> dict[str, PriorSpec]:
    """Defaults overridden by the spec's priors."""
    return {**defaults, **spec.priors}


def hurdle_priors(
    spec: ModelSpec,
    *,
    log_amount_mean: float,
    log_amount_sd: float,
    share_positive: float,
    covariate_sds: np.ndarray,
) -> dict[str, PriorSpec]:
    """Resolved priors of a hurdle model: the amount part's under the plain names, the
    extensive part's with the ``ext_`` prefix.

    The amount part is a normal model of the log amount (defaults on its scale, ``[priors]``
    overrides them); the extensive part a Bernoulli model of "any amount" (unit logit scale,
    ``mu_alpha`` at the logit of the share of positive rows; ``[extensive.priors]`` overrides).
    """
    from bayescred.model.hurdle import part_spec

    amount, anything = part_spec(spec, "intensive"), part_spec(spec, "extensive")
    intensive = resolve_priors(
        amount,
        default_priors(
            amount, y_sd=log_amount_sd, y_mean=log_amount_mean, covariate_sds=covariate_sds
        ),
    )
    extensive = {
        **default_priors(anything, y_sd=1.0, y_mean=share_positive, covariate_sds=covariate_sds),
        **spec.extensive_effect.priors,
    }
    return {**intensive, **{EXTENSIVE_PREFIX + k: v for k, v in extensive.items()}}


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
