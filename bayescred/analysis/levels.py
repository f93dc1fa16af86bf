"""The level of a part's predictor for worker profiles and observed workers, over draws.

Effects that are not additive on the predictor's scale (probabilities, expected amounts)
depend on the level of the predictor, not just on the credential term:

* for a profile, a worker drawn from the population with that profile: the intercepts' mean
  given the profile (Mundlak means set to the profile's own credentials, track record and
  covariates) plus the covariate terms, in an average period (period effects sum to zero)
  (:func:`profile_level`);
* for an observed worker, its intercept rebuilt exactly from the stored non-centred offsets
  (:func:`intercepts_from_offsets`).

Flat-prior (``within``) intercepts have no population parameters; a worker drawn from the
workers observed stands in for them (:func:`within_intercept_moments`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.predictor import chunks, mean_without_intercepts, stack_draws
from bayescred.maths.worker_likelihoods import flat_intercept_moments
from bayescred.model.design import ModelDesign

#: Draws x rows evaluated at once by :func:`within_intercept_moments`.
_MOMENT_ELEMENTS = 4_000_000


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
    post: xr.Dataset,
    design: ModelDesign,
    profiles: pd.DataFrame,
    z: np.ndarray,
    intercept_mean: np.ndarray | None = None,
) -> np.ndarray:
    """Intercept mean plus covariate terms of each profile in one part, ``(draws, profiles)``.

    The Mundlak worker means are the profile's own credentials, track record and covariates.
    ``intercept_mean`` (per draw) is :func:`intercept_population`'s, computed if not given.
    """
    if intercept_mean is None:
        intercept_mean = intercept_population(post, design)[0]
    level = intercept_mean[:, None] * np.ones(len(profiles))
    x = profile_covariates(design, profiles)
    if "psi" in post:
        w = np.column_stack([profiles["credentials"].to_numpy(float), z, x])
        w = (w - np.asarray(design.mundlak_center)) / np.asarray(design.mundlak_scale)
        level = level + stack_draws(post["psi"]) @ w.T
    if "delta" in post and x.shape[1]:
        level = level + stack_draws(post["delta"]) @ x.T
    return np.asarray(level)


def within_intercept_moments(
    post: xr.Dataset, design: ModelDesign
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of a ``within`` part's worker intercepts across its workers, per draw.

    Each draw's worker mean residuals ``dbar_i`` (outcome minus the predictor without
    intercepts) give the moments (:func:`~bayescred.maths.worker_likelihoods.
    flat_intercept_moments`); rows are processed in chunks of about
    :data:`_MOMENT_ELEMENTS` values.
    """
    from scipy import sparse

    p = design.panel
    n_draws = post.sizes["chain"] * post.sizes["draw"]
    draws = np.arange(n_draws)
    y = np.asarray(p.y, dtype=float)
    counts = p.periods_per_worker().astype(float)
    sums = np.zeros((n_draws, p.n_workers))
    step = max(1, _MOMENT_ELEMENTS // max(n_draws, 1))
    for rows in chunks(p.n_rows, step):
        d = y[rows] - mean_without_intercepts(post, design, draws, rows)
        codes = p.worker_codes[rows]
        onehot = sparse.csr_matrix(
            (np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), p.n_workers)
        )
        sums += np.asarray((onehot.T @ d.T).T)
    return flat_intercept_moments(sums / counts, counts, stack_draws(post["sigma"]))


def intercept_population(
    post: xr.Dataset, design: ModelDesign
) -> tuple[np.ndarray, np.ndarray | None]:
    """Draws of the mean (``mu_alpha``) and sd (``sigma_alpha``; None if the part has none)
    of a part's worker intercepts; under ``within`` those of the observed workers
    (:func:`within_intercept_moments`)."""
    if design.spec.worker_effects == "within":
        return within_intercept_moments(post, design)
    return stack_draws(post["mu_alpha"]), sd_or_none(post, "sigma_alpha")


def sd_or_none(post: xr.Dataset, name: str) -> np.ndarray | None:
    """Draws of ``name`` if the posterior has it (the intercepts' sd), else None."""
    return stack_draws(post[name]) if name in post else None


def draw_parameters(post: xr.Dataset, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named parameters per draw ``(draws,)``."""
    return {name: stack_draws(post[name]) for name in names if name in post}
