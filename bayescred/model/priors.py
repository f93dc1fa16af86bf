"""Default priors of the linear predictor, and their PyMC distributions.

Precedence: a prior written in the spec wins; otherwise the family's default is used
(:meth:`bayescred.model.families.base.Family.default_priors`), built here on the scale the
family gives: the outcome's sd for Gaussian outcomes (so the defaults are weakly informative
on the scale of the standardised data), a unit scale on a link scale (log, logit). The
resolved priors are stored with every fit.

A prior's parameters enter the PyMC model as entries of one float64 shared vector per model
(:data:`PRIOR_PARAMETERS`, :func:`prior_parameter`), not as constants: the defaults depend on
the data (the outcome's mean and sd, the covariates' sds), and a compiled model is reused for
new data of the same shape only when nothing data-dependent is baked into its graph (see
:mod:`bayescred.inference.compiled`). The vector is not registered as model data, so it appears
in neither ``model.to_graphviz()`` nor a fit's ``constant_data``. (As constants, parameters
that float32 represents exactly, such as ``sigma = 10``, were float32 and the prior's
normalising constant was computed in float32; it is now float64 throughout, which moves the
log density by a constant of the order of 1e-7 and its gradient only by rounding.)
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor
from pytensor.compile.sharedvalue import SharedVariable

from bayescred.spec import PriorSpec
from bayescred.terms import Covariates, CredentialTerm, EventTimeCredentialTerm, PeriodEffects, Term
from bayescred.terms.credential import EffectSpec
from bayescred.terms.credential_types import CredentialTypesSpec, TypedCredentialTerm
from bayescred.terms.dynamics import DynamicsSpec


def linear_predictor_priors(
    *,
    scale: float,
    intercept_mean: float,
    intercept_sd: float,
    covariate_sds: np.ndarray,
    dynamics: DynamicsSpec | None = None,
    credential_types: CredentialTypesSpec | None = None,
) -> dict[str, PriorSpec]:
    """Default priors of a linear predictor's parameters on a predictor scale ``scale``.

    Each term's own defaults (:meth:`bayescred.terms.base.Term.default_priors`: for example
    ``mu_beta ~ N(0, 0.5 s)``, ``sigma_beta ~ HalfNormal(0.25 s)``, ``sigma_tau ~
    HalfNormal(0.5 s)``, ``delta`` such that one sd of a covariate moves the predictor by at
    most a few ``s``), for every term a part can have, and the worker intercepts':
    ``mu_alpha ~ N(intercept_mean, intercept_sd)``, ``sigma_alpha ~ HalfNormal(s)``,
    ``psi ~ N(0, s)``. With ``dynamics`` the event-time term's own priors follow (a static
    spec's stored priors are unchanged).
    """
    s = float(scale)
    sds = np.asarray(covariate_sds)

    def defaults(term: Term) -> dict[str, PriorSpec]:
        own = term.default_priors(scale=s, covariate_sds=sds)
        return {name: PriorSpec(**values) for name, values in own.items()}

    # the stored priors keep their order: the credential term's, the intercepts', the others'
    priors = defaults(CredentialTerm(EffectSpec()))
    priors["mu_alpha"] = PriorSpec(
        dist="normal", mu=float(intercept_mean), sigma=float(intercept_sd)
    )
    priors["sigma_alpha"] = PriorSpec(dist="half_normal", sigma=1.0 * s)
    priors["psi"] = PriorSpec(dist="normal", mu=0.0, sigma=1.0 * s)
    for term in (PeriodEffects(), Covariates()):
        priors.update(defaults(term))
    if dynamics is not None:
        for name, value in defaults(EventTimeCredentialTerm(EffectSpec(), dynamics)).items():
            priors.setdefault(name, value)
    if credential_types is not None:
        typed = TypedCredentialTerm(EffectSpec(), credential_types)
        for name, value in defaults(typed).items():
            priors.setdefault(name, value)
    return priors


#: Name of the shared vector holding the prior parameters of a model.
PRIOR_PARAMETERS = "prior_parameters"

_TABLES: weakref.WeakKeyDictionary[pm.Model, tuple[SharedVariable, list[str]]] = (
    weakref.WeakKeyDictionary()
)


def prior_parameter(variable: str, parameter: str, value: float) -> Any:
    """A prior's parameter: one entry of the model's shared vector :data:`PRIOR_PARAMETERS`.

    The entry is named ``{variable}.{parameter}`` (:func:`prior_parameter_names`). Its value can
    change without rebuilding or recompiling the model, and the log density is the same
    function of it as of a constant. One vector rather than a shared scalar per parameter:
    every shared variable is an argument of the compiled log density, and numba's compile
    time grows with their number.
    """
    model = pm.modelcontext(None)
    table = _TABLES.get(model)
    if table is None:
        vector = pytensor.shared(np.zeros(0), name=PRIOR_PARAMETERS)
        assert isinstance(vector, SharedVariable)
        table = (vector, [])
        _TABLES[model] = table
    vector, names = table
    vector.set_value(np.append(vector.get_value(), float(value)))
    names.append(f"{variable}.{parameter}")
    entries: Any = vector  # a shared tensor (the stubs know only SharedVariable)
    return entries[len(names) - 1]


def prior_parameter_names(model: pm.Model) -> list[str]:
    """The names of the entries of ``model``'s prior-parameter vector, in order."""
    table = _TABLES.get(model)
    return [] if table is None else list(table[1])


#: The PyMC distribution of each prior name (its parameters have the same names as the spec's).
DISTRIBUTIONS: dict[str, Any] = {
    "normal": pm.Normal,
    "half_normal": pm.HalfNormal,
    "student_t": pm.StudentT,
    "half_student_t": pm.HalfStudentT,
    "lognormal": pm.LogNormal,
    "exponential": pm.Exponential,
    "gamma": pm.Gamma,
}


def _shared_parameters(name: str, prior: PriorSpec) -> dict[str, Any]:
    return {k: prior_parameter(name, k, v) for k, v in prior.parameters().items()}


def prior_distribution(name: str, prior: PriorSpec, **kwargs: Any) -> Any:
    """Create the PyMC random variable ``name`` with the given prior inside the model context.

    The prior's parameters are shared variables (:func:`prior_parameter`).
    """
    return DISTRIBUTIONS[prior.dist](name, **_shared_parameters(name, prior), **kwargs)


#: Priors on the whole real line, with a location ``mu`` and a scale ``sigma``.
LOCATION_SCALE_PRIORS: tuple[str, ...] = ("normal", "student_t")


@dataclass(frozen=True)
class SharedPrior:
    """A prior whose parameters are entries of the model's shared vector
    (:func:`prior_parameter`), for a variable the model writes as a transformation of other
    coordinates rather than as a PyMC random variable (see
    :func:`bayescred.model.pooling.whitened_population`)."""

    dist: str
    parameters: dict[str, Any]

    def log_density(self, value: Any) -> Any:
        """The prior's log density at ``value`` (a tensor)."""
        return pm.logp(DISTRIBUTIONS[self.dist].dist(**self.parameters), value)

    def location_scale(self) -> tuple[Any, Any] | None:
        """``(location, scale)`` of a prior on the whole real line (normal, Student t), else
        ``None``."""
        if self.dist in LOCATION_SCALE_PRIORS:
            return self.parameters["mu"], self.parameters["sigma"]
        return None


def shared_prior(name: str, prior: PriorSpec) -> SharedPrior:
    """The prior of variable ``name`` with the entries :func:`prior_distribution` would give
    it (same names, so a compiled model serves new priors and data alike)."""
    return SharedPrior(prior.dist, _shared_parameters(name, prior))
