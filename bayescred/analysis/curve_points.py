"""Points of the effect curves users quote: where returns saturate, where track record peaks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.effects import summarise_draws
from bayescred.analysis.predictor import EffectDraws, credential_effect, effect_draws
from bayescred.maths.curves import TrackRecordScale
from bayescred.spec import ModelSpec
from bayescred.terms.credential import CredentialTerm


def population_draws(posterior: xr.Dataset, spec: ModelSpec) -> EffectDraws:
    """The population-level effect parameters as one pseudo-group ``(draws, 1[, terms])``."""
    return CredentialTerm(spec.effect).population_draws(posterior)


def _scopes(posterior: xr.Dataset, spec: ModelSpec) -> list[tuple[str, EffectDraws, int]]:
    groups = effect_draws(posterior, spec)
    labels = [str(g) for g in posterior["group"].values]
    return [("population", population_draws(posterior, spec), 0)] + [
        (label, groups, i) for i, label in enumerate(labels)
    ]


def saturation_point(
    posterior: xr.Dataset,
    spec: ModelSpec,
    scale: TrackRecordScale,
    *,
    threshold: float = 0.01,
    track_record: float | None = None,
    max_credentials: int = 100,
    hdi_prob: float = 0.9,
) -> pd.DataFrame:
    """Posterior of the smallest count ``n*`` past which one more credential adds < ``threshold``.

    For each draw, ``n*`` is the smallest ``n`` such that the next credential's effect is below
    the threshold at ``n`` and at every count up to ``max_credentials``; draws where that never
    happens count as not saturating. Evaluated at ``track_record`` (default: the reference
    track record, where the modifier is 1), for the population and each group.
    """
    r = scale.reference if track_record is None else float(track_record)
    n = np.arange(max_credentials + 1, dtype=float)
    rows = []
    for label, params, code in _scopes(posterior, spec):
        codes = np.full(n.size, code)
        eff = credential_effect(spec, params, codes, n, n + 1.0, np.full(n.size, float(scale.z(r))))
        below = eff < threshold
        # all counts from n on are below: reverse cumulative AND
        tail_below = np.flip(np.logical_and.accumulate(np.flip(below, axis=1), axis=1), axis=1)
        saturates = tail_below.any(axis=1)
        first = np.where(saturates, np.argmax(tail_below, axis=1), -1).astype(float)
        ok = first[saturates]
        row = {"scope": label, "track_record": r, "prob_saturates": float(saturates.mean())}
        if ok.size:
            stats = summarise_draws(ok[:, None], hdi_prob)
            row.update({k: float(v[0]) for k, v in stats.items()})
        else:
            row.update({"mean": np.nan, "median": np.nan, "hdi_low": np.nan, "hdi_high": np.nan})
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update(threshold=threshold, max_credentials=max_credentials, hdi_prob=hdi_prob)
    return table


def peak_track_record(
    posterior: xr.Dataset,
    spec: ModelSpec,
    scale: TrackRecordScale,
    data_range: tuple[float, float],
    *,
    hdi_prob: float = 0.9,
) -> pd.DataFrame:
    """Posterior of the track record at which the credential effect is largest.

    Under the log-quadratic modifier ``M = exp(g1 z + g2 z^2)`` the peak is at
    ``z* = -g1 / (2 g2)`` when ``g2 < 0``; a draw has an interior peak when ``g2 < 0`` and the
    peak lies inside the data's track-record range. The table's ``statement`` column says in
    words whether the curve peaks inside the data or is monotone over it.
    """
    lo, hi = data_range
    rows = []
    scopes = _scopes(posterior, spec)
    if spec.effect.pooling.gamma == "complete":
        scopes = scopes[:1]  # every group shares the population modifier
    for label, params, code in scopes:
        gamma = params.gamma[:, code, :]
        if gamma.shape[-1] < 2:
            g1 = gamma[:, 0] if gamma.shape[-1] else np.zeros(gamma.shape[0])
            direction = float((g1 > 0).mean())
            rows.append(
                {
                    "scope": label,
                    "prob_interior_peak": 0.0,
                    "median": np.nan,
                    "hdi_low": np.nan,
                    "hdi_high": np.nan,
                    "statement": (
                        "no track-record modifier: the effect does not vary with track record"
                        if not gamma.shape[-1]
                        else f"monotone in track record under the {spec.effect.modifier} modifier "
                        f"(P(increasing) = {direction:.2f})"
                    ),
                }
            )
            continue
        g1, g2 = gamma[:, 0], gamma[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            z_star = np.where(g2 < 0, -g1 / (2.0 * g2), np.nan)
        r_star = scale.track_record(np.clip(z_star, -50, 50))
        interior = (g2 < 0) & (r_star >= lo) & (r_star <= hi)
        p = float(interior.mean())
        row = {"scope": label, "prob_interior_peak": p}
        if interior.any():
            stats = summarise_draws(r_star[interior][:, None], hdi_prob)
            row.update({k: float(v[0]) for k, v in stats.items() if k != "mean"})
        else:
            row.update({"median": np.nan, "hdi_low": np.nan, "hdi_high": np.nan})
        if p >= 0.5:
            row["statement"] = (
                f"the effect peaks at a track record of about {row['median']:.3g} "
                f"(P(peak inside the data's range {lo:g}-{hi:g}) = {p:.2f})"
            )
        else:
            increasing = float((g1 + 2 * g2 * scale.z(hi) > 0).mean())
            row["statement"] = (
                f"monotone over the data's range {lo:g}-{hi:g} in most draws (P(interior peak) = "
                f"{p:.2f}; P(still increasing at the top of the range) = {increasing:.2f})"
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update(hdi_prob=hdi_prob, data_range=data_range)
    return table
