"""The linear predictor of one model part as PyMC variables: the sum of the design's terms.

For worker i in group g and period t (see ``docs/design.md``, section 3)::

    eta[i,t] = alpha[i] + sum_k term_k[i,t]
             = alpha[i] + beta[g] S(n[i,t]; shape[g]) M(z[i,t]; gamma[g]) + tau[t] + x[i,t] @ delta

:func:`linear_predictor` registers the part's rows as data (``pm.Data`` with named dims) and
builds each of the design's terms (:attr:`~bayescred.model.design.ModelDesign.terms`, one module
each under :mod:`bayescred.terms`) through a :class:`PartContext`; the family of the part's
likelihood then adds the worker intercepts and the likelihood (:mod:`bayescred.model.intercepts`,
:meth:`~bayescred.model.families.base.Family.add_likelihood`), from the :class:`Predictor`: its
summed mean and each built term (the Gaussian kernel takes the terms' tables from them). How the
model is written for the sampler is an explicit :class:`BuildOptions`, never module state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm

from bayescred.model.design import ModelDesign
from bayescred.model.parts import PLAIN, Naming
from bayescred.model.pilot import PilotEstimates
from bayescred.model.pooling import (
    grouped_parameter,
    pilot_data,
    pooled_variable_names,
    whitened_group_values,
)
from bayescred.model.priors import prior_distribution, prior_parameter
from bayescred.terms import BuiltTerm, Rows

#: Name of the per-worker log-likelihood deterministic (closed-form models).
WORKER_LOGLIK = "worker_loglik"
#: Name of the observed variable of the PyMC model (latent-intercept models).
OUTCOME_VAR = "outcome"
#: Name of the outcome in a fit's ``observed_data`` group, and so (as ArviZ expects) in its
#: ``log_likelihood``, ``posterior_predictive`` and ``prior_predictive`` groups.
OBSERVED_VAR = "y"


@dataclass(frozen=True)
class BuildOptions:
    """How a model is written (its density is the same whatever they are).

    Attributes
    ----------
    whitened
        Write pooled group parameters (and binary outcomes' latent intercepts) through their
        conditional posterior where the family gives pilot estimates
        (:mod:`bayescred.model.pooling`); ``False``: every one non-centred, the form PyMC draws
        prior samples from (the whitened form adds potentials).
    kernel
        Compute the Gaussian closed-form likelihood with the fused kernel
        (:mod:`bayescred.model.gaussian_kernel`); ``False``: as a PyTensor graph over the rows
        (the reference the kernel is tested against, and the JAX samplers' form).
    """

    whitened: bool = True
    kernel: bool = True


#: The model as the sampler runs it.
SAMPLER_FORM = BuildOptions()
#: The model as PyMC draws prior samples from it (non-centred, the likelihood as a graph).
PLAIN_FORM = BuildOptions(whitened=False, kernel=False)


def model_coords(design: ModelDesign, naming: Naming = PLAIN) -> dict[str, Any]:
    """Coordinates with the real labels: groups, periods, workers, covariates, terms' dims."""
    p = design.panel
    coords: dict[str, Any] = {
        "group": list(p.group_labels),
        "period": list(p.period_labels),
        naming.worker: list(p.worker_labels),
        naming.obs: np.arange(p.n_rows),
        "covariate": list(p.covariates),
    }
    for term in design.terms:
        coords.update(term.coords(naming.dim))
        coords.update(term.data_coords(naming.dim, design.rows()))
    if design.mundlak_names:
        coords["mundlak_term"] = list(design.mundlak_names)
    return coords


def register_data(design: ModelDesign, naming: Naming = PLAIN) -> dict[str, Any]:
    """The part's rows as ``pm.Data`` under its names and dims."""
    p = design.panel
    n, obs = naming, naming.obs
    return {
        "credentials": pm.Data(n("credentials"), p.credentials.astype(float), dims=obs),
        "track_record": pm.Data(n("track_record"), p.track_record, dims=obs),
        "z": pm.Data(n("track_record_z"), design.z, dims=obs),
        "group_idx": pm.Data(n("group_idx"), p.group_codes, dims=obs),
        "period_idx": pm.Data(n("period_idx"), p.period_codes, dims=obs),
        "worker_idx": pm.Data(n("worker_idx"), p.worker_codes, dims=obs),
        "X": pm.Data(n("covariates"), p.covariate_matrix, dims=(obs, "covariate")),
        "y": pm.Data(n("y"), p.y, dims=obs),
    }


@dataclass
class PartContext:
    """What a term's build gets (:class:`bayescred.terms.base.BuildContext`): the part's data,
    names, resolved priors and pooled-parameter construction (with the pilot, if any)."""

    design: ModelDesign
    naming: Naming
    data: dict[str, Any]
    pilot: PilotEstimates | None
    noncentred_period_effects: bool

    @property
    def rows(self) -> Rows:
        return self.design.rows()

    @property
    def n_groups(self) -> int:
        return self.design.panel.n_groups

    @property
    def n_periods(self) -> int:
        return self.design.panel.n_periods

    def name(self, plain: str) -> str:
        return self.naming(plain)

    def dim(self, plain: str) -> str:
        return self.naming.dim(plain)

    def prior(self, plain: str, *, dims: Any = None) -> Any:
        extra = {} if dims is None else {"dims": dims}
        return prior_distribution(self.naming(plain), self.design.priors[plain], **extra)

    def spec_prior_parameter(self, plain: str, parameter: str) -> Any | None:
        own = self.design.spec.priors.get(plain)
        if own is None:
            return None
        return prior_parameter(self.naming(plain), parameter, own.parameters()[parameter])

    def whitened_deviations(
        self, plain: str, *, pilot_key: str, sd: Any, shift: Any, dims: str, size: int
    ) -> Any | None:
        """Deviations ``u ~ Normal(0, sd)`` over ``dims`` written through their conditional
        posterior given the pilot's estimate ``c`` of ``u + shift`` (``pilot_key``) and its
        precision (:func:`~bayescred.model.pooling.whitened_group_values`); None when the
        model has no pilot (the term then writes them non-centred)."""
        if self.pilot is None:
            return None
        centre, precision = self.pilot.get(pilot_key, size)
        c, q = pilot_data(self.naming(plain), centre, precision, (dims,))
        return whitened_group_values(self.naming(plain), 0.0, sd, c - shift, q, (dims,))

    def pooled(
        self,
        *,
        name: str,
        pooling: str,
        population_prior: str,
        sd_prior: str,
        log_scale: bool,
        term_dims: tuple[str, ...] = (),
    ) -> Any:
        return grouped_parameter(
            self.design,
            name=name,
            pooling=pooling,
            population_prior=population_prior,
            sd_prior=sd_prior,
            log_scale=log_scale,
            term_dims=term_dims,
            naming=self.naming,
            pilot=self.pilot,
        )


@dataclass(frozen=True)
class PartNames:
    """What a term needs to name its stored variables without building
    (:class:`bayescred.terms.base.NamesContext`), for the model as the sampler writes it."""

    design: ModelDesign
    whitened: bool
    noncentred_period_effects: bool

    def has_spec_prior(self, plain: str) -> bool:
        return plain in self.design.spec.priors

    def pooled_names(
        self,
        *,
        name: str,
        pooling: str,
        population_prior: str,
        sd_prior: str,
        log_scale: bool,
        term_dims: tuple[str, ...] = (),
    ) -> list[str]:
        return pooled_variable_names(
            name=name,
            pooling=pooling,
            population_prior=population_prior,
            sd_prior=sd_prior,
            log_scale=log_scale,
            term_dims=term_dims,
            whitened=self.whitened,
        )


@dataclass(frozen=True)
class Predictor:
    """A part's predictor without worker intercepts, as built into the current model.

    Attributes
    ----------
    data
        The part's registered data (:func:`register_data`).
    mean
        The sum of the terms' values per row.
    terms
        Each built term, in the design's order (their parameters feed the kernel's tables).
    """

    data: dict[str, Any]
    mean: Any
    terms: tuple[BuiltTerm, ...]


def linear_predictor(
    design: ModelDesign,
    naming: Naming,
    *,
    pilot: Callable[[], PilotEstimates | None],
    noncentred_period_effects: bool,
    options: BuildOptions = SAMPLER_FORM,
) -> Predictor:
    """The part's data and its predictor without worker intercepts, in the current model.

    ``pilot`` computes the family's pilot estimates (called only when ``options.whitened``).
    """
    data = register_data(design, naming)
    ctx = PartContext(
        design=design,
        naming=naming,
        data=data,
        pilot=pilot() if options.whitened else None,
        noncentred_period_effects=noncentred_period_effects,
    )
    built = tuple(term.build(ctx) for term in design.terms)
    mean = built[0].mean
    for b in built[1:]:
        mean = mean + b.mean
    return Predictor(data=data, mean=mean, terms=built)
