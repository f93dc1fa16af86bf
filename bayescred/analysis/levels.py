"""The level of a part's predictor for worker profiles and observed workers, over draws.

Effects that are not additive on the predictor's scale (probabilities, expected amounts)
depend on the level of the predictor, not just on the credential term:

* for a profile, a worker drawn from the population with that profile: the intercepts' mean
  given the profile (Mundlak means set to the profile's own credentials, track record and
  covariates) plus the covariate terms, in an average period (period effects sum to zero)
  (:func:`profile_level`);
* for an observed worker, its intercept rebuilt exactly from the stored non-centred offsets
  (:func:`intercepts_from_offsets`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.predictor import stack_draws
from bayescred.model.design import ModelDesign


def intercept_level(
    mu_alpha: np.ndarray | float,
    psi: np.ndarray | None = None,
    worker_means: np.ndarray | None = None,
) -> np.ndarray:
    """The intercepts' mean ``mu_alpha [+ psi @ worker_means']`` with a trailing worker axis
    (of length 1 without Mundlak terms); leading draw dims as in
    :func:`intercepts_from_offsets`."""
    level = np.asarray(mu_alpha, dtype=float)[..., None]
    if psi is not None and worker_means is not None:
        level = level + np.asarray(psi) @ worker_means.T
    return np.asarray(level)


def intercepts_from_offsets(
    mu_alpha: np.ndarray | float,
    sigma_alpha: np.ndarray | float,
    alpha_offset: np.ndarray,
    psi: np.ndarray | None = None,
    worker_means: np.ndarray | None = None,
) -> np.ndarray:
    """``alpha = mu_alpha [+ psi @ worker_means'] + sigma_alpha * alpha_offset``.

    Arrays may carry leading draw dims (``mu_alpha`` ``(draws,)``, ``psi`` ``(draws, k)``,
    ``alpha_offset`` ``(draws, workers)``) or be one draw's values.
    """
    level = intercept_level(mu_alpha, psi, worker_means)
    return np.asarray(level + np.asarray(sigma_alpha, dtype=float)[..., None] * alpha_offset)


def posterior_intercepts(post: xr.Dataset, design: ModelDesign) -> np.ndarray:
    """A latent-intercept part's worker intercepts per draw ``(draws, workers)``."""
    mu = stack_draws(post["mu_alpha"])
    if design.spec.worker_effects == "none":
        return np.asarray(mu[:, None] * np.ones(design.panel.n_workers))
    psi = stack_draws(post["psi"]) if "psi" in post else None
    return intercepts_from_offsets(
        mu,
        stack_draws(post["sigma_alpha"]),
        stack_draws(post["alpha_offset"]),
        psi,
        design.mundlak_matrix() if psi is not None else None,
    )


def profile_covariates(design: ModelDesign, profiles: pd.DataFrame) -> np.ndarray:
    """Covariates of each profile ``(profiles, k)``; a covariate not given is at its data mean."""
    p = design.panel
    means = p.covariate_matrix.mean(axis=0) if p.covariate_matrix.size else np.zeros(0)
    cols = [
        profiles[c].to_numpy(float) if c in profiles else np.full(len(profiles), means[j])
        for j, c in enumerate(p.covariates)
    ]
    return np.column_stack(cols) if cols else np.zeros((len(profiles), 0))


def profile_level(
    post: xr.Dataset, design: ModelDesign, profiles: pd.DataFrame, z: np.ndarray
) -> np.ndarray:
    """Intercept mean plus covariate terms of each profile in one part, ``(draws, profiles)``.

    The Mundlak worker means are the profile's own credentials, track record and covariates.
    """
    level = stack_draws(post["mu_alpha"])[:, None] * np.ones(len(profiles))
    x = profile_covariates(design, profiles)
    if "psi" in post:
        w = np.column_stack([profiles["credentials"].to_numpy(float), z, x])
        w = (w - np.asarray(design.mundlak_center)) / np.asarray(design.mundlak_scale)
        level = level + stack_draws(post["psi"]) @ w.T
    if "delta" in post and x.shape[1]:
        level = level + stack_draws(post["delta"]) @ x.T
    return np.asarray(level)


def sd_or_none(post: xr.Dataset, name: str) -> np.ndarray | None:
    """Draws of ``name`` if the posterior has it (the intercepts' sd), else None."""
    return stack_draws(post[name]) if name in post else None


def draw_parameters(post: xr.Dataset, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named parameters per draw ``(draws,)``."""
    return {name: stack_draws(post[name]) for name in names if name in post}
