"""What one more credential is worth: effects for worker profiles, computed over posterior draws.

Every quantity here is a function of each posterior draw, summarised only at the end (mean,
median, HDI, probability of a positive effect), never computed from summaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.predictor import (
    EffectDraws,
    chunks,
    credential_effect,
    effect_draws,
    stack_draws,
)
from bayescred.maths.curves import CURVE_SHAPE_PARAMETER, MODIFIER_TERMS, TrackRecordScale
from bayescred.model.families import get_family
from bayescred.spec import ModelSpec

NewGroup = Literal["raise", "population"]
#: Draws x rows held at once by the averages over observed rows (a temporary is 8 MB).
CHUNK_ELEMENTS = 1_000_000


def rows_per_chunk(n_draws: int, elements: int = CHUNK_ELEMENTS) -> int:
    """Rows per chunk so that a draws x rows temporary holds about ``elements`` values."""
    return max(1, elements // max(int(n_draws), 1))


def is_log_scale(spec: ModelSpec) -> bool:
    """Whether effects on the model's scale are log changes (so percentages make sense); the
    likelihood's family says."""
    return get_family(spec.outcome.likelihood).log_scale(spec.outcome.column)


def summarise_draws(draws: np.ndarray, hdi_prob: float, prefix: str = "") -> dict[str, np.ndarray]:
    """Mean, median, HDI and P(> 0) of ``draws`` shaped ``(samples, items)``, per item."""
    hdi = _hdi(draws, hdi_prob)
    return {
        f"{prefix}mean": draws.mean(axis=0),
        f"{prefix}median": np.median(draws, axis=0),
        f"{prefix}hdi_low": hdi[:, 0],
        f"{prefix}hdi_high": hdi[:, 1],
    }


def _hdi(draws: np.ndarray, prob: float) -> np.ndarray:
    """Highest-density interval of each column of ``draws`` (ArviZ's ``hdi``)."""
    da = xr.DataArray(draws, dims=("sample", "item"))
    out = az.hdi(da, prob=prob, dim="sample")
    return np.asarray(out.transpose("item", "ci_bound").values)


@dataclass(frozen=True)
class EffectResult:
    """Posterior of a credential effect for one or more profiles.

    Attributes
    ----------
    table
        One row per profile: the profile, then mean, median, HDI and probability of a positive
        effect on the model's scale and, for log-scale outcomes, as a percentage gain
        (``pct_*`` columns, ``100 * (exp(effect) - 1)``).
    draws
        The effect draws, ``(chain, draw, profile)``, on the model's scale.
    percent
        The percentage-gain draws for log-scale outcomes, else None.
    hdi_prob
        Mass of the reported intervals.
    margins
        Hurdle models only: one row per profile and margin (``total``, ``extensive``: more
        periods with a positive amount, ``intensive``: a higher amount per such period) with the
        log change, the percentage change and the change in expected amount (``gain_*``), each
        summarised over draws. The log changes add up: total = extensive + intensive.
    margin_draws
        Hurdle models only: the log changes ``(chain, draw, profile, margin)``.
    """

    table: pd.DataFrame
    draws: xr.DataArray
    percent: xr.DataArray | None
    hdi_prob: float
    notes: tuple[str, ...] = field(default=())
    margins: pd.DataFrame | None = None
    margin_draws: xr.DataArray | None = None
    #: Hurdle models: what the expected value is of, and what each margin means, in words.
    margin_words: tuple[str, str, str] = (
        "earnings",
        "the chance of earning anything in a period",
        "higher earnings in the periods with any",
    )

    def sentence(self, row: int = 0) -> str:
        """A plain-language sentence for one profile, fit for a report."""
        r = self.table.iloc[row]
        pct = round(self.hdi_prob * 100)
        who = (
            f"a worker in group {r['group']} with {r['credentials']} credential(s) and a track "
            f"record of {r['track_record']:g}"
        )
        step = (
            "one more credential"
            if r["to"] == r["credentials"] + 1
            else f"going to {r['to']} credentials"
        )
        if self.margins is not None:
            rows = self.margins[self.margins["profile"] == row].set_index("margin")
            m = {k: rows.loc[k].astype(float) for k in ("extensive", "intensive")}
            what, extensive, intensive = self.margin_words
            return (
                f"For {who}, {step} changes expected {what} by {r['pct_median']:+.1f}% "
                f"(posterior median; {pct}% HDI {r['pct_hdi_low']:+.1f}% to "
                f"{r['pct_hdi_high']:+.1f}%): {m['extensive']['pct_median']:+.1f}% from "
                f"{extensive} (probability of a gain {m['extensive']['prob_positive']:.2f}) and "
                f"{m['intensive']['pct_median']:+.1f}% from {intensive} (probability of a gain "
                f"{m['intensive']['prob_positive']:.2f})."
            )
        if "pp_median" in r:
            return (
                f"For {who}, {step} changes the log-odds by {r['median']:+.3g} (posterior median; "
                f"{pct}% HDI {r['hdi_low']:+.3g} to {r['hdi_high']:+.3g}): the probability moves "
                f"from {100 * r['probability_before']:.1f}% by {r['pp_median']:+.1f} percentage "
                f"points ({pct}% HDI {r['pp_hdi_low']:+.1f} to {r['pp_hdi_high']:+.1f}); the "
                f"probability that the effect is positive is {r['prob_positive']:.2f}."
            )
        if self.percent is not None:
            return (
                f"For {who}, {step} changes the outcome by {r['pct_median']:+.1f}% (posterior "
                f"median; {pct}% HDI {r['pct_hdi_low']:+.1f}% to {r['pct_hdi_high']:+.1f}%); "
                f"the probability that the effect is positive is {r['prob_positive']:.2f}."
            )
        return (
            f"For {who}, {step} changes the outcome by {r['median']:+.3g} (posterior median; "
            f"{pct}% HDI {r['hdi_low']:+.3g} to {r['hdi_high']:+.3g}); the probability that the "
            f"effect is positive is {r['prob_positive']:.2f}."
        )

    def rows(self) -> pd.DataFrame:
        """The effect table; for hurdle models one row per profile and margin (the profile's
        columns joined to :attr:`margins`)."""
        if self.margins is None:
            return self.table
        cols = ["group", "credentials", "to", "track_record", "parameters_from"]
        joined = self.table[cols].join(self.margins.set_index("profile"), how="right")
        return joined.reset_index(drop=True)

    def _repr_html_(self) -> str:
        html = str(self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
        if self.margins is not None:
            html += str(self.margins.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
        return html

    def __repr__(self) -> str:
        text = f"EffectResult(hdi_prob={self.hdi_prob})\n{self.table.to_string(index=False)}"
        if self.margins is not None:
            text += "\nmargins:\n" + self.margins.to_string(index=False)
        return text


def profiles_frame(
    group: str | None,
    credentials: int | None,
    track_record: float | None,
    profiles: pd.DataFrame | None,
    to: int | None,
    covariates: dict[str, float] | None,
    spec: ModelSpec,
) -> pd.DataFrame:
    """Normalise the profile arguments to a frame with group, credentials, to, track_record."""
    if profiles is not None:
        if any(v is not None for v in (group, credentials, track_record)):
            raise ValueError("give either `profiles` or group/credentials/track_record, not both")
        missing = {"group", "credentials", "track_record"} - set(profiles.columns)
        if missing:
            raise ValueError(
                f"`profiles` lacks column(s) {sorted(missing)}; it needs group, credentials, "
                "track_record (and optionally to)"
            )
        frame = profiles.copy()
    else:
        if group is None or credentials is None or track_record is None:
            raise ValueError("a profile needs group=, credentials= and track_record=")
        frame = pd.DataFrame(
            {"group": [group], "credentials": [credentials], "track_record": [track_record]}
        )
        for name, value in (covariates or {}).items():
            frame[name] = value
    if "to" not in frame:
        frame["to"] = frame["credentials"] + 1 if to is None else to
    unknown = set(frame.columns) - {"group", "credentials", "track_record", "to", *spec.covariates}
    if unknown:
        raise ValueError(
            f"unknown profile field(s) {sorted(unknown)}; covariates of this model: "
            f"{list(spec.covariates) or 'none'}"
        )
    n = pd.to_numeric(frame["credentials"], errors="coerce")
    m = pd.to_numeric(frame["to"], errors="coerce")
    r = pd.to_numeric(frame["track_record"], errors="coerce")
    for name, values in (("credentials", n), ("to", m)):
        if values.isna().any() or (values < 0).any() or (values != np.round(values)).any():
            raise ValueError(f"profile `{name}` must be a whole number >= 0")
    if r.isna().any() or (r < 0).any() or not np.isfinite(r).all():
        raise ValueError("profile `track_record` must be a finite number >= 0")
    frame["group"] = frame["group"].astype(str)
    frame["credentials"] = n.astype(np.int64)
    frame["to"] = m.astype(np.int64)
    frame["track_record"] = r.astype(float)
    return frame.reset_index(drop=True)


def population_group_draws(
    posterior: xr.Dataset, spec: ModelSpec, rng: np.random.Generator
) -> EffectDraws:
    """Parameters of one new group per draw, drawn from the population distribution."""
    pooling = spec.effect.pooling
    flat = {
        name: stack_draws(posterior[name]) for name in posterior.data_vars if name in _POPULATION
    }
    n = next(iter(flat.values())).shape[0]
    used = [pooling.beta]
    if CURVE_SHAPE_PARAMETER[spec.effect.curve] is not None:
        used.append(pooling.lambda_)
    if MODIFIER_TERMS[spec.effect.modifier]:
        used.append(pooling.gamma)
    if "none" in used:
        raise ValueError(
            "new_group='population' needs a population distribution, but this model has "
            "pooling = 'none' for some effect parameter; refit with 'partial' pooling"
        )

    def draw(mean: str, sd: str, how: str, extra: tuple[int, ...] = ()) -> np.ndarray:
        mu = flat[mean].reshape(n, *extra)
        if how == "complete":
            return mu
        return mu + flat[sd].reshape(n, *extra) * rng.standard_normal((n, *extra))

    beta = draw("mu_beta", "sigma_beta", pooling.beta)
    shape_name = CURVE_SHAPE_PARAMETER[spec.effect.curve]
    shape = None
    if shape_name == "lambda":
        shape = np.exp(draw("log_lambda", "sigma_log_lambda", pooling.lambda_))
    elif shape_name == "kappa":
        shape = draw("kappa", "sigma_kappa", pooling.lambda_)
    k = len(MODIFIER_TERMS[spec.effect.modifier])
    gamma = draw("gamma", "sigma_gamma", pooling.gamma, (k,)) if k else np.zeros((n, 0))
    return EffectDraws(
        beta=beta[:, None], shape=None if shape is None else shape[:, None], gamma=gamma[:, None, :]
    )


_POPULATION = (
    "mu_beta",
    "sigma_beta",
    "log_lambda",
    "sigma_log_lambda",
    "kappa",
    "sigma_kappa",
    "gamma",
    "sigma_gamma",
)


def profile_group_parameters(
    posterior: xr.Dataset,
    spec: ModelSpec,
    profiles: pd.DataFrame,
    new_group: NewGroup,
    random_seed: int | None,
) -> tuple[EffectDraws, np.ndarray]:
    """Effect parameters covering every profile's group, and each profile's index into them.

    Groups the model has seen index their posterior draws; an unseen group raises, or with
    ``new_group="population"`` gets draws from the population distribution (one extra column).
    """
    if new_group not in ("raise", "population"):
        raise ValueError("new_group must be 'raise' or 'population'")
    labels = [str(g) for g in posterior["group"].values]
    params = effect_draws(posterior, spec)
    unseen = sorted(set(profiles["group"]) - set(labels))
    if unseen and new_group == "raise":
        raise ValueError(
            f"group(s) {unseen} were not in the data the model was fitted to (known: {labels}); "
            "pass new_group='population' to draw their parameters from the population distribution"
        )
    codes = np.array([labels.index(g) if g in labels else len(labels) for g in profiles["group"]])
    if unseen:
        new = population_group_draws(posterior, spec, np.random.default_rng(random_seed))
        params = EffectDraws(
            beta=np.concatenate([params.beta, new.beta], axis=1),
            shape=None
            if params.shape is None or new.shape is None
            else np.concatenate([params.shape, new.shape], axis=1),
            gamma=np.concatenate([params.gamma, new.gamma], axis=1),
        )
    return params, codes


def profile_effects(
    posterior: xr.Dataset,
    spec: ModelSpec,
    scale: TrackRecordScale,
    profiles: pd.DataFrame,
    *,
    hdi_prob: float = 0.9,
    new_group: NewGroup = "raise",
    random_seed: int | None = None,
    group_parameters: tuple[EffectDraws, np.ndarray] | None = None,
) -> EffectResult:
    """Effect of going from ``credentials`` to ``to`` for each profile (:class:`EffectResult`).

    ``group_parameters`` (from :func:`profile_group_parameters`) are used when given, so that a
    caller computing more from the same draws sees the same population draws for unseen groups.
    """
    labels = [str(g) for g in posterior["group"].values]
    params, codes = group_parameters or profile_group_parameters(
        posterior, spec, profiles, new_group, random_seed
    )
    z = scale.z(profiles["track_record"].to_numpy())
    eff = credential_effect(
        spec,
        params,
        codes,
        profiles["credentials"].to_numpy(float),
        profiles["to"].to_numpy(float),
        z,
    )
    chains, draws_per_chain = posterior.sizes["chain"], posterior.sizes["draw"]
    table = profiles.copy()
    table["parameters_from"] = np.where(
        codes < len(labels), "group posterior", "population distribution"
    )
    for key, value in summarise_draws(eff, hdi_prob).items():
        table[key] = value
    table["prob_positive"] = (eff > 0).mean(axis=0)
    coords = {
        "chain": posterior["chain"].values,
        "draw": posterior["draw"].values,
        "profile": np.arange(len(profiles)),
    }
    da = xr.DataArray(
        eff.reshape(chains, draws_per_chain, -1),
        dims=("chain", "draw", "profile"),
        coords=coords,
        name="effect",
    )
    pct_da = None
    if is_log_scale(spec):
        pct = 100.0 * np.expm1(eff)
        for key, value in summarise_draws(pct, hdi_prob, prefix="pct_").items():
            table[key] = value
        pct_da = da.copy(data=pct.reshape(da.shape)).rename("percent_gain")
    table.attrs["hdi_prob"] = hdi_prob
    return EffectResult(table=table, draws=da, percent=pct_da, hdi_prob=hdi_prob)


def average_effect(
    posterior: xr.Dataset,
    spec: ModelSpec,
    groups: np.ndarray,
    credentials: np.ndarray,
    z: np.ndarray,
    group_labels: list[str],
    *,
    by: Literal["group"] | None = None,
    hdi_prob: float = 0.9,
    chunk_rows: int | None = None,
) -> pd.DataFrame:
    """Average next-credential effect over observed profiles, per draw, then summarised.

    Rows are processed in chunks of ``chunk_rows`` (default: :data:`CHUNK_ELEMENTS` draws x
    rows at once), so memory is O(draws x chunk_rows): a few temporaries of 8 MB each.
    """
    params = effect_draws(posterior, spec)
    n_draws = params.n_draws
    n_scopes = len(group_labels) if by == "group" else 1
    scope = groups if by == "group" else np.zeros_like(groups)
    total = np.zeros((n_draws, n_scopes))
    total_pct = np.zeros((n_draws, n_scopes))
    counts = np.bincount(scope, minlength=n_scopes).astype(float)
    if chunk_rows is None:
        chunk_rows = rows_per_chunk(n_draws)
    for sl in chunks(len(groups), chunk_rows):
        n = credentials[sl].astype(float)
        eff = credential_effect(spec, params, groups[sl], n, n + 1.0, z[sl])
        onehot = np.eye(n_scopes)[scope[sl]]
        total += eff @ onehot
        total_pct += (100.0 * np.expm1(eff)) @ onehot
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / counts
        mean_pct = total_pct / counts
    table = pd.DataFrame(
        {
            "scope": group_labels if by == "group" else ["all observed profiles"],
            "rows": counts.astype(int),
        }
    )
    for key, value in summarise_draws(mean, hdi_prob).items():
        table[key] = value
    table["prob_positive"] = (mean > 0).mean(axis=0)
    if is_log_scale(spec):
        for key, value in summarise_draws(mean_pct, hdi_prob, prefix="pct_").items():
            table[key] = value
    table.attrs["hdi_prob"] = hdi_prob
    return table
