"""Which credentials pay: the effect of a first credential by type or skill category
(``fit.type_effects()``, ``docs/design.md`` section 3.9).

The effect of a worker's first credential being of type ``j``, at the reference track record,
is ``(beta[g] + v[j]) * (S(1) - S(0))`` in group ``g`` (``v[j] = u_category[c(j)] + u_type[j]``;
``+ rho`` for a worker whose job category is the type's, with ``matched=True``); the table
averages it over groups by their share of the model's rows unless a group is named. By category
it is the effect of a typical type of the category, ``v = u_category[c]``.

Beside each pooled estimate the table shows the **raw within estimate** of types with enough
holders (:func:`raw_type_estimates`): least squares of the worker-demeaned outcome on one
column per type (and the period effects), the curve's steps and the track-record modifier
fixed at their posterior means: what each type's effect is from its own holders alone, without
borrowing from its category. The gap between the two is the shrinkage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.effect_result import percent_change, summarise_draws
from bayescred.terms.base import stack_draws
from bayescred.terms.credential_types import TypedCredentialTerm

if TYPE_CHECKING:
    from bayescred.model.design import ModelDesign

TypeScope = Literal["type", "category"]

#: Holders a type needs before the table shows its raw within estimate.
MIN_RAW_HOLDERS = 20

__all__ = [
    "MIN_RAW_HOLDERS",
    "TypeEffectsResult",
    "holders",
    "raw_type_estimates",
    "type_effect_draws",
    "typed_effect_shift",
    "typed_term",
]


def typed_term(design: ModelDesign) -> TypedCredentialTerm:
    """The design's typed credential term (``ValueError`` for a spec without types)."""
    term = design.credential_term
    if not isinstance(term, TypedCredentialTerm):
        raise ValueError(
            "type effects need a spec with [credential_types] (docs/design.md section 3.9): "
            "validate the panel with events= and credential_types=, and refit with "
            "spec.with_changes(credential_types={})"
        )
    return term


def _first_step(term: TypedCredentialTerm, posterior: Any) -> np.ndarray:
    """``S(1) - S(0)`` per draw and group ``(draws, groups)``."""
    draws = term.group_draws(posterior)
    one = np.ones_like(draws.beta)
    return np.asarray(term.curve_value(one, draws.shape) - term.curve_value(0 * one, draws.shape))


def row_shares(design: ModelDesign) -> np.ndarray:
    """Each group's share of the model's rows."""
    p = design.panel
    counts = np.bincount(p.group_codes, minlength=p.n_groups).astype(float)
    return counts / counts.sum()


def type_effect_draws(
    posterior: Any,
    design: ModelDesign,
    by: TypeScope = "type",
    *,
    group: str | None = None,
    matched: bool = False,
) -> xr.DataArray:
    """Draws ``(draw, label)`` of the first credential's effect of each type (or category).

    Parameters
    ----------
    posterior
        The fit's posterior (plain names).
    design
        The fit's design (a spec with ``[credential_types]``).
    by
        ``"type"`` or ``"category"`` (a typical type of the category).
    group
        A group's label: its effect; None averages over groups by their share of rows.
    matched
        Add the match effect (a worker whose job category is the type's); needs ``match``.
    """
    term = typed_term(design)
    if by not in ("type", "category"):
        raise ValueError(f"by must be 'type' or 'category', got {by!r}")
    rows = design.rows()
    sig = rows.type_signatures
    assert sig is not None
    draws = term.group_draws(posterior)
    step = _first_step(term, posterior)  # (d, g)
    beta = draws.beta
    u_cat = stack_draws(posterior["u_category"])
    if by == "type":
        v = u_cat[:, sig.type_category] + stack_draws(posterior["u_type"])
        labels, dim = list(rows.type_labels), "credential_type"
    else:
        v = u_cat
        labels, dim = list(rows.category_labels), "category"
    if matched:
        if not term.types.match:
            raise ValueError("matched=True needs a spec with [credential_types] match = true")
        v = v + stack_draws(posterior["match_effect"])[:, None]
    groups = [str(g) for g in design.panel.group_labels]
    if group is None:
        w = row_shares(design)
        level = np.einsum("g,dg->d", w, beta * step)[:, None]
        eff = level + np.einsum("g,dg->d", w, step)[:, None] * v
    else:
        if str(group) not in groups:
            raise KeyError(f"{group!r} is not a group of this model; its groups are {groups}")
        gi = groups.index(str(group))
        eff = (beta[:, gi][:, None] + v) * step[:, gi][:, None]
    return xr.DataArray(eff, dims=("draw", dim), coords={dim: labels})


def typed_effect_shift(
    posterior: Any, design: ModelDesign, credential_type: str, job_category: str | None = None
) -> np.ndarray:
    """Per draw, what a credential of ``credential_type`` adds to a group's ``beta``:
    ``u_category[c(j)] + u_type[j]``, plus the match effect when ``job_category`` is the type's
    category (a spec with ``match``)."""
    term = typed_term(design)
    rows = design.rows()
    labels = list(rows.type_labels)
    if str(credential_type) not in labels:
        import difflib

        close = difflib.get_close_matches(str(credential_type), labels, n=3)
        hint = f"; did you mean {close}?" if close else ""
        raise KeyError(f"{credential_type!r} is not a credential type of this model{hint}")
    j = labels.index(str(credential_type))
    sig = rows.type_signatures
    assert sig is not None
    c = int(sig.type_category[j])
    shift = stack_draws(posterior["u_category"])[:, c] + stack_draws(posterior["u_type"])[:, j]
    if job_category is not None:
        cats = list(rows.category_labels)
        if str(job_category) not in cats:
            raise KeyError(f"{job_category!r} is not a category of this model; they are {cats}")
        if not term.types.match:
            raise ValueError("job_category= needs a spec with [credential_types] match = true")
        if cats.index(str(job_category)) == c:
            shift = shift + stack_draws(posterior["match_effect"])
    return np.asarray(shift)


def holders(design: ModelDesign, by: TypeScope = "type") -> np.ndarray:
    """Workers holding each type (or a type of each category) in at least one of the model's
    rows: credentials held at entry, or first held no later than the worker's last row."""
    p = design.panel
    rows = design.rows()
    sig = rows.type_signatures
    assert sig is not None and p.events is not None and p.credential_types is not None
    last = np.full(p.n_workers, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, p.worker_codes, p.row_time)
    ev = p.events
    assert ev.credential_type is not None
    held = ev.time <= last[ev.worker]
    codes = p.credential_types.codes(ev.credential_type)[held]
    if by == "category":
        codes = sig.type_category[codes]
        size = len(rows.category_labels)
    else:
        size = len(rows.type_labels)
    pairs = np.unique(np.column_stack([ev.worker[held], codes]), axis=0)
    return np.bincount(pairs[:, 1], minlength=size) if pairs.size else np.zeros(size, np.int64)


def raw_type_estimates(design: ModelDesign, posterior: Any) -> pd.DataFrame:
    """The unpooled within estimate of each type's first-credential effect, by least squares.

    The worker-demeaned outcome on one column per type, ``M(z) * sum of the curve steps of the
    row's credentials of that type`` (the match column too with ``match``, the period effects as
    dummies, the covariates), with the curve's shape and the modifier's coefficients fixed at
    their posterior means per group; one coefficient per type, over all groups. This is the
    within (fixed-effects) estimate a type's holders give on their own. Only for Gaussian
    outcomes with ``within`` worker effects (else every estimate is missing).

    Returns
    -------
    pandas.DataFrame
        ``credential_type``, ``raw_mean``, ``raw_se`` (classical standard error; missing for
        a type no row holds).
    """
    from bayescred.model.type_pilot import type_least_squares

    term = typed_term(design)
    labels = list(design.rows().type_labels)
    out = pd.DataFrame({"credential_type": labels, "raw_mean": np.nan, "raw_se": np.nan})
    if design.spec.worker_effects != "within" or design.panel.y is None:
        return out
    draws = term.group_draws(posterior)
    shape = None if draws.shape is None else draws.shape.mean(axis=0)
    est, se = type_least_squares(design, shape, draws.gamma.mean(axis=0))
    out["raw_mean"] = est[: len(labels)]
    out["raw_se"] = se[: len(labels)]
    return out


@dataclass(frozen=True)
class TypeEffectsResult:
    """The effect of a first credential by type (or category), ranked: ``fit.type_effects()``.

    Parameters
    ----------
    draws
        Draws ``(draw, credential_type)`` or ``(draw, category)`` in the outcome's units.
    category
        Each label's category (the label itself by category).
    holders
        Workers holding each label.
    raw
        The raw within estimates (:func:`raw_type_estimates`), by type; None by category.
    log_scale
        Whether effects are log changes (the table then adds percentages).
    hdi_prob
        Mass of the HDIs.
    group
        The group the effects are for, None for the row-share average.
    outcome
        The outcome in words.
    min_raw_holders
        Holders a type needs for its raw estimate to be shown.
    plotter, shrinkage_plotter
        Functions drawing :meth:`plot` and :meth:`plot_shrinkage` (attached by the fit).

    Attributes
    ----------
    table
        One row per label, sorted by the posterior mean, largest first: the label column
        (``credential_type`` or ``category``), ``category`` (by type), ``holders``, ``mean``,
        ``sd``, ``hdi_low``, ``hdi_high``, for log-scale outcomes ``percent``,
        ``percent_hdi_low``, ``percent_hdi_high``, then ``p_above_average`` (the posterior
        probability that the label's effect exceeds the mean over all labels) and, by type,
        ``raw_mean`` and ``raw_se`` (missing below ``min_raw_holders`` holders).
    """

    draws: xr.DataArray
    category: np.ndarray
    holders: np.ndarray
    raw: pd.DataFrame | None = None
    log_scale: bool = False
    hdi_prob: float = 0.9
    group: str | None = None
    outcome: str = "the outcome"
    min_raw_holders: int = MIN_RAW_HOLDERS
    plotter: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    shrinkage_plotter: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    table: pd.DataFrame = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.hdi_prob < 1:
            raise ValueError(f"hdi_prob must lie strictly between 0 and 1, got {self.hdi_prob}")
        dim = self.dim
        samples = np.asarray(self.draws.transpose("draw", dim).values, float)
        labels = [str(v) for v in self.draws[dim].values]
        s = summarise_draws(samples, self.hdi_prob)
        cols: dict[str, Any] = {dim: labels}
        if dim == "credential_type":
            cols["category"] = [str(c) for c in self.category]
        cols.update(
            {
                "holders": np.asarray(self.holders, np.int64),
                "mean": s["mean"],
                "sd": samples.std(axis=0, ddof=1),
                "hdi_low": s["hdi_low"],
                "hdi_high": s["hdi_high"],
            }
        )
        if self.log_scale:
            pct = summarise_draws(percent_change(samples), self.hdi_prob)
            cols.update(
                {
                    "percent": pct["mean"],
                    "percent_hdi_low": pct["hdi_low"],
                    "percent_hdi_high": pct["hdi_high"],
                }
            )
        average = samples.mean(axis=1, keepdims=True)
        cols["p_above_average"] = (samples > average).mean(axis=0)
        table = pd.DataFrame(cols)
        if self.raw is not None and dim == "credential_type":
            raw = self.raw.set_index("credential_type").reindex(labels)
            enough = table["holders"].to_numpy() >= self.min_raw_holders
            table["raw_mean"] = np.where(enough, raw["raw_mean"].to_numpy(float), np.nan)
            table["raw_se"] = np.where(enough, raw["raw_se"].to_numpy(float), np.nan)
        table = table.sort_values("mean", ascending=False, kind="stable").reset_index(drop=True)
        table.attrs["hdi_prob"] = self.hdi_prob
        object.__setattr__(self, "table", table)

    @property
    def dim(self) -> str:
        """``"credential_type"`` or ``"category"``."""
        return "category" if "category" in self.draws.dims else "credential_type"

    @property
    def by(self) -> TypeScope:
        return "category" if self.dim == "category" else "type"

    def _value_columns(self) -> tuple[str, str, str]:
        if self.log_scale:
            return "percent", "percent_hdi_low", "percent_hdi_high"
        return "mean", "hdi_low", "hdi_high"

    def _fmt(self, value: float) -> str:
        return f"{value:+.1f}%" if self.log_scale else f"{value:+.3g}"

    def sentence(self, n: int = 3) -> str:
        """The ranking in words: the ``n`` best-paying labels with their HDIs, how many are
        credibly above the average, and how uncertain the ranking is."""
        t = self.table
        value, low, high = self._value_columns()
        what = "credential type" if self.by == "type" else "skill category"
        pct = round(self.hdi_prob * 100)
        scope = f" in group {self.group}" if self.group is not None else ""
        best = "; ".join(
            f"{r[self.dim]} {self._fmt(r[value])} ({pct}% HDI {self._fmt(r[low])} to "
            f"{self._fmt(r[high])}, {int(r['holders'])} holders)"
            for _, r in t.head(n).iterrows()
        )
        above = int((t["p_above_average"] >= 0.95).sum())
        below = int((t["p_above_average"] <= 0.05).sum())
        return (
            f"Effect of a worker's first credential on {self.outcome} by {what}{scope}, at the "
            f"reference track record. Highest: {best}. {above} of {len(t)} are above the "
            f"average {what} with probability at least 0.95 and {below} below it with "
            "probability at least 0.95; the rest cannot be told apart from the average."
        )

    def __str__(self) -> str:
        return self.sentence()

    def plot(self, ax: Any = None, *, top: int | None = 30) -> Any:
        """The caterpillar (forest) plot: posterior means with HDI bars, ranked, coloured by
        category; ``top`` labels at most (None: all). Returns the matplotlib Axes."""
        if self.plotter is None:
            raise ValueError(
                "this result has no plotter attached; draw it with "
                "bayescred.plots.type_effects.type_effects_axes(result)"
            )
        return self.plotter(self, ax=ax, top=top)

    def plot_shrinkage(self, ax: Any = None) -> Any:
        """The shrinkage plot: each type's raw within estimate against its pooled one, by
        holders. Returns the matplotlib Axes."""
        if self.shrinkage_plotter is None:
            raise ValueError(
                "this result has no plotter attached; draw it with "
                "bayescred.plots.type_effects.shrinkage_axes(result)"
            )
        return self.shrinkage_plotter(self, ax=ax)

    def _repr_html_(self) -> str:
        value, low, high = self._value_columns()
        cols = [self.dim, *(["category"] if self.by == "type" else []), "holders"]
        cols += [value, low, high, "p_above_average"]
        if "raw_mean" in self.table.columns:
            cols += ["raw_mean"]
        caption = (
            f"<p>{self.sentence()} ({round(self.hdi_prob * 100)}% HDIs"
            f"{', percent change' if self.log_scale else ''})</p>"
        )
        return caption + str(
            self.table[cols].to_html(index=False, float_format=lambda v: f"{v:.3g}")
        )

    def __repr__(self) -> str:
        return (
            f"TypeEffectsResult(by={self.by!r}, group={self.group!r}, hdi_prob={self.hdi_prob})\n"
            f"{self.table.to_string(index=False, max_rows=40)}"
        )
