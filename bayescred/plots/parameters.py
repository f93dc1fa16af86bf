"""Parameter plots: the forest of group effects (matplotlib) and MCMC trace and rank plots
(arviz-plots)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import arviz_plots as azp
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bayescred.analysis.effects import summarise_draws
from bayescred.analysis.predictor import stack_draws
from bayescred.analysis.summary import GROUP_LEVEL_SUFFIX, PARAMETER_DESCRIPTIONS
from bayescred.plots import style
from bayescred.spec import ModelSpec

#: Group-level parameters (left out of the trace and rank plots by default).


def population_parameters(posterior: xr.Dataset) -> list[str]:
    """Names of the population-level parameters of a posterior, in summary order."""
    return [
        n
        for n in PARAMETER_DESCRIPTIONS
        if n in posterior.data_vars and not n.endswith(GROUP_LEVEL_SUFFIX)
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
            ax.plot(
                [s["hdi_low"][i], s["hdi_high"][i]],
                [y[i], y[i]],
                color=colour,
                linewidth=2.6,
                solid_capstyle="round",
                gid=f"hdi:{label}",
            )
            ax.plot(
                [s["median"][i]],
                [y[i]],
                marker="o",
                markersize=7,
                color=colour,
                markeredgecolor="white",
                linestyle="none",
                gid=f"median:{label}",
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


def _arviz_kwargs(n_panels: int, per_row: float, cols: int) -> dict[str, Any]:
    rows = max(1, -(-n_panels // cols))
    return {
        "backend": "matplotlib",
        "figure_kwargs": {
            "figsize": (style.FIGURE_WIDTH, max(2.5, per_row * rows)),
            "layout": "constrained",
        },
    }


def _panels(posterior: xr.Dataset, names: Sequence[str]) -> int:
    """Number of panels: one per element of each parameter (e.g. one per ``gamma_term``)."""
    return sum(int(np.prod([posterior.sizes[d] for d in posterior[n].dims[2:]])) for n in names)


def trace_plot(tree: xr.DataTree, var_names: Sequence[str]) -> azp.PlotCollection:
    """arviz-plots ``plot_trace_dist`` (density by chain and trace) of ``var_names``."""
    with style.style_context():
        kwargs = _arviz_kwargs(len(var_names), 1.35, 1)
        pc = azp.plot_trace_dist(tree, var_names=list(var_names), compact=True, **kwargs)
        pc.add_title(
            "MCMC traces and densities by chain (population parameters)",
            color="black",
            size=style.RC["figure.titlesize"],
        )
    return pc


def rank_plot(tree: xr.DataTree, var_names: Sequence[str]) -> azp.PlotCollection:
    """arviz-plots ``plot_rank`` (fractional-rank ECDF difference by chain) of ``var_names``."""
    posterior = tree["posterior"].to_dataset()
    n = _panels(posterior, var_names)
    with style.style_context():
        kwargs = _arviz_kwargs(n, 2.0, 3)
        pc = azp.plot_rank(tree, var_names=list(var_names), col_wrap=3, **kwargs)
        pc.add_title(
            "Rank plots by chain: fractional-rank ECDF minus uniform (population parameters)",
            color="black",
            size=style.RC["figure.titlesize"],
        )
    return pc
