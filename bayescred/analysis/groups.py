"""The ArviZ groups a fit can add to its DataTree: ``log_likelihood``, ``posterior_predictive``,
``prior`` and ``prior_predictive`` (``observed_data`` is always there).

With them ``fit.tree`` is a complete ArviZ object: ``az.loo(fit.tree)``,
``az.compare({"a": fit_a.tree, "b": fit_b.tree})`` and arviz-plots' predictive checks
(``azp.plot_ppc_dist(fit.tree)``, ``group="prior_predictive"`` too) work on it directly, and
:func:`bayescred.compare` and :meth:`~bayescred.CredentialFit.loo` reuse the stored
log-likelihood. Every group is named and shaped as ArviZ expects:

``log_likelihood``
    Variable ``y`` (the name of the outcome in ``observed_data``) over every posterior draw,
    per worker ``(chain, draw, worker)`` by default, or per row ``(chain, draw, obs)`` where the
    likelihood has a per-row density (:func:`bayescred.analysis.loo.log_likelihood`).
``posterior_predictive``
    Variable ``y`` ``(chain, draw, obs)`` in the outcome's units (levels; for a hurdle model the
    outcome itself, zeros and amounts), on a thinned subset of the posterior draws: every
    ``k``-th draw of every chain, ``k`` the smallest stride that keeps at most ``max_draws``
    draws (at least one per chain). Its ``chain`` and ``draw`` coordinates are the posterior's
    own labels of the draws used, so they are a true subset (``attrs["thinned_by"] = k``).
    Outcomes are generated one draw at a time, in chunks of rows
    (:mod:`bayescred.analysis.replicate`): memory is the group itself plus one draw's rows.
``prior``
    ``prior_draws`` draws ``(chain=1, draw)`` of every variable the posterior stores but the
    sampler's whitened coordinates of pooled group parameters (``*_whitened``, flat; see
    :func:`bayescred.model.pooling.whitened_group_values`), from the priors of the fit's model.
    The names come from the design's parts (:func:`stored_variable_names`), not from a built
    model.
``prior_predictive``
    Variable ``y`` ``(chain=1, draw, obs)`` drawn given each prior draw. Not for ``within``
    worker effects: their intercepts have a flat, improper prior, so the outcome's level has no
    prior predictive (the prior predictive check, :meth:`~bayescred.CredentialFit.prior_check`,
    works on within-worker deviations instead).

Under ``within`` worker effects the posterior predictive levels carry worker intercepts drawn
from their flat-prior conditional posterior (:mod:`bayescred.analysis.replicate`): compare
within-worker deviations there (``fit.plot.ppc`` and ``fit.check`` do by default).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

from bayescred.analysis.loo import CHUNK_ELEMENTS, Unit, log_likelihood
from bayescred.analysis.replicate import (
    AnyReplicator,
    effect_variables,
    fit_design,
    make_replicator,
)
from bayescred.model.build import build_prior_model
from bayescred.model.design import ModelDesign
from bayescred.model.families import family_of
from bayescred.model.families.base import Part
from bayescred.model.predictor import OBSERVED_VAR, PartNames
from bayescred.terms import Term

#: The groups :func:`with_groups` can add, in the order it adds them.
GROUPS: tuple[str, ...] = ("log_likelihood", "posterior_predictive", "prior", "prior_predictive")
#: Default number of posterior draws in ``posterior_predictive``.
MAX_PREDICTIVE_DRAWS = 500
#: Default number of prior draws.
PRIOR_DRAWS = 500


def available_groups(design: ModelDesign) -> tuple[str, ...]:
    """The groups a fit of ``design`` can have: all but ``prior_predictive`` under ``within``."""
    if design.spec.worker_effects == "within":
        return tuple(g for g in GROUPS if g != "prior_predictive")
    return GROUPS


def resolve_groups(design: ModelDesign, groups: Iterable[str] | str | None) -> tuple[str, ...]:
    """The group names asked for, checked: ``None`` or ``"all"`` means every available one."""
    if groups is None or groups == "all":
        return available_groups(design)
    names = (groups,) if isinstance(groups, str) else tuple(groups)
    unknown = [g for g in names if g not in GROUPS]
    if unknown:
        raise ValueError(
            f"unknown group(s) {', '.join(map(repr, unknown))}; choose from {', '.join(GROUPS)} "
            "or 'all'"
        )
    if "prior_predictive" in names and "prior_predictive" not in available_groups(design):
        raise ValueError(
            "no prior_predictive group under worker_effects = 'within': the worker intercepts "
            "have a flat, improper prior, so the outcome's level has no prior predictive; use "
            "fit.prior_check() (within-worker deviations) instead"
        )
    return tuple(g for g in GROUPS if g in names)


def thinning_stride(n_chains: int, n_draws: int, max_draws: int) -> int:
    """The smallest ``k`` such that every ``k``-th draw of every chain is at most ``max_draws``
    draws in all (``n_draws`` when even one draw per chain exceeds it)."""
    if max_draws < 1:
        raise ValueError(f"max_draws must be at least 1, not {max_draws}")
    k = max(1, math.ceil(n_chains * n_draws / max_draws))
    while k < n_draws and n_chains * math.ceil(n_draws / k) > max_draws:
        k += 1
    return min(k, max(n_draws, 1))


def _predictive_dataset(
    rep: AnyReplicator, fit_tree: xr.DataTree, params: xr.Dataset, random_seed: Any
) -> xr.Dataset:
    """Outcomes replicated for every draw of ``rep`` (the draws of ``params``) as a
    predictive group: variable ``y`` ``(chain, draw, obs)`` labelled like ``params`` and the
    observed data, integers where the outcome is (counts, binary)."""
    obs = fit_tree["observed_data"].to_dataset()[OBSERVED_VAR]
    rng = np.random.default_rng(random_seed)
    values = np.empty((rep.n_draws, obs.size), dtype=float)
    for j in range(rep.n_draws):
        values[j] = rep.draw(j, rng)
    if obs.dtype.kind in "iub":
        values = values.astype(obs.dtype)
    shape = (params.sizes["chain"], params.sizes["draw"], obs.size)
    return xr.Dataset(
        {OBSERVED_VAR: (("chain", "draw", "obs"), values.reshape(shape))},
        coords={
            "chain": params["chain"].values,
            "draw": params["draw"].values,
            "obs": obs["obs"].values,
        },
        attrs={"scale": "outcome", "outcome": rep.design.panel.outcome},
    )


def posterior_predictive(
    fit_tree: xr.DataTree,
    *,
    max_draws: int = MAX_PREDICTIVE_DRAWS,
    chunk_rows: int = 100_000,
    random_seed: int | np.random.Generator | None = None,
    design: ModelDesign | None = None,
) -> xr.Dataset:
    """The ``posterior_predictive`` group: outcomes replicated on thinned posterior draws.

    Parameters
    ----------
    fit_tree
        A fit's DataTree.
    max_draws
        At most this many draws in all (every ``k``-th of every chain; see the module
        docstring), but at least one per chain.
    chunk_rows
        Rows generated at once within a draw.
    random_seed
        Seed or generator for the intercepts and the noise.
    design
        The fit's design (:attr:`bayescred.CredentialFit.design`); ``None`` rebuilds it from
        the tree (:func:`~bayescred.analysis.replicate.fit_design`).

    Returns
    -------
    xarray.Dataset
        Variable ``y`` ``(chain, draw, obs)`` with the posterior's chain and draw labels.
    """
    design = fit_design(fit_tree, design)
    posterior = fit_tree["posterior"].to_dataset()
    stride = thinning_stride(posterior.sizes["chain"], posterior.sizes["draw"], max_draws)
    names = [n for n in [*effect_variables(design), "alpha"] if n in posterior]
    params = posterior[names].isel(draw=slice(None, None, stride))
    rep = make_replicator(design, params, "posterior", "outcome", chunk_rows)
    out = _predictive_dataset(rep, fit_tree, params, random_seed)
    out.attrs = {"thinned_by": stride, **out.attrs}
    return out


def prior(design: ModelDesign, *, draws: int = PRIOR_DRAWS, random_seed: Any = None) -> xr.Dataset:
    """The ``prior`` group: draws of every stored variable from the priors of ``design``'s
    model, ``(chain=1, draw)``.

    The variables are those a fit of ``design`` stores, but for the sampler's own coordinates
    of the pooled group parameters (``*_whitened``: flat, the population density is a
    potential), which have no prior draws; their group values (``beta_group``...) and
    population values do. Their names come from the design's parts
    (:func:`stored_variable_names`); only the model the draws are made from is built.
    """
    if draws < 1:
        raise ValueError(f"prior draws must be at least 1, not {draws}")
    model = build_prior_model(design)
    names = stored_variable_names(design)
    with warnings.catch_warnings():
        # the closed-form likelihood is the model's only Potential, rightly left out here
        warnings.filterwarnings("ignore", message="The effect of Potentials", category=UserWarning)
        tree = pm.sample_prior_predictive(
            draws=draws, model=model, var_names=names, random_seed=random_seed
        )
    return tree["prior"].to_dataset()


# ---------------------------------------------------------------------- stored variable names
def stored_variable_names(design: ModelDesign) -> list[str]:
    """Names of the variables a fit of ``design`` stores, but the sampler's flat whitened
    coordinates (``*_whitened``), without building a PyMC model: the variables of each part
    (:func:`part_stored_variables`) under the part's naming.

    They are the free variables and deterministics of the sampled model
    (:func:`bayescred.model.build.build_model`) less the per-worker and per-row bulk a fit
    does not store (``worker_loglik``, latent ``alpha``: :func:`~bayescred.model.build.
    stored_variables`) and less the whitened coordinates; equally, the variables of the model
    prior draws are made from (:func:`~bayescred.model.build.build_prior_model`) that a fit
    also stores (``tests/test_arviz_groups.py`` checks both on the bundled specs). A part with
    a term this function does not know gets its names from those two built models instead.
    """
    names: list[str] = []
    for part in family_of(design).parts(design):
        own = part_stored_variables(part)
        if own is None:
            return _names_from_built_models(design)
        names += [part.naming(name) for name in own]
    return names


def part_stored_variables(part: Part) -> list[str] | None:
    """Plain names of the variables one part stores (see :func:`stored_variable_names`): its
    terms' (:func:`term_stored_variables`), the family's own parameters (``sigma``, ``nu``,
    ``phi``) and the worker intercepts' parameters; ``None`` for a part with a term this
    module does not know."""
    names: list[str] = []
    for term in part.design.terms:
        own = term_stored_variables(term, part)
        if own is None:
            return None
        names += own
    family, effects = part.family, part.design.spec.worker_effects
    names += family.parameters
    if effects == "none":
        return [*names, "mu_alpha"]
    if family.closed_form(effects) and effects == "within":
        return names  # the intercepts are integrated out, with a flat prior
    names.append("mu_alpha")
    if effects == "correlated":
        names.append("psi")
    names.append("sigma_alpha")
    if not family.closed_form(effects):
        # latent intercepts: the non-centred offsets are stored whichever coordinates the
        # sampler moves (``alpha`` itself and ``alpha_whitened`` are not)
        names.append("alpha_offset")
    return names


def term_stored_variables(term: Term, part: Part) -> list[str] | None:
    """Plain names of every variable ``term`` stores in ``part``'s model as the sampler writes
    it (:meth:`~bayescred.terms.base.Term.stored_variables`); ``None`` for a term that cannot
    say without being built."""
    family = part.family
    return term.stored_variables(
        PartNames(
            design=part.design,
            whitened=family.whitens_pooled,
            noncentred_period_effects=family.noncentred_period_effects,
        )
    )


def _names_from_built_models(design: ModelDesign) -> list[str]:
    """:func:`stored_variable_names` from the two built models (a term it does not know)."""
    from bayescred.model.build import build_model, stored_variables

    sampled = set(stored_variables(build_model(design), design))
    return [n for n in stored_variables(build_prior_model(design), design) if n in sampled]


def prior_predictive(
    fit_tree: xr.DataTree,
    prior_group: xr.Dataset,
    *,
    chunk_rows: int = 100_000,
    random_seed: int | np.random.Generator | None = None,
    design: ModelDesign | None = None,
) -> xr.Dataset:
    """The ``prior_predictive`` group: outcomes drawn given each draw of ``prior_group``.

    ``design``: the fit's design (``None`` rebuilds it from the tree).

    Raises
    ------
    ValueError
        Under ``within`` worker effects (flat intercept prior; see the module docstring).
    """
    design = fit_design(fit_tree, design)
    resolve_groups(design, ["prior_predictive"])
    names = [n for n in effect_variables(design) if n in prior_group]
    rep = make_replicator(design, prior_group[names], "prior", "outcome", chunk_rows)
    return _predictive_dataset(rep, fit_tree, prior_group, random_seed)


def with_groups(
    fit_tree: xr.DataTree,
    groups: Iterable[str] | str | None = None,
    *,
    unit: Unit = "worker",
    max_draws: int = MAX_PREDICTIVE_DRAWS,
    prior_draws: int = PRIOR_DRAWS,
    chunk_elements: int = CHUNK_ELEMENTS,
    random_seed: int | None = None,
    design: ModelDesign | None = None,
) -> xr.DataTree:
    """A copy of ``fit_tree`` with the ArviZ groups added (existing ones of the same name
    replaced); see the module docstring and :meth:`bayescred.CredentialFit.add_groups`.

    ``design``: the fit's design (:attr:`bayescred.CredentialFit.design`), used by every group;
    ``None`` rebuilds it from the tree once (:func:`~bayescred.analysis.replicate.fit_design`).
    """
    design = fit_design(fit_tree, design)
    names = resolve_groups(design, groups)
    rng = np.random.default_rng(random_seed)
    chunk_rows = max(1, min(chunk_elements, 100_000))
    added: dict[str, xr.Dataset] = {}
    if "log_likelihood" in names:
        added["log_likelihood"] = log_likelihood(
            fit_tree, unit=unit, chunk_elements=chunk_elements, design=design
        )
    if "posterior_predictive" in names:
        added["posterior_predictive"] = posterior_predictive(
            fit_tree, max_draws=max_draws, chunk_rows=chunk_rows, random_seed=rng, design=design
        )
    if "prior" in names or "prior_predictive" in names:
        prior_group = prior(design, draws=prior_draws, random_seed=rng)
        if "prior" in names:
            added["prior"] = prior_group
        if "prior_predictive" in names:
            added["prior_predictive"] = prior_predictive(
                fit_tree, prior_group, chunk_rows=chunk_rows, random_seed=rng, design=design
            )
    out = fit_tree.copy()
    for name, ds in added.items():
        out[name] = xr.DataTree(ds)
    return out
