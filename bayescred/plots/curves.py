"""Effect curves over the credential count and over track record, computed over posterior draws.

Each curve is a posterior median line with an HDI band, computed draw by draw with
:func:`bayescred.analysis.predictor.credential_effect` (the same closed forms as the model) and
summarised only at the end. Artists carry a ``gid`` (``"cumulative:A"``, ``"next-hdi:A"``,
``"track:population"``...) so that tests and users can find the plotted values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bayescred.analysis.curve_points import population_draws
from bayescred.analysis.effects import summarise_draws
from bayescred.analysis.predictor import EffectDraws, credential_effect, effect_draws
from bayescred.maths.curves import TrackRecordScale
from bayescred.plots import style
from bayescred.spec import ModelSpec

POPULATION = "population"


@dataclass(frozen=True)
class Band:
    """A summarised curve: posterior median and HDI at each ``x``."""

    x: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class Scope:
    """Whose parameters a curve uses: the population or one group (``code`` into ``params``)."""

    label: str
    params: EffectDraws
    code: int
    colour: str


def scopes(
    posterior: xr.Dataset, spec: ModelSpec, groups: list[str] | None, *, population: bool = True
) -> list[Scope]:
    """The population (optionally) and the requested groups (default all), in palette order."""
    labels = [str(g) for g in posterior["group"].values]
    wanted = labels if groups is None else [str(g) for g in groups]
    unknown = [g for g in wanted if g not in labels]
    if unknown:
        raise ValueError(f"unknown group(s) {unknown}; the fit's groups are {labels}")
    params = effect_draws(posterior, spec)
    out = [Scope(g, params, labels.index(g), style.group_colour(labels.index(g))) for g in wanted]
    if population:
        pop = Scope(POPULATION, population_draws(posterior, spec), 0, style.POPULATION_COLOUR)
        out.insert(0, pop)
    return out


def summarise(draws: np.ndarray, x: np.ndarray, hdi_prob: float) -> Band:
    """Median and HDI of ``draws`` ``(samples, len(x))`` per column."""
    s = summarise_draws(draws, hdi_prob)
    return Band(x=np.asarray(x, float), median=s["median"], low=s["hdi_low"], high=s["hdi_high"])


def count_bands(
    spec: ModelSpec, scope: Scope, n: np.ndarray, z: float, hdi_prob: float
) -> tuple[Band, Band]:
    """Cumulative effect ``beta S(n) M`` at counts ``n`` and the next credential's effect
    ``beta (S(n + 1) - S(n)) M`` at counts ``n[:-1]``, both at standardised track record ``z``."""
    n = np.asarray(n, dtype=float)
    codes = np.full(n.size, scope.code)
    zs = np.full(n.size, z)
    cumulative = credential_effect(spec, scope.params, codes, np.zeros_like(n), n, zs)
    nxt = credential_effect(spec, scope.params, codes[:-1], n[:-1], n[:-1] + 1.0, zs[:-1])
    return summarise(cumulative, n, hdi_prob), summarise(nxt, n[:-1], hdi_prob)


def track_band(
    spec: ModelSpec,
    scale: TrackRecordScale,
    scope: Scope,
    track_records: np.ndarray,
    credentials: int,
    hdi_prob: float,
) -> Band:
    """The next credential's effect at ``credentials`` held, over ``track_records``."""
    r = np.asarray(track_records, dtype=float)
    n = np.full(r.size, float(credentials))
    codes = np.full(r.size, scope.code)
    eff = credential_effect(spec, scope.params, codes, n, n + 1.0, scale.z(r))
    return summarise(eff, r, hdi_prob)


def legend_name(scope: Scope) -> str:
    """How a scope is named in legends and titles."""
    return "population mean" if scope.label == POPULATION else f"group {scope.label}"


def _draw_band(ax: Axes, band: Band, scope: Scope, kind: str, *, markers: bool, fill: bool) -> None:
    """Median line (``gid=kind:label``), HDI edges (``kind-hdi-low:label``,
    ``kind-hdi-high:label``) and, with ``fill``, a filled HDI band (``kind-hdi:label``)."""
    pop = scope.label == POPULATION
    dashed_edges = pop and not fill
    if fill:
        ax.fill_between(
            band.x,
            band.low,
            band.high,
            color=scope.colour,
            alpha=style.BAND_ALPHA,
            linewidth=0,
            gid=f"{kind}-hdi:{scope.label}",
            zorder=2,
        )
    for name, edge in (("low", band.low), ("high", band.high)):
        ax.plot(
            band.x,
            edge,
            color=scope.colour,
            linewidth=0.9 if dashed_edges else 0.6,
            linestyle=(0, (2, 2)) if dashed_edges else "-",
            alpha=0.8 if dashed_edges else 0.45,
            gid=f"{kind}-hdi-{name}:{scope.label}",
            zorder=2,
        )
    ax.plot(
        band.x,
        band.median,
        color=scope.colour,
        linestyle="--" if pop else "-",
        marker=None if not markers else ("s" if pop else "o"),
        label=legend_name(scope),
        gid=f"{kind}:{scope.label}",
        zorder=3,
    )


def _legend_handles(shown: list[Scope], hdi_prob: float) -> list[Line2D | Patch]:
    handles: list[Line2D | Patch] = [
        Line2D(
            [],
            [],
            color=s.colour,
            linestyle="--" if s.label == POPULATION else "-",
            label=legend_name(s),
        )
        for s in shown
    ]
    handles.append(Patch(color=style.NEUTRAL_COLOUR, alpha=0.35, label=f"{hdi_prob:.0%} HDI"))
    handles.append(
        Line2D(
            [],
            [],
            color=style.POPULATION_COLOUR,
            linewidth=0.9,
            linestyle=(0, (2, 2)),
            label=f"population {hdi_prob:.0%} HDI",
        )
    )
    return handles


def effect_curve_figure(
    posterior: xr.Dataset,
    spec: ModelSpec,
    scale: TrackRecordScale,
    *,
    groups: list[str] | None,
    max_credentials: int,
    track_record: float,
    hdi_prob: float,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Two stacked panels over the count: cumulative effect and the next credential's effect.

    ``ax``: two matplotlib Axes to draw the panels on (cumulative, next), e.g. part of a figure
    of the user's own; None makes a new figure.
    """
    n = np.arange(max(int(max_credentials), 1) + 1, dtype=float)
    z = float(scale.z(track_record))
    with style.style_context():
        fig, (ax_cum, ax_next), own = style.target_axes(ax, 2, (style.FIGURE_WIDTH, 7.0))
        shown = scopes(posterior, spec, groups)
        for scope in shown:
            cum, nxt = count_bands(spec, scope, n, z, hdi_prob)
            # the population's band is drawn as dashed edges only, not to hide the groups'
            fill = scope.label != POPULATION
            _draw_band(ax_cum, cum, scope, "cumulative", markers=True, fill=fill)
            _draw_band(ax_next, nxt, scope, "next", markers=True, fill=fill)
        ax_cum.set_title("Cumulative effect of holding n credentials", loc="left")
        ax_next.set_title("Effect of the next credential (going from n to n + 1)", loc="left")
        for ax in (ax_cum, ax_next):
            style.zero_line(ax)
            ax.set_ylabel(style.effect_label(spec))
            style.add_percent_axis(ax, spec)
        ax_next.set_xlabel("credentials held, n")
        ax_next.set_xticks(n if n.size <= 21 else np.unique(np.linspace(0, n[-1], 11).round()))
        ax_cum.tick_params(labelbottom=True)
        ref = " (reference)" if np.isclose(track_record, scale.reference) else ""
        handles = _legend_handles(shown, hdi_prob)
        if own:
            fig.suptitle(
                f"Returns to credentials at a track record of {track_record:g}{ref}",
                x=0.02,
                ha="left",
            )
            fig.legend(handles=handles, loc="outside lower center", ncol=min(len(shown) + 2, 4))
        else:
            ax_cum.legend(handles=handles, fontsize="small")
    return style.root_figure(fig)


def track_record_figure(
    posterior: xr.Dataset,
    spec: ModelSpec,
    scale: TrackRecordScale,
    observed: np.ndarray,
    peak: pd.DataFrame,
    *,
    group: str | None,
    credentials: int,
    hdi_prob: float,
    ax: Axes | None = None,
) -> Figure:
    """The next credential's effect against track record on a ``log(1 + r)`` axis.

    The middle 90% of observed track records is shaded, observed values are shown as a rug,
    the reference track record as a thin line and, where the posterior puts at least half its
    mass on an interior peak (``peak`` from
    :func:`bayescred.analysis.curve_points.peak_track_record`),
    the posterior median peak as a dashed line. ``ax``: a matplotlib Axes to draw on (None
    makes a new figure).
    """
    observed = np.asarray(observed, dtype=float)
    upper = max(float(np.max(observed, initial=0.0)), scale.reference, 1.0)
    grid = np.expm1(np.linspace(0.0, np.log1p(upper), 200))
    grid[0] = 0.0
    with style.style_context():
        fig, (ax,), own = style.target_axes(ax, 1, (style.FIGURE_WIDTH, 4.4))
        ax.set_xscale("function", functions=(np.log1p, np.expm1))
        if group is None:
            scope = scopes(posterior, spec, None)[0]
        else:
            scope = scopes(posterior, spec, [group], population=False)[0]
        lo, hi = np.percentile(observed, [5, 95]) if observed.size else (0.0, upper)
        ax.axvspan(
            lo,
            hi,
            color=style.DATA_RANGE_COLOUR,
            alpha=0.22,
            linewidth=0,
            gid="data-range",
            label="middle 90% of observed track records",
        )
        band = track_band(spec, scale, scope, grid, credentials, hdi_prob)
        _draw_band(ax, band, scope, "track", markers=False, fill=True)
        rug = np.unique(observed)
        ax.plot(
            rug,
            np.zeros_like(rug),
            linestyle="none",
            marker="|",
            markersize=9,
            color=style.NEUTRAL_COLOUR,
            alpha=0.6,
            transform=ax.get_xaxis_transform(),
            gid="rug",
            label="observed track records",
            clip_on=False,
        )
        ax.axvline(
            scale.reference,
            color="#4D4D4D",
            linewidth=1.0,
            linestyle=":",
            gid="reference",
            label=f"reference track record ({scale.reference:g})",
        )
        _mark_peak(ax, peak, scope.label)
        style.zero_line(ax)
        ticks = style.nice_track_record_ticks(upper)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlim(0.0, upper * 1.02)
        ax.set_xlabel("track record r (e.g. projects completed before the period; log(1 + r) axis)")
        ax.set_ylabel(style.effect_label(spec))
        style.add_percent_axis(ax, spec)
        held = f"{credentials} credential{'s' if credentials != 1 else ''} held"
        ax.set_title(f"{legend_name(scope)}, {held}", loc="left", fontweight="normal")
        handles, _ = ax.get_legend_handles_labels()
        handles.insert(
            2, Patch(color=scope.colour, alpha=style.BAND_ALPHA * 2, label=f"{hdi_prob:.0%} HDI")
        )
        if own:
            fig.suptitle("Effect of the next credential by track record", x=0.02, ha="left")
            fig.legend(handles=handles, loc="outside lower center", ncol=2)
        else:
            ax.legend(handles=handles, fontsize="small")
    return style.root_figure(fig)


def _mark_peak(ax: Axes, peak: pd.DataFrame, label: str) -> None:
    """Mark the posterior median peak of ``label``'s row (the population row where the groups
    share the modifier and so the peak) when its interior-peak probability is >= 0.5."""
    rows = peak[peak["scope"] == label] if label in set(peak["scope"]) else peak.iloc[:1]
    if rows.empty:
        return
    row = rows.iloc[0]
    p = float(row.get("prob_interior_peak", 0.0))
    if p < 0.5 or not np.isfinite(row.get("median", np.nan)):
        return
    ax.axvline(
        float(row["median"]),
        color="#4D4D4D",
        linestyle="-.",
        linewidth=1.3,
        gid="peak",
        label=f"peak (posterior median), P(inside data) = {p:.2f}",
    )
