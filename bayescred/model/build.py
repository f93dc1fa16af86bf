"""Build the PyMC model of a design: one linear predictor per part, each with its likelihood.

See ``docs/design.md`` (section 3) for the model. The family of the outcome's likelihood
gives the model's parts (:meth:`~bayescred.model.families.base.Family.parts`: one for a
single-likelihood model, two for a hurdle); each part contributes its linear predictor
(:func:`bayescred.model.predictor.linear_predictor`) and its family adds the worker intercepts and
the likelihood. Per-worker and per-row bulk (``worker_loglik``, latent ``alpha``) is not
stored at sampling time (:func:`stored_variables`).
"""

from __future__ import annotations

from typing import Any

import pymc as pm

from bayescred.model.design import ModelDesign
from bayescred.model.families import family_of
from bayescred.model.families.base import Part
from bayescred.model.predictor import (
    PLAIN_FORM,
    SAMPLER_FORM,
    WORKER_LOGLIK,
    BuildOptions,
    linear_predictor,
    model_coords,
)


def build_model(design: ModelDesign, options: BuildOptions = SAMPLER_FORM) -> pm.Model:
    """The PyMC model of ``design``: every part of its family in one model, written as
    ``options`` say (default: as the sampler runs it)."""
    parts = family_of(design).parts(design)
    coords: dict[str, Any] = {}
    for part in parts:
        coords.update(model_coords(part.design, part.naming))
    with pm.Model(coords=coords) as model:
        for part in parts:
            build_part(part, options)
    return model


def build_prior_model(design: ModelDesign) -> pm.Model:
    """The model of ``design`` in the form PyMC draws prior samples from.

    ``pm.sample_prior_predictive`` leaves potentials out, so the pooled group parameters are
    written non-centred here (not through :func:`~bayescred.model.pooling.whitened_group_values`,
    whose population density is a potential) and the likelihood as a graph
    (:data:`~bayescred.model.predictor.PLAIN_FORM`). The prior is the same as
    :func:`build_model`'s; only the sampler's coordinates differ.
    """
    return build_model(design, PLAIN_FORM)


def build_part(part: Part, options: BuildOptions = SAMPLER_FORM) -> None:
    """One linear predictor and its likelihood, inside the current model context."""
    family = part.family
    predictor = linear_predictor(
        part.design,
        part.naming,
        pilot=lambda: family.pilot(part.design),
        noncentred_period_effects=family.noncentred_period_effects,
        options=options,
    )
    family.add_likelihood(part, predictor, options)


def stored_variables(model: pm.Model, design: ModelDesign) -> list[str]:
    """Variables to keep at sampling time: everything but per-worker/per-row bulk."""
    skip = {
        part.naming(name)
        for part in family_of(design).parts(design)
        # the sampler's coordinates of whitened intercepts: alpha_offset holds the same
        for name in (WORKER_LOGLIK, "alpha", "alpha_whitened")
    }
    names = [v.name for v in model.free_RVs] + [v.name for v in model.deterministics]
    return [n for n in names if n not in skip]
