"""What every effect result shares: posterior draws of an effect, labelled and summarised.

An effect computed over posterior draws, ``(samples, rows)`` with the chains stacked, becomes

* the table's summary columns (:func:`effect_columns`: mean, median, HDI and probability of a
  positive effect on the model's scale and, for log-scale outcomes, of the percentage change
  ``100 * (exp(effect) - 1)``, :func:`percent_change`, as ``pct_*`` columns);
* a labelled array ``(chain, draw, <rows>)`` (:func:`labelled_draws`) and its percentage
  version (:func:`percent_draws`);
* a result object holding both (:class:`BaseEffectResult`: ``prob``, ``compare``, ``plot``,
  ``row_draws``, its repr), whose subclasses say what a row is (``labels``) and put it into
  words (``sentence``): :class:`bayescred.analysis.effects.EffectResult` (profiles, hurdle
  margins) and :class:`bayescred.analysis.average_effects.AverageEffect` (scopes).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.contrast import HypothesisResult
from bayescred.analysis.predictor import stack_draws

#: Scales :meth:`BaseEffectResult.prob`, ``compare`` and ``plot`` accept.
Scale = Literal["auto", "model", "log", "pct"]


# ---------------------------------------------------------------------- summaries of draws
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


def percent_change(effect: np.ndarray) -> np.ndarray:
    """The percentage change ``100 * (exp(effect) - 1)`` of a log change."""
    return 100.0 * np.expm1(effect)


def effect_columns(
    effect: np.ndarray, hdi_prob: float, percent: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The summary columns of an effect's draws ``(samples, rows)``, in table order.

    ``mean``, ``median``, ``hdi_low``, ``hdi_high`` and ``prob_positive`` of ``effect`` and,
    when ``percent`` (the percentage-change draws) is given, ``pct_mean`` to ``pct_hdi_high``.
    """
    columns = {
        **summarise_draws(effect, hdi_prob),
        "prob_positive": (effect > 0).mean(axis=0),
    }
    if percent is not None:
        columns.update(summarise_draws(percent, hdi_prob, prefix="pct_"))
    return columns


def add_columns(table: pd.DataFrame, columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """``table`` with ``columns`` set (in place, in order); returns it."""
    for key, value in columns.items():
        table[key] = value
    return table


# ---------------------------------------------------------------------- labelled draws
def labelled_draws(
    values: np.ndarray,
    posterior: xr.Dataset,
    dims: Sequence[str],
    name: str,
    coords: Mapping[str, Any] | None = None,
) -> xr.DataArray:
    """``values`` ``(samples, *items)``, chains stacked, as ``(chain, draw, *dims)``.

    ``chain`` and ``draw`` take the posterior's coordinates; each of ``dims`` takes
    ``coords[dim]`` where given, else ``0, 1, ...``; the other ``coords`` (e.g. ``("row",
    labels)``) follow.
    """
    given = dict(coords or {})
    chains, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    shaped = values.reshape(chains, n_draw, *values.shape[1:])
    labels: dict[str, Any] = {"chain": posterior["chain"].values, "draw": posterior["draw"].values}
    for i, dim in enumerate(dims):
        labels[dim] = given.pop(dim) if dim in given else np.arange(shaped.shape[2 + i])
    labels.update(given)
    return xr.DataArray(shaped, dims=("chain", "draw", *dims), coords=labels, name=name)


def percent_draws(
    draws: xr.DataArray, percent: np.ndarray | None, name: str
) -> xr.DataArray | None:
    """The percentage-change draws ``percent`` (``(samples, rows)``) labelled as ``draws``;
    None where there are none (outcomes not on a log scale)."""
    if percent is None:
        return None
    return draws.copy(data=percent.reshape(draws.shape)).rename(name)


# ---------------------------------------------------------------------- the result
@dataclass(frozen=True)
class BaseEffectResult(ABC):
    """Posterior of an effect, one table row per profile or scope.

    Attributes
    ----------
    table
        One row per item: what it is, then the summary columns (:func:`effect_columns`).
    draws
        The effect draws, ``(chain, draw, <row dim>)``, on the model's scale.
    percent
        The percentage-change draws for log-scale outcomes, else None.
    hdi_prob
        Mass of the reported intervals.

    Subclasses say what each row is (:meth:`labels`), put a row into words (:meth:`sentence`)
    and hold the function :meth:`plot` draws with (``plotter``).
    """

    table: pd.DataFrame
    draws: xr.DataArray
    percent: xr.DataArray | None
    hdi_prob: float

    @property
    @abstractmethod
    def plotter(self) -> Callable[..., Any] | None:
        """The function :meth:`plot` draws with, None where none is attached."""

    @abstractmethod
    def labels(self) -> list[str]:
        """A short label of each table row."""

    @abstractmethod
    def sentence(self, row: int = 0) -> str:
        """A plain-language sentence for one row of the table."""

    # ------------------------------------------------------------------ draws per table row
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

    # ------------------------------------------------------------------ display
    def rows(self) -> pd.DataFrame:
        """The effect table."""
        return self.table

    def _repr_html_(self) -> str:
        return str(self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}"))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(hdi_prob={self.hdi_prob})\n{self.table.to_string(index=False)}"
        )
