"""What a calibration (SBC) study returns: the rank table, uniformity tests, plots, verdict.

Ranks to PIT values: a rank ``r`` among ``L`` kept draws is uniform on ``0..L`` under a
calibrated model, so ``(r + u) / (L + 1)`` with ``u ~ Uniform(0, 1)`` (seeded) is exactly
uniform on ``(0, 1)``; simulations may keep different ``L``. Uniformity is tested per
parameter with ArviZ's ``uniformity_test`` (``pot_c``: pointwise order test with Cauchy
combination), and the p-values are Bonferroni-corrected for the number of parameters.

The plot draws each parameter's ECDF minus the uniform CDF with ArviZ's simultaneous band
(:func:`arviz_stats.ecdf_utils.ecdf_pit`, the Säilynoja et al. 2022 envelope: SBC's PIT values
are independent across simulations, which the envelope assumes). It is drawn with Matplotlib
onto the caller's axes or figure: ArviZ's ``plot_ecdf_pit`` makes its own figure (a
``PlotCollection``) and takes no ``ax``; :meth:`CalibrationResult.to_datatree` gives the
``prior_sbc`` group it reads, for those who want it.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: Family-wise significance level of the uniformity tests.
ALPHA = 0.05
#: Probability of the simultaneous ECDF band.
BAND_PROB = 0.95


def pit_values(table: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """Randomised PIT ``(rank + u) / (L + 1)`` of each row of a rank table."""
    u = np.random.default_rng(seed).random(len(table))
    return np.asarray((table["rank"].to_numpy() + u) / (table["L"].to_numpy() + 1.0))


def uniformity_tests(table: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """Per parameter: simulations, the ``pot_c`` p-value and its Bonferroni correction."""
    from arviz_stats.base import array_stats

    rows = []
    names = list(dict.fromkeys(table["parameter"]))
    for name in names:
        pit = table.loc[table["parameter"] == name, "pit"].to_numpy(dtype=float)
        p_value = float(array_stats.uniformity_test(pit, axis=-1, method="pot_c")[0])
        rows.append({"parameter": name, "simulations": int(pit.size), "p_value": p_value})
    out = pd.DataFrame(rows, columns=["parameter", "simulations", "p_value"])
    out["p_adjusted"] = np.minimum(1.0, out["p_value"] * max(len(out), 1))
    out["uniform"] = out["p_adjusted"] >= alpha
    return out


@dataclass
class CalibrationResult:
    """Ranks of the true parameters among their posterior draws over SBC simulations.

    Attributes
    ----------
    table
        Tidy ranks: one row per simulation and parameter element (``simulation``,
        ``parameter``, ``truth``, ``rank``, ``L`` kept draws, ``pit``).
    simulations
        One row per simulation: ``status`` (``ok`` or the error), divergences, worst R-hat.
    settings
        The study's settings (spec, sampler arguments, seed...).
    path
        The results file (None when the study ran without ``out``: nothing kept).
    """

    table: pd.DataFrame
    simulations: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    @property
    def tests(self) -> pd.DataFrame:
        """Uniformity test per parameter (p-value, Bonferroni-adjusted p-value, verdict)."""
        return uniformity_tests(self.table)

    @property
    def failed(self) -> int:
        """Simulations whose draw or fit failed (left out of the ranks)."""
        return int((self.simulations["status"] != "ok").sum()) if len(self.simulations) else 0

    @property
    def calibrated(self) -> bool:
        """Whether every parameter's ranks pass the corrected uniformity test."""
        return bool(self.tests["uniform"].all()) and len(self.table) > 0

    @property
    def verdict(self) -> str:
        """One sentence: calibrated, or which parameters are not."""
        tests = self.tests
        n = int(self.table["simulation"].nunique()) if len(self.table) else 0
        failed = f"; {self.failed} simulations failed and are left out" if self.failed else ""
        if not len(tests):
            return f"no completed simulations{failed}"
        if self.calibrated:
            return (
                f"calibrated: the ranks of all {len(tests)} parameters are consistent with "
                f"uniform over {n} simulations (smallest Bonferroni-adjusted p = "
                f"{tests['p_adjusted'].min():.3g}){failed}"
            )
        bad = tests.loc[~tests["uniform"]].sort_values("p_adjusted")
        listed = ", ".join(f"{r.parameter} (p = {r.p_adjusted:.2g})" for r in bad.itertuples())
        return (
            f"NOT calibrated: the ranks of {len(bad)} of {len(tests)} parameters depart from "
            f"uniform over {n} simulations (Bonferroni-adjusted p < {ALPHA}): {listed}{failed}"
        )

    def to_datatree(self) -> xr.DataTree:
        """The PIT values as a ``prior_sbc`` group (``chain`` 1, ``draw`` = simulation), the
        layout ``arviz_plots.plot_ecdf_pit`` reads."""
        wide = self.table.pivot(index="simulation", columns="parameter", values="pit")
        data = {str(c): (("chain", "draw"), wide[c].to_numpy()[None]) for c in wide.columns}
        ds = xr.Dataset(data, coords={"chain": [0], "draw": wide.index.to_numpy()})
        return xr.DataTree.from_dict({"prior_sbc": ds})

    def plot(
        self, parameters: list[str] | None = None, *, ax: Any = None, figure: Any = None
    ) -> Any:
        """ECDF-difference plot of each parameter's PIT values with a simultaneous band.

        Parameters
        ----------
        parameters
            Elements to draw (default all).
        ax
            One Matplotlib axes or an array of them (one per parameter).
        figure
            A Matplotlib figure to draw into (a grid of axes is added).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        from arviz_stats.ecdf_utils import ecdf_pit

        names = parameters or list(dict.fromkeys(self.table["parameter"]))
        adjusted = dict(zip(self.tests["parameter"], self.tests["p_adjusted"], strict=True))
        if ax is not None:
            axes = list(np.atleast_1d(ax).ravel())
            if len(axes) < len(names):
                raise ValueError(f"{len(names)} parameters need as many axes, got {len(axes)}")
            fig = axes[0].figure
        else:
            ncols = min(4, len(names)) or 1
            nrows = max(1, math.ceil(len(names) / ncols))
            fig = figure or plt.figure(figsize=(3.2 * ncols, 2.4 * nrows))
            grid = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
            axes = list(grid.ravel())
            for extra in axes[len(names) :]:
                extra.set_visible(False)
        for a, name in zip(axes, names, strict=False):
            pit = self.table.loc[self.table["parameter"] == name, "pit"].to_numpy(dtype=float)
            x, ecdf, low, high = ecdf_pit(pit, BAND_PROB, 1000, rng=np.random.default_rng(0))
            a.fill_between(x, low - x, high - x, step="post", color="0.85", lw=0)
            a.step(x, ecdf - x, where="post", color="C0")
            a.axhline(0.0, color="0.4", lw=0.6)
            p = float(adjusted.get(name, float("nan")))
            a.set_title(str(name) + f"\nadj. p = {p:.2g}", fontsize=8)
            a.tick_params(labelsize=7)
        axes[0].figure.supxlabel("PIT (fractional rank)", fontsize=8)
        axes[0].figure.supylabel("ECDF - uniform", fontsize=8)
        return fig

    # ------------------------------------------------------------------ display
    def _lines(self) -> list[str]:
        s = self.settings
        n_ok = int((self.simulations["status"] == "ok").sum()) if len(self.simulations) else 0
        return [
            f"spec: {s.get('spec_name', '?')}",
            f"simulations: {n_ok} completed, {self.failed} failed",
            f"sampler: {s.get('fit', {})}",
        ]

    def __repr__(self) -> str:
        lines = ["CalibrationResult (simulation-based calibration)"]
        lines += [f"  {line}" for line in self._lines()]
        lines.append(f"  verdict: {self.verdict}")
        lines.append("  parameter, simulations, p-value, Bonferroni-adjusted p-value:")
        for r in self.tests.itertuples():
            flag = "" if r.uniform else "  <- not uniform"
            lines.append(
                f"    {r.parameter!s:<28} {r.simulations:>5}  {r.p_value:.3g}  "
                f"{r.p_adjusted:.3g}{flag}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        colour = "#1b7837" if self.calibrated else "#b2182b"
        info = "".join(f"<li>{e(line)}</li>" for line in self._lines())
        body = "".join(
            f"<tr><td style='text-align:left'>{e(str(r.parameter))}</td><td>{r.simulations}</td>"
            f"<td>{r.p_value:.3g}</td><td>{r.p_adjusted:.3g}</td>"
            f"<td>{'yes' if r.uniform else 'no'}</td></tr>"
            for r in self.tests.itertuples()
        )
        return (
            "<div class='bayescred-calibration'><h3>CalibrationResult "
            "(simulation-based calibration)</h3>"
            f"<ul>{info}</ul>"
            f"<p style='color:{colour}'><strong>{e(self.verdict)}</strong></p>"
            "<table><thead><tr><th>parameter</th><th>simulations</th><th>p-value</th>"
            "<th>Bonferroni-adjusted p-value</th><th>uniform</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )


def rank_table(rows: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The tidy rank table from a results file's element rows."""
    if not len(rows):
        return pd.DataFrame(columns=["simulation", "parameter", "truth", "rank", "L", "pit"])
    table = rows.rename(columns={"index": "simulation", "name": "parameter"})[
        ["simulation", "parameter", "truth", "rank", "L"]
    ].reset_index(drop=True)
    table["rank"] = table["rank"].astype(int)
    table["L"] = table["L"].astype(int)
    table["pit"] = pit_values(table, seed)
    return table
