"""What one more credential is worth: effects for worker profiles, computed over posterior draws.

Every quantity here is a function of each posterior draw, summarised only at the end (mean,
median, HDI, probability of a positive effect), never computed from summaries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.contrast import HypothesisResult
from bayescred.analysis.predictor import (
    EffectDraws,
    credential_effect,
    effect_draws,
    stack_draws,
)
from bayescred.maths.curves import CURVE_SHAPE_PARAMETER, MODIFIER_TERMS, TrackRecordScale
from bayescred.model.families import get_family
from bayescred.spec import ModelSpec

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
#: Scales :meth:`EffectResult.prob`, ``compare`` and ``plot`` accept.
Scale = Literal["auto", "model", "log", "pct"]
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

    def _scale(self, scale: Scale) -> Literal["model", "pct"]:
        if scale == "auto":
            return "pct" if self.percent is not None else "model"
        if scale == "pct" and self.percent is None:
            raise ValueError(
                "scale='pct' needs a log-scale outcome; this effect is on the model's own "
                "scale (use scale='model')"
            )
        if scale == "log" and self.percent is None:
            raise ValueError("scale='log' needs a log-scale outcome (use scale='model')")
        if scale not in ("model", "log", "pct"):
            raise ValueError("scale must be 'auto', 'model', 'log' or 'pct'")
        return "pct" if scale == "pct" else "model"

    def row_draws(self, scale: Scale = "auto") -> np.ndarray:
        """The draws of each table row, ``(samples, rows)``, chains stacked.

        ``scale``: ``"model"`` (or ``"log"`` for log-scale outcomes) the model's scale,
        ``"pct"`` the percentage change, ``"auto"`` percentages where the outcome is on a log
        scale, else the model's scale.
        """
        da = self.percent if self._scale(scale) == "pct" else self.draws
        assert da is not None
        return stack_draws(da)

    def prob(
        self,
        gt: float | None = None,
        lt: float | None = None,
        *,
        scale: Scale = "auto",
        row: int | None = None,
    ) -> pd.Series | float:
        """Posterior probability that each row's effect exceeds ``gt`` (and/or is below ``lt``).

        Parameters
        ----------
        gt, lt
            Thresholds on ``scale``; with both, the probability of ``gt < effect < lt``. With
            neither, ``gt=0``: the probability of a positive effect.
        scale
            ``"pct"`` (percentage change; log-scale outcomes), ``"model"``/``"log"`` (the
            model's scale) or ``"auto"`` (percentages where they apply).
        row
            One row's probability as a float; None gives a Series over the table's rows.

        Notes
        -----
        For a profile the percentage and the log change have the same sign; for an average
        effect they need not (the average percentage change is not the percentage of the average
        log change), so ``prob(scale="model")`` is what the table's ``prob_positive`` reports.
        """
        if gt is None and lt is None:
            gt = 0.0
        d = self.row_draws(scale)
        ok = np.ones(d.shape, dtype=bool)
        if gt is not None:
            ok &= d > gt
        if lt is not None:
            ok &= d < lt
        unit = "%" if self._scale(scale) == "pct" else ""
        parts = ([f"> {gt:g}{unit}"] if gt is not None else []) + (
            [f"< {lt:g}{unit}"] if lt is not None else []
        )
        out = pd.Series(
            ok.mean(axis=0), index=self.table.index, name=f"P(effect {' and '.join(parts)})"
        )
        if row is not None:
            return float(out.iloc[row])
        return out

    def compare(self, i: int, j: int, *, scale: Scale = "auto") -> HypothesisResult:
        """Posterior of row ``i``'s effect minus row ``j``'s and the probability that ``i``'s is
        larger, over the joint draws (both rows come from the same posterior draws)."""
        n = len(self.table)
        for k in (i, j):
            if not -n <= k < n:
                raise ValueError(f"row {k} is out of range: the table has {n} row(s)")
        d = self.row_draws(scale)
        diff = (d[:, i] - d[:, j]).reshape(self.draws.sizes["chain"], self.draws.sizes["draw"])
        labels = self.labels()
        unit = " (percentage points of gain)" if self._scale(scale) == "pct" else ""
        return HypothesisResult(
            hypothesis=f"effect[{labels[i]}] > effect[{labels[j]}]",
            draws=xr.DataArray(
                diff,
                dims=("chain", "draw"),
                coords={"chain": self.draws["chain"].values, "draw": self.draws["draw"].values},
                name="difference",
            ),
            direction=">",
            hdi_prob=self.hdi_prob,
            what=f"(row {i} - row {j}){unit}",
        )

    def plot(self, ax: Any = None, *, scale: Scale = "auto") -> Any:
        """Each row's posterior density with its median and HDI; returns the matplotlib Figure.

        ``ax``: a matplotlib Axes to draw on (None makes a new figure). ``scale`` as in
        :meth:`prob`.
        """
        if self.plotter is None:
            raise ValueError(
                "this result has no plotter attached; draw it with "
                "bayescred.plots.effects.effect_figure(result)"
            )
        return self.plotter(self, ax=ax, scale=scale)

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
        html = str(self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
        if self.margins is not None:
            html += str(self.margins.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
        return html

    def __repr__(self) -> str:
        text = (
            f"{type(self).__name__}(hdi_prob={self.hdi_prob})\n{self.table.to_string(index=False)}"
        )
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
    chains, draws_per_chain = posterior.sizes["chain"], posterior.sizes["draw"]
    table = profiles.copy()
    table["parameters_from"] = parameters_from(codes, len(labels), new_group)
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
