"""What one more credential is worth: effects for worker profiles, computed over posterior draws.

Every quantity here is a function of each posterior draw, summarised only at the end (mean,
median, HDI, probability of a positive effect), never computed from summaries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.effect_result import (
    BaseEffectResult,
    add_columns,
    effect_columns,
    labelled_draws,
    percent_change,
    percent_draws,
)
from bayescred.analysis.effect_result import Scale as Scale
from bayescred.analysis.effect_result import summarise_draws as summarise_draws
from bayescred.analysis.predictor import (
    EffectDraws,
    credential_effect,
    effect_draws,
)
from bayescred.maths.curves import TrackRecordScale
from bayescred.model.families import get_family
from bayescred.spec import ModelSpec
from bayescred.terms.credential import CredentialTerm

#: What to do with a group the model has not seen: refuse (``"raise"``), draw its parameters
#: from the population distribution (``"population"``), or treat it as one of the observed
#: groups of unknown identity (``"mixture"``; see :func:`mixture_group_draws`).
NewGroup = Literal["raise", "population", "mixture"]
#: ``parameters_from`` of a profile, by where its group's parameters came from.
PARAMETERS_FROM: dict[str, str] = {
    "group": "group posterior",
    "population": "population distribution",
    "mixture": "mixture of observed groups",
}
#: Draws x rows held at once by the averages over observed rows (a temporary is 8 MB).
CHUNK_ELEMENTS = 1_000_000


def rows_per_chunk(n_draws: int, elements: int = CHUNK_ELEMENTS) -> int:
    """Rows per chunk so that a draws x rows temporary holds about ``elements`` values."""
    return max(1, elements // max(int(n_draws), 1))


def scope_onehot(scope: np.ndarray, n_scopes: int) -> np.ndarray:
    """``(rows, n_scopes)`` indicator of each row's scope; rows with scope ``-1`` are all zero."""
    out = np.zeros((len(scope), n_scopes))
    kept = scope >= 0
    out[np.flatnonzero(kept), scope[kept]] = 1.0
    return out


def is_log_scale(spec: ModelSpec) -> bool:
    """Whether effects on the model's scale are log changes (so percentages make sense); the
    likelihood's family says."""
    return get_family(spec.outcome.likelihood).log_scale(spec.outcome.column)


@dataclass(frozen=True)
class EffectResult(BaseEffectResult):
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
    plotter
        The function :meth:`plot` draws with (attached by :class:`bayescred.CredentialFit`;
        :func:`bayescred.plots.effects.effect_figure`).
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
    plotter: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ draws per table row
    def labels(self) -> list[str]:
        """A short label of each table row (group, credentials, track record)."""
        t = self.table
        return [
            f"{g}: {n} → {m} credentials, track record {r:g}"
            for g, n, m, r in zip(
                t["group"], t["credentials"], t["to"], t["track_record"], strict=True
            )
        ]

    # ------------------------------------------------------------------ words and display
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
        html = super()._repr_html_()
        if self.margins is not None:
            html += str(self.margins.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
        return html

    def __repr__(self) -> str:
        text = super().__repr__()
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
    """Parameters of one new group per draw, drawn from the population distribution
    (:meth:`bayescred.terms.credential.CredentialTerm.new_group_draws`)."""
    return CredentialTerm(spec.effect).new_group_draws(posterior, rng)


def mixture_group_draws(params: EffectDraws, rng: np.random.Generator) -> EffectDraws:
    """Parameters of one group of unknown identity among the observed groups, per draw.

    Each draw takes the parameters of one observed group at that draw, every group equally
    often (equal weights, not weighted by the groups' numbers of rows; draws are assigned to
    groups in a random order). The result is the posterior of a worker's effect when the group
    is one of those observed but which one is unknown: the groups' posteriors mixed, so it
    includes the spread between the observed groups but, unlike ``"population"``, no group
    beyond them.
    """
    n, k = params.beta.shape
    pick = rng.permutation(np.arange(n) % k)
    rows = np.arange(n)
    return EffectDraws(
        beta=params.beta[rows, pick][:, None],
        shape=None if params.shape is None else params.shape[rows, pick][:, None],
        gamma=params.gamma[rows, pick][:, None, :],
    )


def parameters_from(codes: np.ndarray, n_groups: int, new_group: NewGroup) -> np.ndarray:
    """Where each profile's group parameters came from (the ``parameters_from`` column)."""
    unseen = PARAMETERS_FROM["mixture" if new_group == "mixture" else "population"]
    return np.where(codes < n_groups, PARAMETERS_FROM["group"], unseen)


def profile_group_parameters(
    posterior: xr.Dataset,
    spec: ModelSpec,
    profiles: pd.DataFrame,
    new_group: NewGroup,
    random_seed: int | None,
) -> tuple[EffectDraws, np.ndarray]:
    """Effect parameters covering every profile's group, and each profile's index into them.

    Groups the model has seen index their posterior draws. An unseen group raises
    (``new_group="raise"``) or gets one extra column of parameters: draws from the population
    distribution (``"population"``, :func:`population_group_draws`) or the observed groups'
    mixture (``"mixture"``, :func:`mixture_group_draws`). All unseen groups share that column.
    """
    if new_group not in ("raise", "population", "mixture"):
        raise ValueError("new_group must be 'raise', 'population' or 'mixture'")
    labels = [str(g) for g in posterior["group"].values]
    params = effect_draws(posterior, spec)
    unseen = sorted(set(profiles["group"]) - set(labels))
    if unseen and new_group == "raise":
        raise ValueError(
            f"group(s) {unseen} were not in the data the model was fitted to (known: {labels}); "
            "pass new_group='population' to draw their parameters from the population "
            "distribution, or new_group='mixture' to treat them as one of the observed groups "
            "of unknown identity"
        )
    codes = np.array([labels.index(g) if g in labels else len(labels) for g in profiles["group"]])
    if unseen:
        rng = np.random.default_rng(random_seed)
        if new_group == "mixture":
            new = mixture_group_draws(params, rng)
        else:
            new = population_group_draws(posterior, spec, rng)
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
    pct = percent_change(eff) if is_log_scale(spec) else None
    table = profiles.copy()
    table["parameters_from"] = parameters_from(codes, len(labels), new_group)
    add_columns(table, effect_columns(eff, hdi_prob, pct))
    table.attrs["hdi_prob"] = hdi_prob
    da = labelled_draws(eff, posterior, ("profile",), "effect")
    pct_da = percent_draws(da, pct, "percent_gain")
    return EffectResult(table=table, draws=da, percent=pct_da, hdi_prob=hdi_prob)
