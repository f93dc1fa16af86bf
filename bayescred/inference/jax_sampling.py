"""The JAX route to a GPU: NUTS on the model's JAX log density (NumPyro's or nutpie's sampler).

Two samplers run the model's log density and gradient as one jitted JAX function on JAX's
default device (a GPU when ``jax[cuda]`` is installed and one is visible, else the CPU):

* ``numpyro``: NumPyro's NUTS, through :func:`pymc.sampling.jax.sample_jax_nuts`. The whole
  sampler loop runs on the device (no host round trip per gradient); diagonal mass matrix.
  Chains run in parallel on as many devices as there are, else vectorized on one accelerator
  (one batched gradient for all chains), else one after the other on the CPU. PyMC passes the
  data to JAX as constants of the program: XLA evaluates the data-only parts of the graph
  while compiling, which takes longer the larger the panel.
* ``nutpie-jax``: nutpie's NUTS (low-rank mass-matrix adaptation, as the default sampler) on
  the JAX log density (``nutpie.compile_pymc_model(backend="jax", gradient_backend="jax")``);
  the sampler runs on the host and each gradient is one device call. The data stay arguments
  of the jitted function (``freeze_model=False``) rather than constants baked into it, so large
  panels do not make a large XLA program.

Both start every chain as the default sampler does
(:func:`bayescred.inference.sampling.effect_initial_values`): the credential-effect
parameters at their data-derived values, the other free variables at their support point
with a U(-1, 1) jitter on the unconstrained scale (``pm.sample``'s own JAX route would jitter
the given values too). Neither keeps compiled models between fits.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr
from pymc.initial_point import make_initial_point_fn
from pymc.util import get_random_generator

from bayescred.errors import SpecError

#: Samplers that run the log density through JAX.
JAX_SAMPLERS: tuple[str, ...] = ("numpyro", "nutpie-jax")


def require_jax(sampler: str) -> None:
    """Raise :class:`~bayescred.errors.SpecError` when ``sampler`` needs a package not installed."""
    needed = {"numpyro": ("jax", "numpyro"), "nutpie-jax": ("jax",)}.get(sampler, ())
    for name in needed:
        try:
            __import__(name)
        except ImportError:
            raise SpecError(
                f"sampler={sampler!r} needs JAX and NumPyro: pip install 'bayescred[jax]' "
                "(and jax[cuda12] for an NVIDIA GPU)"
            ) from None


def jax_device() -> str:
    """JAX's default device in words, e.g. ``gpu: NVIDIA H200 x 1`` or ``cpu``.

    (PyMC's JAX module splits the CPU into many virtual devices; they are one CPU.)
    """
    import jax

    backend = jax.default_backend()
    if backend == "cpu":
        return "cpu"
    devices = jax.devices()
    return f"{backend}: {devices[0].device_kind} x {len(devices)}"


def chain_method(chains: int) -> str:
    """How NumPyro runs ``chains`` chains here.

    ``parallel`` when there is a device per chain, ``vectorized`` on one accelerator (the
    chains' gradients batched in one call), ``sequential`` on a CPU.
    """
    import jax

    if chains > 1 and jax.local_device_count() >= chains:
        return "parallel"
    if chains > 1 and jax.default_backend() != "cpu":
        return "vectorized"
    return "sequential"


def chain_starts(
    model: pm.Model,
    initial_values: Mapping[str, Any],
    *,
    chains: int,
    random_seed: int | None,
) -> list[dict[str, np.ndarray]]:
    """One starting point per chain, by free variable (on the variables' own scale).

    The variables in ``initial_values`` start there; the other free variables at their support
    point plus a U(-1, 1) jitter on the unconstrained scale, drawn from the chain's own seed
    (spawned from ``random_seed``).
    """
    jitter = {rv for rv in model.free_RVs if rv.name not in initial_values}
    point = make_initial_point_fn(
        model=model, overrides=dict(initial_values), jitter_rvs=jitter, return_transformed=False
    )
    seeds = [int(rng.integers(2**30)) for rng in get_random_generator(random_seed).spawn(chains)]
    return [{k: np.asarray(v) for k, v in point(seed).items()} for seed in seeds]


def sample_numpyro(
    model: pm.Model,
    *,
    var_names: Sequence[str],
    initial_values: Mapping[str, Any],
    draws: int,
    tune: int,
    chains: int,
    random_seed: int | None,
    progressbar: bool,
    target_accept: float,
) -> xr.DataTree:
    """Sample ``model`` with NumPyro's NUTS on JAX's default device (see the module docstring)."""
    from pymc.sampling.jax import sample_jax_nuts

    starts = chain_starts(model, initial_values, chains=chains, random_seed=random_seed)
    seed = int(get_random_generator(random_seed).integers(2**30))
    return sample_jax_nuts(
        draws=draws,
        tune=tune,
        chains=chains,
        target_accept=target_accept,
        random_seed=seed,
        initvals=starts,
        jitter=False,
        model=model,
        var_names=list(var_names),
        progressbar=progressbar,
        quiet=not progressbar,
        chain_method=chain_method(chains),
        compute_convergence_checks=False,
        nuts_sampler="numpyro",
    )


def compile_nutpie_jax(
    model: pm.Model, *, var_names: Sequence[str], initial_values: Mapping[str, Any]
) -> Any:
    """nutpie's model on the JAX log density and gradient (data kept as arguments)."""
    import nutpie

    jitter = {rv for rv in model.free_RVs if rv.name not in initial_values}
    return nutpie.compile_pymc_model(
        model,
        backend="jax",
        gradient_backend="jax",
        freeze_model=False,
        var_names=list(var_names),
        initial_points=dict(initial_values),
        jitter_rvs=jitter,
    )


def sample_nutpie_jax(
    model: pm.Model,
    *,
    var_names: Sequence[str],
    initial_values: Mapping[str, Any],
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    progressbar: bool,
    nuts: Mapping[str, Any],
) -> xr.DataTree:
    """Sample ``model`` with nutpie on its JAX log density (see the module docstring).

    ``seed`` is nutpie's seed (:func:`bayescred.inference.sampling.nutpie_seed`); ``nuts``
    holds nutpie's settings (``target_accept``, ``adaptation``).
    """
    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata

    compiled = compile_nutpie_jax(model, var_names=var_names, initial_values=initial_values)
    start = time.time()
    tree = nutpie.sample(
        compiled,
        draws=draws,
        tune=max(tune, 1),  # nuts-rs needs a tuning step
        chains=chains,
        cores=min(chains, 4),
        seed=seed,
        save_warmup=False,
        progress_bar=progressbar,
        **nuts,
    )
    patch_nutpie_idata(tree, model, sampling_time=time.time() - start)
    return tree
