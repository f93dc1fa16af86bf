"""One house style for every bayescred figure: sizes, fonts, palette, grid, axis labels.

Figures are sized for a report column (7 in wide) with fonts legible at that size, use the
Okabe-Ito colour-blind-safe palette, and a light grid. Everything is applied through
:func:`style_context` (a :func:`matplotlib.rc_context`), so the user's global rcParams are never
changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from numpy.typing import ArrayLike

from bayescred.analysis.effects import is_log_scale
from bayescred.model.families import get_family
from bayescred.spec import ModelSpec

#: Okabe & Ito (2008) colour-blind-safe palette, in the order groups receive colours.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "reddish_purple": "#CC79A7",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
#: Colours for groups, cycled when there are more groups than colours (Okabe-Ito's yellow is
#: left out: it is too light for lines on white).
GROUP_COLOURS: tuple[str, ...] = tuple(
    v for k, v in OKABE_ITO.items() if k not in ("black", "yellow")
)
#: Colour of the shaded range of observed data.
DATA_RANGE_COLOUR = OKABE_ITO["yellow"]
#: Colour of population-level lines.
POPULATION_COLOUR = "#000000"
#: Colour of reference lines and shaded data ranges.
NEUTRAL_COLOUR = "#7F7F7F"
#: Figure width in inches (a report column).
FIGURE_WIDTH = 7.0
#: Resolution for saved and embedded figures.
DPI = 150
#: Opacity of HDI bands.
BAND_ALPHA = 0.13

RC: dict[Any, Any] = {
    "figure.figsize": (FIGURE_WIDTH, 4.2),
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "savefig.bbox": "tight",
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "axes.grid": True,
    "grid.color": "#D9D9D9",
    "grid.linewidth": 0.6,
    "grid.alpha": 1.0,
    "axes.axisbelow": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#4D4D4D",
    "axes.linewidth": 0.8,
    "axes.prop_cycle": cycler(color=[*GROUP_COLOURS, "#4D4D4D"]),
    "lines.linewidth": 1.8,
    "lines.markersize": 4.5,
}


@contextmanager
def style_context() -> Iterator[None]:
    """Apply the bayescred style to the figures created inside the block."""
    with mpl.rc_context(RC):
        yield


def group_colour(index: int) -> str:
    """The palette colour of the ``index``-th group."""
    return GROUP_COLOURS[index % len(GROUP_COLOURS)]


def target_axes(
    ax: Axes | Sequence[Axes] | None, n: int, figsize: tuple[float, float]
) -> tuple[Figure | SubFigure, list[Axes], bool]:
    """The axes a figure function draws on: the caller's, or ``n`` new stacked ones.

    Returns the figure (or subfigure) holding them, the axes, and whether the figure is the
    function's own (then it may add a title and a legend outside the axes; on the caller's
    axes the legend goes inside the first axes and the figure is left alone).
    """
    if ax is None:
        own = Figure(figsize=figsize, layout="constrained")
        made: Any = own.subplots(n, 1, sharex=True) if n > 1 else own.subplots()
        return own, [a for a in np.atleast_1d(made)], True
    axes_list: list[Any] = [ax] if isinstance(ax, Axes) else list(ax)
    if len(axes_list) != n or not all(isinstance(a, Axes) for a in axes_list):
        raise ValueError(f"ax must be {'a matplotlib Axes' if n == 1 else f'{n} matplotlib Axes'}")
    holder = axes_list[0].figure
    assert holder is not None
    return holder, axes_list, False


def root_figure(fig: Figure | SubFigure) -> Figure:
    """The top-level figure of a figure or subfigure (what the plot functions return)."""
    root = fig.get_figure(root=True) if isinstance(fig, SubFigure) else fig
    assert isinstance(root, Figure)
    return root


def outcome_label(spec: ModelSpec) -> str:
    """The outcome's name in words, e.g. ``"log project value"``."""
    return spec.outcome.words


def percent_label(spec: ModelSpec) -> str:
    """Label of the percentage axis of a log-scale outcome, e.g. ``"% change in project value"``."""
    return f"% change in {spec.outcome.level_words}"


def effect_label(spec: ModelSpec) -> str:
    """Label of an effect axis on the model's scale, with its unit (the family's wording).

    Log-scale effects are differences of logs (0.09 is about +9%), not "log points" (which
    would be 100 times that); the percentage axis of :func:`add_percent_axis` gives the %.
    """
    return get_family(spec.outcome.likelihood).effect_label(spec.outcome.words, spec.outcome.column)


def _to_percent(x: ArrayLike) -> np.ndarray:
    return 100.0 * np.expm1(np.asarray(x, dtype=float))


def _from_percent(p: ArrayLike) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log1p(np.maximum(np.asarray(p, dtype=float), -99.999) / 100.0)


def add_percent_axis(ax: Axes, spec: ModelSpec, *, axis: str = "y") -> None:
    """For log-scale outcomes, a secondary axis showing effects as percentage changes.

    ``100 * (exp(effect) - 1)``; does nothing for outcomes on their own scale.
    """
    if not is_log_scale(spec):
        return
    if axis == "y":
        sec = ax.secondary_yaxis("right", functions=(_to_percent, _from_percent))
        sec.set_ylabel(percent_label(spec))
    else:
        sec = ax.secondary_xaxis("top", functions=(_to_percent, _from_percent))
        sec.set_xlabel(percent_label(spec))
    sec.tick_params(labelsize=RC["xtick.labelsize"])


def zero_line(ax: Axes, *, axis: str = "y") -> None:
    """A thin line at zero effect."""
    kw: dict[str, Any] = {"color": "#4D4D4D", "linewidth": 0.8, "zorder": 1}
    if axis == "y":
        ax.axhline(0.0, **kw)
    else:
        ax.axvline(0.0, **kw)


def nice_track_record_ticks(upper: float) -> list[float]:
    """Ticks 0, 1, 3, 10, 30, 100, ... up to ``upper`` for a ``log(1 + r)`` axis."""
    ticks = [0.0]
    k = 0
    while True:
        for m in (1.0, 3.0):
            t = m * 10.0**k
            if t > upper * 1.05:
                return ticks
            ticks.append(t)
        k += 1


def interval_with_median(
    ax: Axes, low: float, high: float, median: float, y: float, colour: str, key: str
) -> None:
    """One horizontal posterior interval at height ``y`` with its median as a dot (artists'
    ``gid``: ``hdi:{key}`` and ``median:{key}``)."""
    ax.plot(
        [low, high], [y, y], color=colour, linewidth=2.6, solid_capstyle="round", gid=f"hdi:{key}"
    )
    ax.plot(
        [median],
        [y],
        marker="o",
        markersize=7,
        color=colour,
        markeredgecolor="white",
        linestyle="none",
        gid=f"median:{key}",
    )
