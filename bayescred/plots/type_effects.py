"""Figures of the effects by credential type: the ranked caterpillar plot and the shrinkage
plot (``TypeEffectsResult.plot``, ``TypeEffectsResult.plot_shrinkage``)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from bayescred.analysis.type_effects import TypeEffectsResult
from bayescred.plots import style


def _category_colours(categories: list[str]) -> dict[str, str]:
    return {c: style.group_colour(i) for i, c in enumerate(sorted(set(categories)))}


def type_effects_axes(
    result: TypeEffectsResult, *, ax: Axes | None = None, top: int | None = 30
) -> Axes:
    """Posterior means with HDI bars, one row per type (or category), ranked from the top;
    coloured by category (``gid="estimate:<category>"``), with the average over labels as a
    dashed line (``gid="average"``) and zero (``gid`` of :func:`style.zero_line`). Each label
    shows its holders. ``top``: the number of labels drawn (the highest; None: all).
    """
    value, low, high = (
        ("percent", "percent_hdi_low", "percent_hdi_high")
        if result.log_scale
        else ("mean", "hdi_low", "hdi_high")
    )
    t = result.table if top is None else result.table.head(int(top))
    n = len(t)
    categories = (
        [str(c) for c in t["category"]]
        if "category" in t.columns
        else list(map(str, t[result.dim]))
    )
    colours = _category_colours(categories)
    with style.style_context():
        _, (axes,), _ = style.target_axes(ax, 1, (style.FIGURE_WIDTH, max(2.5, 0.22 * n + 1.2)))
        style.zero_line(axes, axis="x")
        avg = float(np.mean(result.table[value]))
        axes.axvline(avg, color=style.NEUTRAL_COLOUR, linestyle="--", linewidth=1.0, gid="average")
        y = np.arange(n)[::-1]
        for cat in colours:
            sel = np.array([c == cat for c in categories])
            if not sel.any():
                continue
            mean = t[value].to_numpy(float)[sel]
            err = np.vstack(
                [mean - t[low].to_numpy(float)[sel], t[high].to_numpy(float)[sel] - mean]
            )
            axes.errorbar(
                mean,
                y[sel],
                xerr=err,
                fmt="o",
                markersize=4,
                color=colours[cat],
                label=cat,
                gid=f"estimate:{cat}",
            )
        axes.set_yticks(
            y, [f"{lab} ({int(h)})" for lab, h in zip(t[result.dim], t["holders"], strict=True)]
        )
        what = "percent change" if result.log_scale else "effect"
        axes.set_xlabel(f"first credential's {what} on {result.outcome}")
        pct = round(result.hdi_prob * 100)
        kind = "type" if result.by == "type" else "category"
        axes.set_title(f"Effect by credential {kind} (holders), {pct}% HDI")
        if result.by == "type" and len(colours) > 1:
            axes.legend(title="category", loc="lower right", fontsize="small")
    return axes


def shrinkage_axes(result: TypeEffectsResult, *, ax: Axes | None = None) -> Axes:
    """Each type's raw within estimate (hollow, ``gid="raw"``) and pooled posterior mean
    (filled, ``gid="pooled"``) against its number of holders (log scale), joined by a line per
    type (``gid="shrinkage"``): types with few holders move most, towards their category."""
    if result.by != "type" or "raw_mean" not in result.table.columns:
        raise ValueError("the shrinkage plot needs type effects with raw within estimates")
    t = result.table[result.table["raw_mean"].notna()]
    if result.log_scale:
        raw = 100.0 * np.expm1(t["raw_mean"].to_numpy(float))
        pooled = t["percent"].to_numpy(float)
    else:
        raw, pooled = t["raw_mean"].to_numpy(float), t["mean"].to_numpy(float)
    x = t["holders"].to_numpy(float)
    with style.style_context():
        _, (axes,), _ = style.target_axes(ax, 1, (style.FIGURE_WIDTH, 4.2))
        for xi, a, b in zip(x, raw, pooled, strict=True):
            axes.plot([xi, xi], [a, b], color=style.NEUTRAL_COLOUR, linewidth=0.8, gid="shrinkage")
        axes.scatter(
            x,
            raw,
            facecolors="none",
            edgecolors=style.NEUTRAL_COLOUR,
            label="raw within",
            gid="raw",
        )
        axes.scatter(x, pooled, color=style.POPULATION_COLOUR, s=14, label="pooled", gid="pooled")
        axes.set_xscale("log")
        axes.set_xlabel("holders (workers)")
        what = "percent change" if result.log_scale else "effect"
        axes.set_ylabel(f"first credential's {what}")
        axes.set_title("Shrinkage: raw within estimate and partially pooled estimate by type")
        axes.legend(loc="best", fontsize="small")
    return axes
