"""The posterior of effects, one row per profile or scope (``EffectResult.plot``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy.stats import gaussian_kde

from bayescred.analysis.effects import EffectResult, Scale, summarise_draws
from bayescred.plots import style
from bayescred.spec import ModelSpec

#: Draws used for each density curve (a thinned subset; the median and HDI use every draw).
KDE_DRAWS = 2000


def effect_figure(
    result: EffectResult,
    *,
    spec: ModelSpec | None = None,
    ax: Axes | None = None,
    scale: Scale = "auto",
) -> Figure:
    """Each table row's posterior: a density (``gid="density:<i>"``), its HDI (a thick line,
    ``gid="hdi:<i>"``) and its median (a point, ``gid="median:<i>"``), rows top to bottom.

    ``scale`` as in :meth:`EffectResult.prob`; ``spec`` (when known) names the axis. ``ax``: a
    matplotlib Axes to draw on (None makes a new figure). Returns the figure.
    """
    draws = result.row_draws(scale)
    pct = result._scale(scale) == "pct"
    labels = result.labels()
    s = summarise_draws(draws, result.hdi_prob)
    n = draws.shape[1]
    with style.style_context():
        size = (style.FIGURE_WIDTH, max(2.4, 1.2 + 0.55 * n))
        fig, (ax,), own = style.target_axes(ax, 1, size)
        y = np.arange(n)[::-1].astype(float)
        style.zero_line(ax, axis="x")
        step = max(1, draws.shape[0] // KDE_DRAWS)
        for i in range(n):
            colour = style.group_colour(i)
            _density(ax, draws[::step, i], y[i], colour, i)
            style.interval_with_median(
                ax, s["hdi_low"][i], s["hdi_high"][i], s["median"][i], y[i], colour, str(i)
            )
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.4, n - 0.2)
        ax.grid(axis="y", visible=False)
        if pct:
            what = style.percent_label(spec) if spec is not None else "% change"
        else:
            what = style.effect_label(spec) if spec is not None else "effect (model scale)"
        ax.set_xlabel(f"{what}; point: median, line: {result.hdi_prob:.0%} HDI")
        if own:
            ax.set_title("Posterior of the effect of more credentials")
    return style.root_figure(fig)


def _density(ax: Axes, values: np.ndarray, base: float, colour: str, i: int) -> None:
    """A density curve above ``base`` scaled to a height of 0.8 (nothing for constant draws)."""
    finite = values[np.isfinite(values)]
    if finite.size < 2 or np.ptp(finite) == 0:
        return
    grid = np.linspace(finite.min(), finite.max(), 200)
    dens: Any = gaussian_kde(finite)(grid)
    top = base + 0.8 * dens / dens.max()
    ax.fill_between(grid, base, top, color=colour, alpha=style.BAND_ALPHA * 2, linewidth=0)
    ax.plot(grid, top, color=colour, linewidth=1.0, gid=f"density:{i}")
