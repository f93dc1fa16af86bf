"""Run the sampler and assemble the fit's DataTree (posterior, stats, data, spec, versions)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr
from pymc.backends.arviz import patch_nutpie_idata
from pymc.util import get_random_generator

from bayescred.errors import SpecError
from bayescred.inference.compiled import CompiledModelCache
from bayescred.inference.jax_sampling import (
    JAX_SAMPLERS,
    jax_device,
    require_jax,
    sample_numpyro,
    sample_nutpie_jax,
)
from bayescred.inference.schema import (
    POSTERIOR_GROUP,
    SAMPLER_DEVICE_ATTR,
    TARGET_ACCEPT_ATTR,
    attach_design,
)

# the tree's schema (design written into the tree, package versions) moved to
# bayescred.inference.schema; these stay importable from here as before
from bayescred.inference.schema import VERSIONED_PACKAGES as VERSIONED_PACKAGES
from bayescred.inference.schema import design_attrs as design_attrs
from bayescred.inference.schema import design_datasets as design_datasets
from bayescred.inference.schema import package_versions as package_versions
from bayescred.model.build import build_model, stored_variables
from bayescred.model.design import ModelDesign
from bayescred.model.families import family_of
from bayescred.model.families.base import Part
from bayescred.model.pilot import PILOT_PARAMETERS
from bayescred.model.predictor import BuildOptions
from bayescred.spec import SAMPLERS, Sampler

__all__ = ["SAMPLERS", "Sampler", "run_sampler"]


def build_for_sampler(design: ModelDesign, sampler: str) -> pm.Model:
    """The model of ``design`` as ``sampler`` runs it.

    The JAX samplers (:data:`~bayescred.inference.jax_sampling.JAX_SAMPLERS`) get the Gaussian
    likelihood written as a graph over the rows: the fused kernel
    (:mod:`bayescred.model.gaussian_kernel`) is a compiled numba loop with no JAX
    implementation. The log density is the same.
    """
    if sampler in JAX_SAMPLERS:
        return build_model(design, BuildOptions(kernel=False))
    return build_model(design)


def run_sampler(
    model: pm.Model,
    design: ModelDesign,
    *,
    draws: int,
    tune: int,
    chains: int,
    random_seed: int | None,
    sampler: Sampler,
    progressbar: bool,
    target_accept: float,
    low_rank_mass_matrix: bool = True,
    cache: CompiledModelCache | None = None,
) -> xr.DataTree:
    """Sample ``model`` with NUTS and return the DataTree described in :func:`attach_design`.

    Parameters
    ----------
    model, design
        The PyMC model and the design it was built from.
    draws, tune, chains
        Kept draws, tuning steps and chains (``min(chains, 4)`` run in parallel).
    random_seed
        Seed of the draws (``None``: fresh entropy). The same seed gives the same draws
        whether the compiled model comes from ``cache`` or is compiled afresh.
    sampler
        ``nutpie`` (compiled through :mod:`bayescred.inference.compiled`), ``pymc``
        (``pm.sample``), or the JAX route to a GPU (:mod:`bayescred.inference.jax_sampling`):
        ``numpyro`` or ``nutpie-jax``. Only ``nutpie`` uses ``cache``.
    progressbar, target_accept, low_rank_mass_matrix
        Sampler settings (the low-rank mass matrix adaptation is nutpie's and nutpie-jax's).
    cache
        Compiled models to reuse (nutpie only): a model with the same graph up to its data,
        shapes included, is not compiled again. ``None`` compiles for this fit only.
    """
    if sampler not in SAMPLERS:
        raise SpecError(f"unknown sampler {sampler!r}; allowed: {', '.join(SAMPLERS)}")
    require_jax(sampler)
    nuts: dict[str, Any] = {"target_accept": target_accept}
    if sampler in ("nutpie", "nutpie-jax") and low_rank_mass_matrix:
        # the credential effect's parameters are correlated (beta with lambda and gamma); a
        # low-rank mass-matrix update triples the ESS per second of the group means here
        nuts["adaptation"] = "low_rank"
    init = effect_initial_values(model, design)
    var_names = stored_variables(model, design)
    # what every sampler takes alike
    common: dict[str, Any] = {
        "var_names": var_names,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "progressbar": progressbar,
    }
    start = time.perf_counter()
    if sampler == "nutpie":
        tree = sample_nutpie(
            model,
            initial_values=init,
            cache=CompiledModelCache(maxsize=0) if cache is None else cache,
            random_seed=random_seed,
            nuts=nuts,
            **common,
        )
    elif sampler == "numpyro":
        tree = sample_numpyro(
            model,
            initial_values=init,
            random_seed=random_seed,
            target_accept=target_accept,
            **common,
        )
    elif sampler == "nutpie-jax":
        tree = sample_nutpie_jax(
            model,
            initial_values=init,
            seed=nutpie_seed(random_seed, chains),
            nuts=nuts,
            **common,
        )
    else:
        with model:
            tree = pm.sample(
                cores=min(chains, 4),
                random_seed=random_seed,
                nuts_sampler="pymc",
                compute_convergence_checks=False,
                nuts=nuts,
                initvals=init,
                **common,
            )
    elapsed = time.perf_counter() - start
    assert isinstance(tree, xr.DataTree)
    # nutpie (and its JAX backend) store every free variable without a transform whatever
    # var_names says: keep what every sampler was asked to store
    posterior = tree[POSTERIOR_GROUP].to_dataset()
    unwanted = [str(v) for v in posterior.data_vars if v not in set(var_names)]
    if unwanted:
        tree[POSTERIOR_GROUP] = posterior.drop_vars(unwanted)
    out = attach_design(tree, design, sampler=sampler, wall_time=elapsed)
    out.attrs[TARGET_ACCEPT_ATTR] = float(target_accept)
    if sampler in JAX_SAMPLERS:
        out.attrs[SAMPLER_DEVICE_ATTR] = jax_device()
    return out


def nutpie_seed(random_seed: int | None, chains: int) -> int:
    """The seed nutpie gets from ``pm.sample(random_seed=..., chains=...)``.

    PyMC spawns one generator per chain from ``random_seed`` and passes the first one's draw
    to nutpie; the same rule keeps a seed's draws what they were under ``pm.sample``.
    """
    rngs = get_random_generator(random_seed).spawn(chains)
    return int(rngs[0].integers(2**30))


def sample_nutpie(
    model: pm.Model,
    *,
    var_names: list[str],
    initial_values: dict[str, Any],
    cache: CompiledModelCache,
    draws: int,
    tune: int,
    chains: int,
    random_seed: int | None,
    progressbar: bool,
    nuts: dict[str, Any],
) -> xr.DataTree:
    """Sample ``model`` with nutpie, compiling it only when ``cache`` has no model like it.

    Does what ``pm.sample(nuts_sampler="nutpie", initvals=initial_values, var_names=...,
    compile_kwargs={"jitter_rvs": <the other free variables>})`` does (same seed rule, same
    ``tune >= 1``, same data groups and posterior attributes), with the compilation step
    looked up in ``cache`` (:class:`~bayescred.inference.compiled.CompiledModelCache`).
    """
    import nutpie

    entry, _ = cache.entry(model, var_names=var_names, initial_values=initial_values)
    compiled = entry.for_model(model, initial_values)
    start = time.time()
    tree = nutpie.sample(
        compiled,
        draws=draws,
        tune=max(tune, 1),  # nuts-rs needs a tuning step (pm.sample does the same)
        chains=chains,
        cores=min(chains, 4),
        seed=nutpie_seed(random_seed, chains),
        save_warmup=False,
        progress_bar=progressbar,
        **nuts,
    )
    patch_nutpie_idata(tree, model, sampling_time=time.time() - start)
    return tree


def effect_initial_values(model: pm.Model, design: ModelDesign) -> dict[str, Any]:
    """Data-derived starting values of the credential-effect parameters.

    ``beta * S(n) * M(z)`` is multiplicative: where ``beta`` is near zero the curve's shape and
    the modifier are unidentified, and a chain started there can drift into a spurious mode
    (large lambda, convex modifier, beta ~ 0) and stay. Starting every chain at the within-worker
    OLS slope of the outcome on the credential count (on the link scale: divided by the mean
    for counts, by ``p (1 - p)`` for binary outcomes), with the prior means of the curve and
    modifier parameters (not jittered), keeps chains in the region the data support; the other
    parameters are still jittered. Each part of the model starts from its own data.
    """
    values: dict[str, Any] = {}
    for part in family_of(design).parts(design):
        values.update(_part_initial_values(model, part))
    return values


def _part_initial_values(model: pm.Model, part: Part) -> dict[str, Any]:
    design, naming = part.design, part.naming
    p = design.panel
    y_raw = np.asarray(p.y, dtype=float)
    n = p.demean(p.credentials.astype(float))
    y = p.demean(y_raw)
    slope = float(n @ y / (n @ n)) if float(n @ n) > 0 else 0.0
    slope, scale = part.family.link_slope(slope, y_raw, design.y_sd)
    if not np.isfinite(slope) or abs(slope) < 1e-3 * scale:
        slope = 1e-3 * scale
    free = {v.name for v in model.free_RVs}
    values: dict[str, Any] = {}
    if naming("mu_beta") in free:
        values[naming("mu_beta")] = slope
    if naming("beta_group") in free:
        values[naming("beta_group")] = np.full(p.n_groups, slope)
    for name in PILOT_PARAMETERS:  # written through their conditional posterior: its mean
        if naming(f"{name}_whitened") in free:
            values[naming(f"{name}_whitened")] = 0.0
    for name in ("log_lambda", "kappa", "gamma"):
        if naming(name) in free:
            mean = design.priors[name].mu
            values[naming(name)] = np.full(
                variable_shape(model, naming(name)), 0.0 if mean is None else mean
            )
    return values


def variable_shape(model: pm.Model, name: str) -> tuple[int, ...]:
    """Shape of variable ``name`` from its dims (no graph evaluation, which compiles)."""
    dims = model.named_vars_to_dims.get(name)
    if dims:
        return tuple(len(model.coords[d]) for d in dims)
    var = model[name]
    if var.type.ndim == 0:
        return ()
    return tuple(var.shape.eval())  # pragma: no cover - every non-scalar variable has dims
