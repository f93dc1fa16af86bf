"""arviz-plots figures drawn into a figure, subfigure or axes of the caller's.

arviz-plots functions create their own (pyplot) figure unless they are given a
``plot_collection``. :func:`draw_collection` runs such a function once as a probe (skipping its
costly visuals) to learn its layout (which plot of the grid shows which variable) and
aesthetics, closes the probe's figure,
lays the same grid out in the target (the caller's figure or subfigure, a single Axes, or a new
figure made without pyplot), and runs the function again on a
:class:`~arviz_plots.PlotCollection` of those axes. The figure drawn is the same as the
function's own; only where its axes live differs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from arviz_plots import PlotCollection
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

#: Where an arviz-plots figure goes: a figure or subfigure (a grid of new axes in it), one
#: Axes (single-panel plots only), or None (a new figure made without pyplot).
Target = Figure | SubFigure | Axes | None
#: An arviz-plots call that draws into the collection it is given (None: its own figure); with
#: ``probe=True`` it may skip its costly visuals (only the layout and aesthetics are kept).
Draw = Callable[[PlotCollection | None, bool], PlotCollection]


def _cells(viz: xr.DataTree) -> list[tuple[xr.DataArray, xr.DataArray]]:
    """``(row_index, col_index)`` arrays of every variable's plots in a layout."""
    root = viz.to_dataset()
    if "row_index" in root:
        return [(root["row_index"], root["col_index"])]
    rows, cols = viz["row_index"].to_dataset(), viz["col_index"].to_dataset()
    return [(rows[v], cols[v]) for v in rows.data_vars]


def _placed(rows: xr.DataArray, cols: xr.DataArray, axes: np.ndarray) -> xr.DataArray:
    """The axes at each plot's ``(row, col)``, shaped like ``rows``."""
    out = np.empty(rows.shape, dtype=object)
    for idx in np.ndindex(rows.shape):
        out[idx] = axes[int(rows.values[idx]), int(cols.values[idx])]
    return rows.copy(data=out)


def _layout_in(viz: xr.DataTree, holder: Figure | SubFigure, axes: np.ndarray) -> xr.DataTree:
    """The probe's layout tree with its figure and plots replaced by ``holder`` and ``axes``."""
    root = viz.to_dataset()
    figure = np.array(holder, dtype=object)
    if "row_index" in root:
        plot = _placed(root["row_index"], root["col_index"], axes)
        base = {"figure": figure, "plot": plot}
        base.update(row_index=root["row_index"], col_index=root["col_index"])
        return xr.DataTree(xr.Dataset(base))
    rows, cols = viz["row_index"].to_dataset(), viz["col_index"].to_dataset()
    plots = {v: _placed(rows[v], cols[v], axes) for v in rows.data_vars}
    return xr.DataTree.from_dict(
        {
            "/": xr.Dataset({"figure": figure}),
            "plot": xr.Dataset(plots),
            "row_index": rows,
            "col_index": cols,
        }
    )


def draw_collection(
    draw: Draw,
    *,
    target: Target,
    figsize: tuple[float, float],
    sharex: bool = False,
) -> tuple[PlotCollection, bool]:
    """Run ``draw`` so that its plots are axes of ``target``.

    Parameters
    ----------
    draw
        The arviz-plots call, taking the ``plot_collection`` to draw into and whether this is
        the probe (which may skip costly visuals: only its layout and aesthetics are used).
    target
        A figure or subfigure (a grid of new axes is added to it), one Axes (the plot must have
        a single panel), or None for a new figure of ``figsize`` made without pyplot.
    figsize
        Size of the new figure when ``target`` is None.
    sharex
        Share the x axes of the grid's plots (as the arviz-plots function would).

    Returns
    -------
    PlotCollection, bool
        The collection drawn (its figure, ``pc.get_viz("figure")``, is the target's figure or
        subfigure) and whether that figure is a new one of this function's own.
    """
    with plt.ioff():
        probe = draw(None, True)
    try:
        viz = probe.viz
        cells = _cells(viz)
    finally:
        plt.close(probe.get_viz("figure"))
    n_rows = 1 + max(int(r.max()) for r, _ in cells)
    n_cols = 1 + max(int(c.max()) for _, c in cells)
    own = target is None
    holder: Figure | SubFigure
    if isinstance(target, Axes):
        if n_rows * n_cols != 1:
            raise ValueError(
                f"this plot has {n_rows} x {n_cols} panels: pass a figure (figure=), not one Axes"
            )
        parent = target.figure
        assert parent is not None
        holder, axes = parent, np.array([[target]], dtype=object)
    else:
        holder = Figure(figsize=figsize, layout="constrained") if target is None else target
        made: Any = holder.subplots(n_rows, n_cols, squeeze=False, sharex=sharex)
        axes = np.asarray(made, dtype=object)
        used = {
            (int(r), int(c))
            for rs, cs in cells
            for r, c in zip(rs.values.ravel(), cs.values.ravel(), strict=True)
        }
        for idx, unused in np.ndenumerate(axes):
            if idx not in used:
                unused.set_axis_off()
    collection = PlotCollection(
        probe.data, _layout_in(viz, holder, axes), aes_dt=probe.aes, backend="matplotlib"
    )
    return draw(collection, False), own
