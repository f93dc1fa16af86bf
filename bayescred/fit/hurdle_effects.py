"""Effects of one more credential on expected earnings under a hurdle model, split by margin.

With ``p = P(y > 0)`` (extensive part, logit link) and ``v = E[y | y > 0]`` (intensive part,
``log y ~ Normal(eta_int, sigma)`` so ``v = exp(eta_int + sigma^2 / 2)``), expected earnings are
``E[y] = p v``. Going from ``n`` to ``n + 1`` credentials changes them by

    log E1 - log E0 = (log p1 - log p0)  +  (eta_int1 - eta_int0)
                      extensive margin      intensive margin

an exact additive split in log points; as percentages ``(1 + total) = (1 + ext) (1 + int)``.
In currency the change ``E1 - E0`` splits exactly (symmetrically, so the order of the margins
does not matter) into ``(p1 - p0) (v0 + v1) / 2`` (extensive) and ``(v1 - v0) (p0 + p1) / 2``
(intensive).

``p`` depends on the level of the extensive predictor, not just on the credential term:

* for a profile (:func:`hurdle_profile_effects`), a worker drawn from the population with that
  profile: intercepts at their mean given the profile (Mundlak means set to the profile's own
  credentials, track record and covariates), the average period (period effects sum to zero),
  and ``p`` averaged over the extensive intercept's distribution by Gauss-Hermite quadrature;
  ``v`` likewise includes ``exp(sigma_alpha^2 / 2)`` of the intensive intercepts;
* for the observed rows (:func:`hurdle_average_effect`), each row's own extensive predictor,
  its worker's intercept rebuilt from the stored non-centred offsets, its period's effect.

Every quantity is computed per posterior draw and summarised at the end.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit, log_expit

from bayescred.fit.effects import (
    EffectResult,
    NewGroup,
    profile_group_parameters,
    summarise_draws,
)
from bayescred.fit.predictor import (
    chunks,
    credential_effect,
    effect_draws,
    mean_without_intercepts,
    stack_draws,
)
from bayescred.model.design import ModelDesign
from bayescred.model.hurdle import EXTENSIVE_NAMING, Part, hurdle_parts

#: Margins of a hurdle effect, in table order.
MARGINS: tuple[str, ...] = ("total", "extensive", "intensive")
#: Gauss-Hermite nodes for averaging P(y > 0) over the extensive intercept's distribution.
QUADRATURE_NODES = 64


def part_posterior(posterior: xr.Dataset, part: Part) -> xr.Dataset:
    """One part's posterior under the plain names (``ext_mu_beta`` -> ``mu_beta``)."""
    prefix = EXTENSIVE_NAMING.prefix
    if part == "intensive":
        return posterior[[str(k) for k in posterior.data_vars if not str(k).startswith(prefix)]]
    names = {
        str(k): str(k)[len(prefix) :] for k in posterior.data_vars if str(k).startswith(prefix)
    }
    ds = posterior[list(names)].rename(names)
    if EXTENSIVE_NAMING.gamma_term in ds.dims:
        ds = ds.rename({EXTENSIVE_NAMING.gamma_term: "gamma_term"})
    return ds


def marginal_probability(level: np.ndarray, sigma_alpha: np.ndarray | None) -> np.ndarray:
    """``E[logistic(level + sigma_alpha * u)]``, ``u ~ N(0, 1)``, by Gauss-Hermite quadrature.

    ``level`` is ``(draws, items)``, ``sigma_alpha`` ``(draws,)`` (None: no intercept spread).
    """
    if sigma_alpha is None:
        return np.asarray(expit(level))
    x, w = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
    spread = np.sqrt(2.0) * sigma_alpha[:, None, None] * x  # (draws, 1, nodes)
    return np.asarray(expit(level[..., None] + spread) @ (w / np.sqrt(np.pi)))


def _profile_covariates(design: ModelDesign, profiles: pd.DataFrame) -> np.ndarray:
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
    x = _profile_covariates(design, profiles)
    if "psi" in post:
        w = np.column_stack([profiles["credentials"].to_numpy(float), z, x])
        w = (w - np.asarray(design.mundlak_center)) / np.asarray(design.mundlak_scale)
        level = level + stack_draws(post["psi"]) @ w.T
    if "delta" in post and x.shape[1]:
        level = level + stack_draws(post["delta"]) @ x.T
    return np.asarray(level)


def sd_or_none(post: xr.Dataset, name: str) -> np.ndarray | None:
    return stack_draws(post[name]) if name in post else None


def _summaries(values: dict[str, np.ndarray], hdi_prob: float) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for prefix, draws in values.items():
        out.update(summarise_draws(draws, hdi_prob, prefix=prefix))
    return out


def hurdle_profile_effects(
    posterior: xr.Dataset,
    design: ModelDesign,
    profiles: pd.DataFrame,
    *,
    hdi_prob: float = 0.9,
    new_group: NewGroup = "raise",
    random_seed: int | None = None,
) -> EffectResult:
    """Change in expected earnings from ``credentials`` to ``to`` for each profile, by margin.

    Returns an :class:`EffectResult` whose ``table`` holds the total (log change, ``pct_*``,
    ``gain_*`` in the outcome's currency) and whose ``margins`` splits it into the extensive and
    intensive margins (see the module docstring).
    """
    parts = hurdle_parts(design)
    ext_post = part_posterior(posterior, "extensive")
    int_post = part_posterior(posterior, "intensive")
    ext_spec, int_spec = parts.extensive.spec, parts.intensive.spec
    ext_params, codes = profile_group_parameters(
        ext_post, ext_spec, profiles, new_group, random_seed
    )
    int_params, _ = profile_group_parameters(
        int_post, int_spec, profiles, new_group, None if random_seed is None else random_seed + 1
    )
    z = design.track_scale.z(profiles["track_record"].to_numpy(float))
    n_from = profiles["credentials"].to_numpy(float)
    n_to = profiles["to"].to_numpy(float)
    zero = np.zeros_like(n_from)

    ext_level = profile_level(ext_post, parts.extensive, profiles, z)
    sa_ext = sd_or_none(ext_post, "sigma_alpha")
    p0 = marginal_probability(
        ext_level + credential_effect(ext_spec, ext_params, codes, zero, n_from, z), sa_ext
    )
    p1 = marginal_probability(
        ext_level + credential_effect(ext_spec, ext_params, codes, zero, n_to, z), sa_ext
    )
    d_int = credential_effect(int_spec, int_params, codes, n_from, n_to, z)
    int_level = profile_level(int_post, parts.intensive, profiles, z)
    sa_int = sd_or_none(int_post, "sigma_alpha")
    log_v0 = (
        int_level
        + credential_effect(int_spec, int_params, codes, zero, n_from, z)
        + 0.5 * stack_draws(int_post["sigma"])[:, None] ** 2
        + (0.0 if sa_int is None else 0.5 * sa_int[:, None] ** 2)
    )
    v0, v1 = np.exp(log_v0), np.exp(log_v0 + d_int)
    log_change = {
        "extensive": np.log(p1) - np.log(p0),
        "intensive": d_int,
    }
    log_change["total"] = log_change["extensive"] + log_change["intensive"]
    gain = {
        "total": p1 * v1 - p0 * v0,
        "extensive": (p1 - p0) * (v0 + v1) / 2.0,
        "intensive": (v1 - v0) * (p0 + p1) / 2.0,
    }
    chains, draws_per_chain = posterior.sizes["chain"], posterior.sizes["draw"]
    labels = [str(g) for g in posterior["group"].values]

    def margin_row(margin: str) -> dict[str, np.ndarray]:
        d = log_change[margin]
        return {
            **summarise_draws(d, hdi_prob),
            "prob_positive": (d > 0).mean(axis=0),
            **_summaries({"pct_": 100.0 * np.expm1(d), "gain_": gain[margin]}, hdi_prob),
        }

    table = profiles.copy()
    table["parameters_from"] = np.where(
        codes < len(labels), "group posterior", "population distribution"
    )
    table["expected_before"] = np.mean(p0 * v0, axis=0)
    for key, value in margin_row("total").items():
        table[key] = value
    margins = pd.concat(
        [
            pd.DataFrame({"profile": np.arange(len(profiles)), "margin": m, **margin_row(m)})
            for m in MARGINS
        ]
    )
    margins = margins.sort_values(["profile", "margin"], key=_margin_order).reset_index(drop=True)
    coords = {
        "chain": posterior["chain"].values,
        "draw": posterior["draw"].values,
        "profile": np.arange(len(profiles)),
    }
    total = log_change["total"].reshape(chains, draws_per_chain, -1)
    da = xr.DataArray(total, dims=("chain", "draw", "profile"), coords=coords, name="effect")
    stacked = np.stack([log_change[m] for m in MARGINS], axis=-1)
    margin_da = xr.DataArray(
        stacked.reshape(chains, draws_per_chain, len(profiles), len(MARGINS)),
        dims=("chain", "draw", "profile", "margin"),
        coords={**coords, "margin": list(MARGINS)},
        name="log_change",
    )
    pct_da = da.copy(data=100.0 * np.expm1(total)).rename("percent_gain")
    table.attrs["hdi_prob"] = hdi_prob
    margins.attrs["hdi_prob"] = hdi_prob
    return EffectResult(
        table=table,
        draws=da,
        percent=pct_da,
        hdi_prob=hdi_prob,
        notes=(
            "Expected earnings of a worker with this profile in an average period, averaged "
            "over the worker intercepts' distribution; log changes add up over the margins.",
        ),
        margins=margins,
        margin_draws=margin_da,
    )


def _margin_order(col: pd.Series) -> pd.Series:
    if col.name == "margin":
        return col.map({m: i for i, m in enumerate(MARGINS)})
    return col


def hurdle_average_effect(
    posterior: xr.Dataset,
    design: ModelDesign,
    *,
    by: Literal["group"] | None = None,
    hdi_prob: float = 0.9,
    chunk_rows: int = 2_000,
) -> pd.DataFrame:
    """Average over the observed rows of the next credential's effect on expected earnings.

    Per draw and row: the extensive change ``log p(n+1) - log p(n)`` at the row's own extensive
    predictor (worker intercept rebuilt from the stored offsets, period and covariate terms) and
    the intensive change; averaged over rows per draw, then summarised. One row per scope and
    margin (``total``, ``extensive``, ``intensive``); ``pct_*`` is the average percentage change.
    Memory is O(draws x chunk_rows).
    """
    parts = hurdle_parts(design)
    ext, intensive = parts.extensive, parts.intensive
    ext_post = part_posterior(posterior, "extensive")
    int_post = part_posterior(posterior, "intensive")
    p = ext.panel
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    draws = np.arange(n_draws)
    alpha = _extensive_intercepts(ext_post, ext)
    ext_params = effect_draws(ext_post, ext.spec)
    int_params = effect_draws(int_post, intensive.spec)
    labels = [str(g) for g in p.group_labels]
    n_scopes = len(labels) if by == "group" else 1
    scope = p.group_codes if by == "group" else np.zeros(p.n_rows, dtype=np.int64)
    counts = np.bincount(scope, minlength=n_scopes).astype(float)
    sums = {m: np.zeros((n_draws, n_scopes)) for m in MARGINS}
    pct_sums = {m: np.zeros((n_draws, n_scopes)) for m in MARGINS}
    z = ext.z
    for rows in chunks(p.n_rows, chunk_rows):
        n = p.credentials[rows].astype(float)
        g = p.group_codes[rows]
        eta0 = mean_without_intercepts(ext_post, ext, draws, rows) + alpha[:, p.worker_codes[rows]]
        eta1 = eta0 + credential_effect(ext.spec, ext_params, g, n, n + 1.0, z[rows])
        change = {
            "extensive": log_expit(eta1) - log_expit(eta0),
            "intensive": credential_effect(intensive.spec, int_params, g, n, n + 1.0, z[rows]),
        }
        change["total"] = change["extensive"] + change["intensive"]
        onehot = np.eye(n_scopes)[scope[rows]]
        for m in MARGINS:
            sums[m] += change[m] @ onehot
            pct_sums[m] += (100.0 * np.expm1(change[m])) @ onehot
    frames = []
    for m in MARGINS:
        mean, mean_pct = sums[m] / counts, pct_sums[m] / counts
        frame = pd.DataFrame(
            {
                "scope": labels if by == "group" else ["all observed profiles"],
                "margin": m,
                "rows": counts.astype(int),
                **summarise_draws(mean, hdi_prob),
                "prob_positive": (mean > 0).mean(axis=0),
                **summarise_draws(mean_pct, hdi_prob, prefix="pct_"),
            }
        )
        frames.append(frame)
    table = pd.concat(frames).sort_values(["scope", "margin"], key=_margin_order)
    table = table.reset_index(drop=True)
    table.attrs["hdi_prob"] = hdi_prob
    return table


def _extensive_intercepts(post: xr.Dataset, design: ModelDesign) -> np.ndarray:
    """The extensive part's worker intercepts per draw ``(draws, workers)`` from the offsets."""
    mu = stack_draws(post["mu_alpha"])[:, None]
    if design.spec.worker_effects == "none":
        return np.asarray(mu * np.ones(design.panel.n_workers))
    level = mu
    if "psi" in post:
        level = level + stack_draws(post["psi"]) @ design.mundlak_matrix().T
    return np.asarray(
        level + stack_draws(post["sigma_alpha"])[:, None] * stack_draws(post["alpha_offset"])
    )
