"""Parameter plots: the forest of group effects (matplotlib) and MCMC trace and rank plots
(arviz-plots, drawn into a figure of the caller's or a new one; see
:mod:`bayescred.plots.collections`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import arviz_plots as azp
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from bayescred.analysis.effects import summarise_draws
from bayescred.analysis.predictor import stack_draws
from bayescred.analysis.summary import GROUP_LEVEL_SUFFIX, PARAMETER_DESCRIPTIONS
from bayescred.plots import style
from bayescred.plots.collections import draw_collection
from bayescred.spec import ModelSpec


def population_parameters(posterior: xr.Dataset) -> list[str]:
    """Names of the population-level parameters of a posterior, in summary order (not the
    per-group values, nor the event-time profiles by adoption cohort)."""
    return [
        n
        for n in PARAMETER_DESCRIPTIONS
        if n in posterior.data_vars and not n.endswith((GROUP_LEVEL_SUFFIX, "_cohort"))
    ]


def groups_figure(
    posterior: xr.Dataset, spec: ModelSpec, *, hdi_prob: float, ax: Axes | None = None
) -> Figure:
    """Forest of the groups' first-credential effects ``beta_group`` with the population mean.

    Each group is a posterior median (point, ``gid="median:<group>"``) with its HDI (line,
    ``gid="hdi:<group>"``); the population mean ``mu_beta`` is a dashed line at its posterior
    median (``gid="mu_beta"``) over a shaded HDI (``gid="mu_beta-hdi"``). ``ax``: a
    matplotlib Axes to draw on (None makes a new figure).
    """
    labels = [str(g) for g in posterior["group"].values]
    beta = stack_draws(posterior["beta_group"].transpose("chain", "draw", "group"))
    s = summarise_draws(beta, hdi_prob)
    mu = summarise_draws(stack_draws(posterior["mu_beta"])[:, None], hdi_prob)
    with style.style_context():
        size = (style.FIGURE_WIDTH, max(2.8, 1.6 + 0.42 * len(labels)))
        fig, (ax,), own = style.target_axes(ax, 1, size)
        y = np.arange(len(labels))[::-1].astype(float)
        ax.axvspan(
            float(mu["hdi_low"][0]),
            float(mu["hdi_high"][0]),
            color=style.NEUTRAL_COLOUR,
            alpha=0.15,
            linewidth=0,
            gid="mu_beta-hdi",
            label=f"population mean, {hdi_prob:.0%} HDI",
        )
        ax.axvline(
            float(mu["median"][0]),
            color=style.POPULATION_COLOUR,
            linestyle="--",
            linewidth=1.4,
            gid="mu_beta",
            label="population mean (median)",
        )
        style.zero_line(ax, axis="x")
        for i, label in enumerate(labels):
            colour = style.group_colour(i)
            style.interval_with_median(
                ax, s["hdi_low"][i], s["hdi_high"][i], s["median"][i], y[i], colour, str(label)
            )
        ax.plot(
            [],
            [],
            color="#4D4D4D",
            marker="o",
            linewidth=2.6,
            label=f"group: median, {hdi_prob:.0%} HDI",
        )
        ax.set_yticks(y, [f"group {g}" for g in labels])
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"effect of the first credential, {style.effect_label(spec)}")
        style.add_percent_axis(ax, spec, axis="x")
        ax.set_title("Effect of the first credential, by group", loc="left")
        if own:
            fig.legend(loc="outside lower center", ncol=3)
        else:
            ax.legend(fontsize="small")
    return style.root_figure(fig)


def _figsize(n_panels: int, per_row: float, cols: int) -> tuple[float, float]:
    rows = max(1, -(-n_panels // cols))
    return (style.FIGURE_WIDTH, max(2.5, per_row * rows))


def _panels(posterior: xr.Dataset, names: Sequence[str]) -> int:
    """Number of panels: one per element of each parameter (e.g. one per ``gamma_term``)."""
    return sum(int(np.prod([posterior.sizes[d] for d in posterior[n].dims[2:]])) for n in names)


def _title(pc: azp.PlotCollection, own: bool, text: str) -> None:
    """A figure title, on figures of the plot's own only (a caller's figure is left alone)."""
    if own:
        pc.add_title(text, color="black", size=style.RC["figure.titlesize"])


def trace_collection(
    tree: xr.DataTree, var_names: Sequence[str], *, figure: Figure | SubFigure | None = None
) -> azp.PlotCollection:
    """arviz-plots ``plot_trace_dist`` (density by chain and trace) of ``var_names``.

    ``figure``: a matplotlib figure or subfigure to lay the panels out in (None makes a new
    figure, without pyplot). Returns the :class:`~arviz_plots.PlotCollection`, for arviz-plots'
    own customisation; its figure is ``pc.get_viz("figure")``.
    """
    names = list(var_names)

    def draw(pc: azp.PlotCollection | None, probe: bool) -> azp.PlotCollection:
        visuals: dict[Any, Any] = {"trace": False, "dist": False} if probe else {}
        return azp.plot_trace_dist(
            tree,
            var_names=names,
            compact=True,
            backend="matplotlib",
            plot_collection=pc,
            visuals=visuals,
        )

    with style.style_context():
        pc, own = draw_collection(draw, target=figure, figsize=_figsize(len(names), 1.35, 1))
        _title(pc, own, "MCMC traces and densities by chain (population parameters)")
    return pc


def rank_collection(
    tree: xr.DataTree, var_names: Sequence[str], *, figure: Figure | SubFigure | None = None
) -> azp.PlotCollection:
    """arviz-plots ``plot_rank`` (fractional-rank ECDF difference by chain) of ``var_names``.

    ``figure`` and the return value as in :func:`trace_collection`.
    """
    names = list(var_names)
    n = _panels(tree["posterior"].to_dataset(), names)

    def draw(pc: azp.PlotCollection | None, probe: bool) -> azp.PlotCollection:
        visuals: dict[Any, Any] = {"ecdf_lines": False, "credible_interval": False} if probe else {}
        return azp.plot_rank(
            tree,
            var_names=names,
            col_wrap=3,
            backend="matplotlib",
            plot_collection=pc,
            visuals=visuals,
        )

    with style.style_context():
        pc, own = draw_collection(draw, target=figure, figsize=_figsize(n, 2.0, 3), sharex=True)
        _title(
            pc,
            own,
            "Rank plots by chain: fractional-rank ECDF minus uniform (population parameters)",
        )
    return pc
