"""Effects of one more credential on the expected outcome of a two-part (hurdle) model, split
by margin.

With ``p = P(y > 0)`` (extensive part, logit link) and ``v = E[y | y > 0]`` (intensive part;
the hurdle family says how ``v`` follows from its predictor: ``exp(eta_int + sigma^2 / 2)`` for
log-normal amounts, the zero-truncated negative-binomial mean for counts), expected outcomes are
``E[y] = p v``. Going from ``n`` to ``n + 1`` credentials changes them by

    log E1 - log E0 = (log p1 - log p0)  +  (log v1 - log v0)
                      extensive margin      intensive margin

an exact additive split in log points; as percentages ``(1 + total) = (1 + ext) (1 + int)``.
In currency the change ``E1 - E0`` splits exactly (symmetrically, so the order of the margins
does not matter) into ``(p1 - p0) (v0 + v1) / 2`` (extensive) and ``(v1 - v0) (p0 + p1) / 2``
(intensive).

``p`` depends on the level of the extensive predictor, not just on the credential term:

* for a profile (:func:`hurdle_profile_effects`), a worker drawn from the population with that
  profile: intercepts at their mean given the profile (Mundlak means set to the profile's own
  credentials, track record and covariates), the average period (period effects sum to zero),
  and ``p`` and ``v`` averaged over each part's intercept distribution (Gauss-Hermite
  quadrature, or exactly where the family has a closed form);
* for the observed rows (:func:`hurdle_row_means`), each row's own extensive predictor,
  its worker's intercept rebuilt from the stored non-centred offsets, its period's effect (and
  likewise the intensive predictor where the intensive margin depends on its level).

Every quantity is computed per posterior draw and summarised at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import log_expit

from bayescred.analysis.effect_result import (
    add_columns,
    effect_columns,
    labelled_draws,
    percent_change,
    percent_draws,
    summarise_draws,
)
from bayescred.analysis.effects import (
    CHUNK_ELEMENTS,
    EffectResult,
    NewGroup,
    parameters_from,
    profile_group_parameters,
    rows_per_chunk,
    scope_onehot,
)
from bayescred.analysis.levels import (
    draw_parameters,
    intercept_level,
    intercept_population,
    posterior_intercepts,
    profile_level,
    sd_or_none,
)
from bayescred.analysis.predictor import (
    EffectDraws,
    chunks,
    credential_effect,
    effect_draws,
    mean_without_intercepts,
    stack_draws,
)
from bayescred.maths.quadrature import QUADRATURE_NODES, marginal_probability
from bayescred.model.design import ModelDesign
from bayescred.model.families import HurdleFamily, family_of
from bayescred.model.families.base import Part

#: Margins of a two-part effect, in table order.
MARGINS: tuple[str, ...] = HurdleFamily.margins


def _two_parts(design: ModelDesign) -> tuple[HurdleFamily, Part, Part]:
    family = family_of(design)
    if not isinstance(family, HurdleFamily):
        raise ValueError(f"not a two-part model: {family.name!r}")
    extensive, intensive = family.parts(design)
    return family, extensive, intensive


def hurdle_group_parameters(
    posterior: xr.Dataset,
    design: ModelDesign,
    profiles: pd.DataFrame,
    new_group: NewGroup,
    random_seed: int | None,
) -> tuple[EffectDraws, EffectDraws, np.ndarray]:
    """Each part's effect parameters covering the profiles' groups, and the profiles' codes.

    An unseen group gets independent population draws in the two parts (their population
    distributions are independent), but under ``"mixture"`` the same observed group in both
    parts at each draw (the group's identity is unknown, not its parameters).
    """
    _, ext, pos = _two_parts(design)
    seed = random_seed
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31 - 1))
    ext_params, codes = profile_group_parameters(
        ext.posterior(posterior), ext.design.spec, profiles, new_group, seed
    )
    int_seed = seed if new_group == "mixture" else seed + 1
    int_params, _ = profile_group_parameters(
        pos.posterior(posterior, others=(ext.naming,)),
        pos.design.spec,
        profiles,
        new_group,
        int_seed,
    )
    return ext_params, int_params, codes


def profile_changes(
    posterior: xr.Dataset,
    design: ModelDesign,
    profiles: pd.DataFrame,
    group_parameters: tuple[EffectDraws, EffectDraws, np.ndarray],
    intercepts: tuple[np.ndarray, np.ndarray | None] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Per draw and profile: the log change of each margin, the change in expected outcome of
    each margin (``gain``) and the expected outcome before, each ``(draws, profiles)``.

    ``intercepts``: the intensive part's :func:`~bayescred.analysis.levels.
    intercept_population`, computed if not given (pass it when calling chunk by chunk)."""
    family, ext, pos = _two_parts(design)
    ext_post = ext.posterior(posterior)
    int_post = pos.posterior(posterior, others=(ext.naming,))
    ext_spec, int_spec = ext.design.spec, pos.design.spec
    ext_params, int_params, codes = group_parameters
    z = design.track_scale.z(profiles["track_record"].to_numpy(float))
    n_from = profiles["credentials"].to_numpy(float)
    n_to = profiles["to"].to_numpy(float)
    zero = np.zeros_like(n_from)

    ext_level = profile_level(ext_post, ext.design, profiles, z)
    sa_ext = sd_or_none(ext_post, "sigma_alpha")
    p0 = marginal_probability(
        ext_level + credential_effect(ext_spec, ext_params, codes, zero, n_from, z), sa_ext
    )
    p1 = marginal_probability(
        ext_level + credential_effect(ext_spec, ext_params, codes, zero, n_to, z), sa_ext
    )
    d_int = credential_effect(int_spec, int_params, codes, n_from, n_to, z)
    mean_int, sa_int = intercepts or intercept_population(int_post, pos.design)
    int_level = profile_level(int_post, pos.design, profiles, z, mean_int)
    params = draw_parameters(int_post, pos.family.parameters)
    eta0 = int_level + credential_effect(int_spec, int_params, codes, zero, n_from, z)
    log_v0 = family.positive_log_mean(eta0, params, sa_int)
    int_change = family.positive_log_change(eta0, d_int, params, sa_int)
    v0, v1 = np.exp(log_v0), np.exp(log_v0 + int_change)
    log_change = {
        "extensive": np.log(p1) - np.log(p0),
        "intensive": int_change,
    }
    log_change["total"] = log_change["extensive"] + log_change["intensive"]
    gain = {
        "total": p1 * v1 - p0 * v0,
        "extensive": (p1 - p0) * (v0 + v1) / 2.0,
        "intensive": (v1 - v0) * (p0 + p1) / 2.0,
    }
    return log_change, gain, p0 * v0


def hurdle_profile_effects(
    posterior: xr.Dataset,
    design: ModelDesign,
    profiles: pd.DataFrame,
    *,
    hdi_prob: float = 0.9,
    new_group: NewGroup = "raise",
    random_seed: int | None = None,
) -> EffectResult:
    """Change in the expected outcome from ``credentials`` to ``to`` for each profile, by margin.

    Returns an :class:`EffectResult` whose ``table`` holds the total (log change, ``pct_*``,
    ``gain_*`` in the outcome's currency) and whose ``margins`` splits it into the extensive and
    intensive margins (see the module docstring).
    """
    family = _two_parts(design)[0]
    shared = hurdle_group_parameters(posterior, design, profiles, new_group, random_seed)
    codes = shared[2]
    log_change, gain, before = profile_changes(posterior, design, profiles, shared)
    labels = [str(g) for g in posterior["group"].values]

    def margin_row(margin: str) -> dict[str, np.ndarray]:
        d = log_change[margin]
        return {
            **effect_columns(d, hdi_prob, percent_change(d)),
            **summarise_draws(gain[margin], hdi_prob, prefix="gain_"),
        }

    table = profiles.copy()
    table["parameters_from"] = parameters_from(codes, len(labels), new_group)
    table["expected_before"] = np.mean(before, axis=0)
    add_columns(table, margin_row("total"))
    margins = pd.concat(
        [
            pd.DataFrame({"profile": np.arange(len(profiles)), "margin": m, **margin_row(m)})
            for m in MARGINS
        ]
    )
    margins = margins.sort_values(["profile", "margin"], key=_margin_order).reset_index(drop=True)
    total = log_change["total"]
    da = labelled_draws(total, posterior, ("profile",), "effect")
    margin_da = labelled_draws(
        np.stack([log_change[m] for m in MARGINS], axis=-1),
        posterior,
        ("profile", "margin"),
        "log_change",
        {"margin": list(MARGINS)},
    )
    pct_da = percent_draws(da, percent_change(total), "percent_gain")
    table.attrs["hdi_prob"] = hdi_prob
    margins.attrs["hdi_prob"] = hdi_prob
    return EffectResult(
        table=table,
        draws=da,
        percent=pct_da,
        hdi_prob=hdi_prob,
        notes=(
            f"Expected {design.spec.outcome.words} of a worker with this profile in an average "
            "period, averaged over the worker intercepts' distribution; log changes add up over "
            "the margins.",
        ),
        margins=margins,
        margin_draws=margin_da,
        margin_words=(design.spec.outcome.words, *family.margin_words(design.spec.outcome.words)),
    )


def _margin_order(col: pd.Series) -> pd.Series:
    if col.name == "margin":
        return col.map({m: i for i, m in enumerate(MARGINS)})
    return col


def hurdle_row_means(
    posterior: xr.Dataset,
    design: ModelDesign,
    scope: np.ndarray,
    n_scopes: int,
    *,
    chunk_rows: int | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per draw, the average over the observed rows of each scope of the next credential's
    change in the expected outcome, by margin: log changes and percentage changes, each
    ``{margin: (draws, n_scopes)}``.

    Per draw and row: the extensive change ``log p(n+1) - log p(n)`` at the row's own extensive
    predictor (worker intercept rebuilt from the stored offsets, period and covariate terms) and
    the intensive change. ``scope`` gives each row's scope code; rows with ``-1`` are left out.
    Memory is O(draws x chunk_rows).
    """
    family, ext_part, pos = _two_parts(design)
    ext = ext_part.design
    ext_post = ext_part.posterior(posterior)
    int_post = pos.posterior(posterior, others=(ext_part.naming,))
    p = ext.panel
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    draws = np.arange(n_draws)
    alpha = posterior_intercepts(ext_post, ext)
    ext_params = effect_draws(ext_post, ext.spec)
    int_params = effect_draws(int_post, pos.design.spec)
    params = draw_parameters(int_post, pos.family.parameters)
    int_eta = (
        _every_row_intensive(pos, int_post, design) if (family.change_depends_on_level) else None
    )
    counts = np.bincount(scope[scope >= 0], minlength=n_scopes).astype(float)
    sums = {m: np.zeros((n_draws, n_scopes)) for m in MARGINS}
    pct_sums = {m: np.zeros((n_draws, n_scopes)) for m in MARGINS}
    z = ext.z
    if chunk_rows is None:
        chunk_rows = rows_per_chunk(n_draws)
    for rows in chunks(p.n_rows, chunk_rows):
        if not (scope[rows] >= 0).any():
            continue
        n = p.credentials[rows].astype(float)
        g = p.group_codes[rows]
        eta0 = mean_without_intercepts(ext_post, ext, draws, rows) + alpha[:, p.worker_codes[rows]]
        eta1 = eta0 + credential_effect(ext.spec, ext_params, g, n, n + 1.0, z[rows])
        d_int = credential_effect(pos.design.spec, int_params, g, n, n + 1.0, z[rows])
        level = None if int_eta is None else int_eta(rows)
        change = {
            "extensive": log_expit(eta1) - log_expit(eta0),
            "intensive": family.positive_log_change(level, d_int, params, None)
            if level is not None
            else d_int,
        }
        change["total"] = change["extensive"] + change["intensive"]
        onehot = scope_onehot(scope[rows], n_scopes)
        for m in MARGINS:
            sums[m] += change[m] @ onehot
            pct_sums[m] += percent_change(change[m]) @ onehot
    return (
        {m: sums[m] / counts for m in MARGINS},
        {m: pct_sums[m] / counts for m in MARGINS},
    )


def hurdle_profile_means(
    posterior: xr.Dataset,
    design: ModelDesign,
    profiles: pd.DataFrame,
    scope: np.ndarray,
    n_scopes: int,
    *,
    new_group: NewGroup = "raise",
    random_seed: int | None = None,
    chunk_rows: int | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """As :func:`hurdle_row_means` over new profiles: each profile's change is that of
    :func:`hurdle_profile_effects` (a worker drawn from the population with the profile, in an
    average period), averaged per draw over the profiles of each scope.

    Profiles are processed in chunks small enough for the quadrature over intercepts (about
    :data:`~bayescred.analysis.effects.CHUNK_ELEMENTS` values at once); an unseen group has the
    same parameter draws in every chunk.
    """
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    shared = hurdle_group_parameters(posterior, design, profiles, new_group, random_seed)
    ext_params, int_params, codes = shared
    counts = np.bincount(scope[scope >= 0], minlength=n_scopes).astype(float)
    sums = {m: np.zeros((n_draws, n_scopes)) for m in MARGINS}
    pct_sums = {m: np.zeros((n_draws, n_scopes)) for m in MARGINS}
    if chunk_rows is None:
        chunk_rows = rows_per_chunk(n_draws, CHUNK_ELEMENTS // QUADRATURE_NODES)
    _, ext, pos = _two_parts(design)
    intercepts = intercept_population(pos.posterior(posterior, others=(ext.naming,)), pos.design)
    for rows in chunks(len(profiles), chunk_rows):
        if not (scope[rows] >= 0).any():
            continue
        part = profiles.iloc[rows].reset_index(drop=True)
        change, _, _ = profile_changes(
            posterior, design, part, (ext_params, int_params, codes[rows]), intercepts
        )
        onehot = scope_onehot(scope[rows], n_scopes)
        for m in MARGINS:
            sums[m] += change[m] @ onehot
            pct_sums[m] += percent_change(change[m]) @ onehot
    return (
        {m: sums[m] / counts for m in MARGINS},
        {m: pct_sums[m] / counts for m in MARGINS},
    )


def _every_row_intensive(
    pos: Part, int_post: xr.Dataset, design: ModelDesign
) -> Callable[[slice], np.ndarray]:
    """The intensive predictor (intercepts included) of every row, per draw, by row chunk.

    Workers with a positive outcome have their intercepts rebuilt from the stored offsets;
    the others (no data in the intensive part) are at the intercepts' mean given their Mundlak
    means over all of their rows.
    """
    p = design.panel
    every_row = replace(pos.design, panel=p)
    n_draws = int_post.sizes["chain"] * int_post.sizes["draw"]
    draws = np.arange(n_draws)
    kept = np.unique(p.worker_codes[pos.rows]) if pos.rows is not None else np.arange(p.n_workers)
    psi = stack_draws(int_post["psi"]) if "psi" in int_post else None
    worker_means = every_row.mundlak_matrix() if psi is not None else None
    at_mean = intercept_level(stack_draws(int_post["mu_alpha"]), psi, worker_means)
    mean = np.broadcast_to(at_mean, (n_draws, p.n_workers)).copy()
    if pos.design.spec.worker_effects != "none":
        mean[:, kept] = posterior_intercepts(int_post, pos.design)

    def level(rows: slice) -> np.ndarray:
        m = mean_without_intercepts(int_post, every_row, draws, rows)
        return np.asarray(m + mean[:, p.worker_codes[rows]])

    return level
