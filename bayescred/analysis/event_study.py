"""Results of an event study and of its pre-trend test, computed over posterior draws.

The model's event-time profile ``f`` (:mod:`bayescred.maths.event_time`) has estimated leads
``f(-L) .. f(-2)``, the reference ``f(-1) = 0`` and lags ``f(0) .. f(K - 1)``, the endpoints
binned (``-L`` stands for every period up to ``L`` before the event, ``K - 1`` for every period
from ``K - 1`` after it on). Given posterior draws of the profile, in the outcome's units,

* :class:`EventStudyResult` summarises each event time (and group or cohort): mean, sd, HDI
  and, for log-scale outcomes, the percentage change ``100 * (exp(f) - 1)`` per draw; it puts
  the profile into words and draws the usual event-study figure (through an attached plotter,
  :func:`bayescred.plots.event_study.event_study_axes`);
* :class:`PretrendTest` asks whether the leads are compatible with zero (the squared
  Mahalanobis distance of zero from the leads' posterior against a chi-square quantile) and how
  large a linear pre-trend would have to be to explain the average post-event effect away
  (:class:`PretrendSensitivity`, the breakdown slope in the spirit of Rambachan & Roth 2023).

Every quantity is a function of each draw, summarised only at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import linalg
from scipy.stats import chi2

from bayescred.analysis.effect_result import percent_change, summarise_draws
from bayescred.maths.event_time import EventWindow

#: Dimensions an event study can be split by (one table row per event time and label).
SCOPE_DIMS: tuple[str, ...] = ("group", "cohort")
#: Numbers written out in sentences ("three periods later").
_NUMBER_WORDS: dict[int, str] = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
}


# ---------------------------------------------------------------------- draws and summaries
def sample_matrix(draws: xr.DataArray, trailing: Sequence[str]) -> np.ndarray:
    """``draws`` as ``(samples, *trailing)``: the ``draw`` dimension first, stacked with
    ``chain`` where there is one."""
    if "chain" in draws.dims:
        values = np.asarray(draws.transpose("chain", "draw", *trailing).values, dtype=float)
        return values.reshape(-1, *values.shape[2:])
    return np.asarray(draws.transpose("draw", *trailing).values, dtype=float)


def period_of(event_time: np.ndarray) -> np.ndarray:
    """``"lead"``, ``"reference"`` or ``"lag"`` for each event time (``< -1``, ``-1``, ``>= 0``)."""
    e = np.asarray(event_time)
    return np.where(e < -1, "lead", np.where(e == -1, "reference", "lag"))


def is_binned(event_time: np.ndarray, window: EventWindow) -> np.ndarray:
    """Whether each event time is a binned endpoint of ``window`` (``-L`` or ``K - 1``)."""
    e = np.asarray(event_time)
    return (e == -window.n_leads) | (e == window.n_lags - 1)


def event_label(event_time: int, window: EventWindow) -> str:
    """The event time as a tick label: ``"≤-3"`` and ``"≥5"`` for the binned endpoints."""
    e = int(event_time)
    if e == -window.n_leads:
        return f"≤{e}"
    if e == window.n_lags - 1:
        return f"≥{e}"
    return str(e)


def event_time_columns(
    samples: np.ndarray,
    event_times: np.ndarray,
    window: EventWindow,
    hdi_prob: float,
    log_scale: bool,
) -> dict[str, np.ndarray]:
    """The table columns of profile draws ``(samples, event times)``, in table order.

    ``event_time``, ``label``, ``period``, ``binned``, then ``mean``, ``sd``, ``hdi_low`` and
    ``hdi_high`` of the draws and, for log-scale outcomes, ``percent``, ``percent_hdi_low`` and
    ``percent_hdi_high`` of their percentage changes (each per draw, then summarised).
    """
    e = np.asarray(event_times, dtype=np.int64)
    s = summarise_draws(samples, hdi_prob)
    columns: dict[str, np.ndarray] = {
        "event_time": e,
        "label": np.array([event_label(int(t), window) for t in e], dtype=object),
        "period": period_of(e),
        "binned": is_binned(e, window),
        "mean": s["mean"],
        "sd": samples.std(axis=0, ddof=1),
        "hdi_low": s["hdi_low"],
        "hdi_high": s["hdi_high"],
    }
    if log_scale:
        p = summarise_draws(percent_change(samples), hdi_prob)
        columns.update(
            {
                "percent": p["mean"],
                "percent_hdi_low": p["hdi_low"],
                "percent_hdi_high": p["hdi_high"],
            }
        )
    return columns


def _times_of(draws: xr.DataArray, dim: str, default: np.ndarray) -> np.ndarray:
    """The event times labelling ``dim`` (its coordinate, else ``default``)."""
    if dim in draws.coords:
        return np.asarray(draws[dim].values).astype(np.int64)
    return default


# ---------------------------------------------------------------------- words
def _periods_later(n: int) -> str:
    word = _NUMBER_WORDS.get(n, str(n))
    return f"{word} period{'s' if n != 1 else ''} later"


def _and_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _includes_zero(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return (np.asarray(low) <= 0) & (np.asarray(high) >= 0)


# ---------------------------------------------------------------------- the event study
@dataclass(frozen=True)
class EventStudyResult:
    """Posterior of an event-time profile: one table row per event time (and group or cohort).

    Parameters
    ----------
    draws
        The profile's draws in the outcome's units, dims ``("draw", "event_time")`` or
        ``("draw", scope, "event_time")`` with ``scope`` ``"group"`` or ``"cohort"`` (a
        ``chain`` dimension before ``draw`` is stacked with it). ``event_time`` is labelled with
        the window's event times, ``-L .. K - 1``, the reference ``-1`` included (its draws are
        all 0); the scope with its labels.
    window
        The event-time window the profile was estimated on.
    log_scale
        Whether the outcome is on a log scale (e.g. log project value): the table then adds the
        percentage change ``100 * (exp(f) - 1)``, computed per draw, and the text and figure
        speak in percent.
    hdi_prob
        Mass of the reported highest-density intervals.
    outcome
        The outcome in words, for the text and the axis (e.g. ``"log project value"``).
    event
        What the profile is the effect of, in words.
    plotter
        The function :meth:`plot` draws with, ``plotter(result, ax=ax)`` returning the Axes
        (attached by the fit: :func:`bayescred.plots.event_study.event_study_axes`).

    Attributes
    ----------
    table
        One row per event time (and scope label, scope-major): ``event_time``, the scope column
        (``group``/``cohort``) when scoped, ``label`` (the tick label, ``"≤-3"`` and ``"≥5"``
        at the binned endpoints), ``period`` (``"lead"``, ``"reference"``, ``"lag"``),
        ``binned`` (True at ``-L`` and ``K - 1``), ``mean``, ``sd``, ``hdi_low``, ``hdi_high``
        and, when ``log_scale``, ``percent`` (the mean percentage change), ``percent_hdi_low``
        and ``percent_hdi_high``.
    scope
        The scope dimension (``"group"`` or ``"cohort"``), None for one profile.
    """

    draws: xr.DataArray
    window: EventWindow
    log_scale: bool = False
    hdi_prob: float = 0.9
    outcome: str = "the outcome"
    event: str = "a worker's first credential"
    plotter: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    table: pd.DataFrame = field(init=False, repr=False, compare=False)
    scope: str | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.draws, xr.DataArray):
            raise TypeError("draws must be an xarray.DataArray with dims ('draw', 'event_time')")
        if not 0 < self.hdi_prob < 1:
            raise ValueError(f"hdi_prob must lie strictly between 0 and 1, got {self.hdi_prob}")
        dims = set(map(str, self.draws.dims))
        if "draw" not in dims or "event_time" not in dims:
            raise ValueError(
                f"draws need the dims 'draw' and 'event_time' (got {tuple(self.draws.dims)})"
            )
        others = sorted(dims - {"chain", "draw", "event_time"})
        if len(others) > 1 or (others and others[0] not in SCOPE_DIMS):
            raise ValueError(
                f"draws may have one scope dimension besides draw and event_time, 'group' or "
                f"'cohort'; got {others}"
            )
        scope = others[0] if others else None
        expected = self.window.event_times
        times = _times_of(self.draws, "event_time", np.array([], dtype=np.int64))
        if times.shape != expected.shape or not np.array_equal(times, expected):
            raise ValueError(
                f"draws' event_time coordinate must be the window's event times "
                f"{expected.tolist()} (the reference -1 included); got {times.tolist()}"
            )
        trailing = ("event_time",) if scope is None else (scope, "event_time")
        samples = sample_matrix(self.draws, trailing)
        reference = samples[..., int(np.flatnonzero(times == -1)[0])]
        if not np.allclose(reference, 0.0, rtol=0.0, atol=1e-12):
            raise ValueError("the reference period's draws (event time -1) must all be 0")
        if scope is None:
            table = pd.DataFrame(
                event_time_columns(samples, times, self.window, self.hdi_prob, self.log_scale)
            )
        else:
            labels = [str(v) for v in self.draws[scope].values]
            parts = []
            for i, label in enumerate(labels):
                cols = event_time_columns(
                    samples[:, i, :], times, self.window, self.hdi_prob, self.log_scale
                )
                part = pd.DataFrame(cols)
                part.insert(1, scope, label)
                parts.append(part)
            table = pd.concat(parts, ignore_index=True)
        table.attrs["hdi_prob"] = self.hdi_prob
        object.__setattr__(self, "scope", scope)
        object.__setattr__(self, "table", table)

    # ------------------------------------------------------------------ structure
    @property
    def scope_labels(self) -> list[str]:
        """The labels of the scope (groups or cohorts); ``[]`` for one profile."""
        if self.scope is None:
            return []
        return [str(v) for v in self.draws[self.scope].values]

    def rows(self, scope_label: str | None = None) -> pd.DataFrame:
        """The table's rows of one scope label (every row for one profile)."""
        if self.scope is None:
            if scope_label is not None:
                raise ValueError("this event study has no scope; call without a label")
            return self.table
        if scope_label is None:
            raise ValueError(f"name one {self.scope} of {self.scope_labels}")
        if str(scope_label) not in self.scope_labels:
            raise ValueError(f"unknown {self.scope} {scope_label!r}; known: {self.scope_labels}")
        rows = self.table[self.table[self.scope] == str(scope_label)]
        return rows.reset_index(drop=True)

    def _value_columns(self) -> tuple[str, str, str]:
        if self.log_scale:
            return "percent", "percent_hdi_low", "percent_hdi_high"
        return "mean", "hdi_low", "hdi_high"

    def _fmt(self, value: float) -> str:
        return f"{value:+.1f}%" if self.log_scale else f"{value:+.3g}"

    def _fmt_bound(self, value: float) -> str:
        return f"±{value:.1f}%" if self.log_scale else f"±{value:.3g}"

    # ------------------------------------------------------------------ words
    def sentence(self, scope_label: str | None = None) -> str:
        """The profile in plain language, from the numbers, fit for a report.

        It reports the effect in the period the credential is first held, the largest effect
        between then and the last lag (with the posterior probability that it exceeds the first
        period's, where the text speaks of a build-up), and the binned last lag (with its HDI);
        says which lags'
        HDIs include zero; and bounds the leads (how far they stray from the reference period,
        and whether their HDIs include zero). For a scoped study, one sentence per scope label
        (``scope_label=None``) or for the label given.
        """
        if self.scope is None:
            return self._profile_sentence(self.rows())
        labels = self.scope_labels if scope_label is None else [str(scope_label)]
        texts = []
        for label in labels:
            text = self._profile_sentence(self.rows(label), label)
            texts.append(f"In {self.scope} {label}, {text[0].lower()}{text[1:]}")
        return " ".join(texts)

    def _rise_probability(self, label: str | None, later: int) -> float:
        """Posterior probability that the profile is further from zero ``later`` periods after
        the event than in its first period, in the first period's direction."""
        draws = self.draws if label is None else self.draws.sel({str(self.scope): label})
        d = draws.stack(sample=[c for c in draws.dims if c != "event_time"])
        first, then = d.sel(event_time=0).values, d.sel(event_time=later).values
        sign = np.sign(np.median(first))
        return float(np.mean(sign * (then - first) > 0))

    def _profile_sentence(self, rows: pd.DataFrame, label: str | None = None) -> str:
        value, low, high = self._value_columns()
        pct = round(self.hdi_prob * 100)
        lags = rows[rows["period"] == "lag"].reset_index(drop=True)
        leads = rows[rows["period"] == "lead"].reset_index(drop=True)
        k = len(lags)
        v = lags[value].to_numpy(float)
        last = f"({pct}% HDI {self._fmt(lags[low].iloc[-1])} to {self._fmt(lags[high].iloc[-1])})"
        head = f"The effect of {self.event} on {self.outcome}"
        if k == 1:
            lag_text = f"{head} is {self._fmt(v[0])} from the period it is first held on {last}"
        elif k == 2:
            lag_text = (
                f"{head} is {self._fmt(v[0])} in the period it is first held and "
                f"{self._fmt(v[1])} from period 1 on {last}"
            )
        else:
            peak = 1 + int(np.argmax(np.abs(v[1:-1])))
            later = _periods_later(peak)
            tail = f"{self._fmt(v[-1])} from period {k - 1} on {last}"
            if abs(v[peak]) > abs(v[0]) and np.sign(v[peak]) == np.sign(v[0]):
                rise = self._rise_probability(label, peak)
                lag_text = (
                    f"{head} builds up from {self._fmt(v[0])} in the period it is first held to "
                    f"{self._fmt(v[peak])} {later} (posterior probability of the rise "
                    f"{rise:.2f}) and is {tail}"
                )
            else:
                lag_text = (
                    f"{head} is {self._fmt(v[0])} in the period it is first held, "
                    f"{self._fmt(v[peak])} {later} and {tail}"
                )
        zero = _includes_zero(lags[low].to_numpy(float), lags[high].to_numpy(float))
        if zero.all():
            lag_text += f"; every lag's {pct}% HDI includes zero"
        elif zero.any():
            which = _and_list([str(lbl) for lbl in lags["label"][zero]])
            plural = "s" if zero.sum() > 1 else ""
            verb = "include" if zero.sum() > 1 else "includes"
            lag_text += f"; the {pct}% HDI{plural} of period{plural} {which} {verb} zero"
        else:
            lag_text += f"; no lag's {pct}% HDI includes zero"
        if leads.empty:
            lead_text = (
                "No lead is estimated: every period before the event is the reference period."
            )
        else:
            bound = float(np.max(np.abs(leads[value].to_numpy(float))))
            lead_zero = _includes_zero(leads[low].to_numpy(float), leads[high].to_numpy(float))
            lead_text = (
                f"Before it, the estimates are within {self._fmt_bound(bound)} of the reference "
                f"period"
            )
            if lead_zero.all():
                lead_text += f" and every lead's {pct}% HDI includes zero."
            else:
                off = ~lead_zero
                which = _and_list([str(lbl) for lbl in leads["label"][off]])
                plural = "s" if off.sum() > 1 else ""
                verb = "exclude" if off.sum() > 1 else "excludes"
                lead_text += (
                    f", but the {pct}% HDI{plural} of period{plural} {which} {verb} zero: "
                    "a sign of anticipation or of a pre-trend."
                )
        return f"{lag_text}. {lead_text}"

    def __str__(self) -> str:
        return self.sentence()

    # ------------------------------------------------------------------ figure and display
    def plot(self, ax: Any = None) -> Any:
        """The event-study figure (posterior means with HDI bars against event time); returns
        the matplotlib Axes. ``ax``: an Axes to draw on (None makes a new figure)."""
        if self.plotter is None:
            raise ValueError(
                "this result has no plotter attached; draw it with "
                "bayescred.plots.event_study.event_study_axes(result)"
            )
        return self.plotter(self, ax=ax)

    def _repr_html_(self) -> str:
        value, low, high = self._value_columns()
        cols = ["label", *([self.scope] if self.scope else []), "period", value, low, high]
        if not self.log_scale:
            cols.insert(cols.index(value) + 1, "sd")
        caption = (
            f"<p>Event study of {self.outcome} ({round(self.hdi_prob * 100)}% HDIs"
            f"{', percent change' if self.log_scale else ''}); ≤/≥: binned endpoints</p>"
        )
        return caption + str(
            self.table[cols].to_html(index=False, float_format=lambda v: f"{v:.3g}")
        )

    def __repr__(self) -> str:
        return (
            f"EventStudyResult(leads={self.window.n_leads}, lags={self.window.n_lags}, "
            f"hdi_prob={self.hdi_prob})\n{self.table.to_string(index=False)}"
        )


# ---------------------------------------------------------------------- the pre-trend test
@dataclass(frozen=True)
class PretrendSensitivity:
    """How large a linear pre-trend would have to be to explain the post-event effect away.

    A linear pre-trend ``s * (e + 1)`` (zero at the reference period), extrapolated to the
    lags and subtracted from them, shifts the average post-event effect (the mean of the lags)
    by ``-s * horizon`` with ``horizon = mean(e + 1 over the lags)`` in every draw, so its HDI
    moves by the same amount. The *breakdown slope* is the smallest ``|s|`` (with its sign) at
    which that HDI includes zero: ``hdi_low / horizon`` for an interval above zero,
    ``hdi_high / horizon`` below zero, 0 when it already includes zero.

    Attributes
    ----------
    breakdown_slope
        The breakdown slope, per period, in the outcome's units.
    average_mean, average_hdi
        Posterior mean and HDI of the average post-event effect.
    horizon
        ``mean(e + 1)`` over the lags, ``(K + 1) / 2``.
    slope_draws
        Per draw, the least-squares slope through the points ``(e, f(e))``, ``e = -L .. -1``
        (the leads and the reference's 0; with an intercept). The binned endpoint ``-L``
        stands for every earlier period too.
    slope_mean, slope_hdi
        Its posterior mean and HDI.
    ratio
        ``slope_mean / breakdown_slope``: the pre-trend the leads suggest as a share of the one
        that would explain the effect away (negative where their signs differ; NaN when the
        breakdown slope is 0).
    hdi_prob
        Mass of the intervals.
    """

    breakdown_slope: float
    average_mean: float
    average_hdi: tuple[float, float]
    horizon: float
    slope_draws: np.ndarray = field(repr=False)
    slope_mean: float
    slope_hdi: tuple[float, float]
    ratio: float
    hdi_prob: float


def breakdown_slope(average_hdi: tuple[float, float], horizon: float) -> float:
    """The smallest ``|s|`` (signed) that moves ``average_hdi`` by ``-s * horizon`` onto zero."""
    low, high = average_hdi
    if low > 0:
        return float(low / horizon)
    if high < 0:
        return float(high / horizon)
    return 0.0


def trend_slopes(samples: np.ndarray, event_times: np.ndarray) -> np.ndarray:
    """Per draw, the least-squares slope of ``samples`` ``(draws, points)`` on ``event_times``."""
    e = np.asarray(event_times, dtype=float)
    centred = e - e.mean()
    y = samples - samples.mean(axis=1, keepdims=True)
    return np.asarray(y @ centred / np.sum(centred**2))


@dataclass(frozen=True)
class PretrendTest:
    """Are the leads of an event-time profile compatible with zero?

    Parameters
    ----------
    lead_draws
        Draws of the estimated leads, dims ``("draw", "lead")`` (``chain`` before ``draw`` is
        stacked), in the outcome's units; ``lead`` labelled with the event times ``-L .. -2``
        (without a coordinate they are taken to be those). The reference ``-1`` is not among
        them.
    lag_draws
        Draws of the same profile's lags, dims ``("draw", "lag")``, event times ``0 .. K - 1``.
    hdi_prob
        Mass of the reported HDIs (also of the average effect's interval in
        :attr:`sensitivity`).
    level
        Mass of the credible region of the leads the test asks zero to lie in.
    outcome
        The outcome in words.
    log_scale
        Whether the outcome is on a log scale (the :attr:`leads` table adds percent columns).

    Attributes
    ----------
    statistic
        The squared Mahalanobis distance of zero from the leads' posterior,
        ``m' S^-1 m`` with ``m`` and ``S`` the posterior mean and covariance of the lead draws.
    threshold
        The chi-square ``level`` quantile with one degree of freedom per lead: the boundary of
        the ``level`` credible ellipsoid of a normal posterior.
    flagged
        ``statistic > threshold``: zero lies outside that region (evidence of pre-trends).
    tail_probability
        The share of draws whose own squared Mahalanobis distance from the posterior mean
        exceeds zero's: the posterior mass of the ellipsoids at least as far out as zero (small
        when zero is implausible; it needs no normal approximation).
    leads
        One row per lead, as :attr:`EventStudyResult.table`.
    sensitivity
        The breakdown slope of a linear pre-trend (:class:`PretrendSensitivity`).

    Raises
    ------
    ValueError
        Without leads (a window with ``leads = 1``: every pre-event period is the reference).
    """

    lead_draws: xr.DataArray
    lag_draws: xr.DataArray
    hdi_prob: float = 0.9
    level: float = 0.95
    outcome: str = "the outcome"
    log_scale: bool = False
    statistic: float = field(init=False)
    threshold: float = field(init=False)
    flagged: bool = field(init=False)
    tail_probability: float = field(init=False)
    leads: pd.DataFrame = field(init=False, repr=False, compare=False)
    sensitivity: PretrendSensitivity = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, da, dim in (
            ("lead_draws", self.lead_draws, "lead"),
            ("lag_draws", self.lag_draws, "lag"),
        ):
            if not isinstance(da, xr.DataArray):
                raise TypeError(f"{name} must be an xarray.DataArray with dims ('draw', '{dim}')")
            if set(map(str, da.dims)) - {"chain"} != {"draw", dim}:
                raise ValueError(f"{name} need the dims ('draw', '{dim}'); got {tuple(da.dims)}")
        n_leads = int(self.lead_draws.sizes["lead"])
        if n_leads == 0:
            raise ValueError(
                "the pre-trend test needs estimated leads, and this profile has none (with "
                "leads = 1 every period before the event is the reference); fit with "
                "`[dynamics] leads >= 2`"
            )
        if not 0 < self.hdi_prob < 1 or not 0 < self.level < 1:
            raise ValueError("hdi_prob and level must lie strictly between 0 and 1")
        n_lags = int(self.lag_draws.sizes["lag"])
        if n_lags == 0:
            raise ValueError("lag_draws has no lag")
        lead_times = _times_of(self.lead_draws, "lead", np.arange(-n_leads - 1, -1))
        lag_times = _times_of(self.lag_draws, "lag", np.arange(n_lags))
        if np.any(lead_times >= -1) or np.any(lag_times < 0):
            raise ValueError(
                "lead event times must be <= -2 (the reference -1 excluded) and lag event "
                f"times >= 0; got {lead_times.tolist()} and {lag_times.tolist()}"
            )
        x = sample_matrix(self.lead_draws, ("lead",))
        y = sample_matrix(self.lag_draws, ("lag",))
        if x.shape[0] != y.shape[0]:
            raise ValueError("lead_draws and lag_draws must come from the same draws")
        if x.shape[0] <= n_leads:
            raise ValueError(
                f"{x.shape[0]} draws cannot estimate the covariance of {n_leads} leads"
            )
        statistic, distances = mahalanobis_squared(x)
        window = EventWindow(leads=int(-lead_times.min()), lags=int(lag_times.max()) + 1)
        leads = pd.DataFrame(
            event_time_columns(x, lead_times, window, self.hdi_prob, self.log_scale)
        )
        leads.attrs["hdi_prob"] = self.hdi_prob
        object.__setattr__(self, "statistic", statistic)
        object.__setattr__(self, "threshold", float(chi2.ppf(self.level, df=n_leads)))
        object.__setattr__(self, "flagged", bool(statistic > self.threshold))
        object.__setattr__(self, "tail_probability", float(np.mean(distances > statistic)))
        object.__setattr__(self, "leads", leads)
        object.__setattr__(self, "sensitivity", self._sensitivity(x, lead_times, y, lag_times))

    @classmethod
    def from_event_study(
        cls, result: EventStudyResult, scope_label: str | None = None, *, level: float = 0.95
    ) -> PretrendTest:
        """The test of an event study's profile (of one scope label for a scoped study)."""
        da = result.draws
        if result.scope is not None:
            if scope_label is None:
                raise ValueError(f"name one {result.scope} of {result.scope_labels}")
            da = da.sel({result.scope: str(scope_label)})
        times = da["event_time"].values
        leads = da.sel(event_time=times[times < -1]).rename(event_time="lead")
        lags = da.sel(event_time=times[times >= 0]).rename(event_time="lag")
        return cls(
            lead_draws=leads,
            lag_draws=lags,
            hdi_prob=result.hdi_prob,
            level=level,
            outcome=result.outcome,
            log_scale=result.log_scale,
        )

    def _sensitivity(
        self, x: np.ndarray, lead_times: np.ndarray, y: np.ndarray, lag_times: np.ndarray
    ) -> PretrendSensitivity:
        average = y.mean(axis=1)
        horizon = float(np.mean(lag_times + 1.0))
        points = np.concatenate([x, np.zeros((x.shape[0], 1))], axis=1)
        slopes = trend_slopes(points, np.append(lead_times, -1))
        s = summarise_draws(np.stack([average, slopes], axis=1), self.hdi_prob)
        average_hdi = (float(s["hdi_low"][0]), float(s["hdi_high"][0]))
        slope_mean = float(s["mean"][1])
        breakdown = breakdown_slope(average_hdi, horizon)
        return PretrendSensitivity(
            breakdown_slope=breakdown,
            average_mean=float(s["mean"][0]),
            average_hdi=average_hdi,
            horizon=horizon,
            slope_draws=slopes,
            slope_mean=slope_mean,
            slope_hdi=(float(s["hdi_low"][1]), float(s["hdi_high"][1])),
            ratio=slope_mean / breakdown if breakdown != 0 else float("nan"),
            hdi_prob=self.hdi_prob,
        )

    @property
    def n_leads(self) -> int:
        """The number of estimated leads (the test's degrees of freedom)."""
        return int(self.lead_draws.sizes["lead"])

    # ------------------------------------------------------------------ words and display
    def sentence(self) -> str:
        """The test and its sensitivity in plain language, fit for a report."""
        n = self.n_leads
        region = f"{self.level:.0%} credible region of the {'lead' if n == 1 else f'{n} leads'}"
        numbers = (
            f"(squared Mahalanobis distance {self.statistic:.3g} vs {self.threshold:.3g}; "
            f"posterior tail probability {self.tail_probability:.2f})"
        )
        if self.flagged:
            test = f"Evidence of pre-trends: zero lies outside the {region} {numbers}."
        else:
            test = f"No evidence of pre-trends: zero lies inside the {region} {numbers}."
        sens = self.sensitivity
        pct = round(self.hdi_prob * 100)
        low, high = sens.slope_hdi
        suggest = (
            f"the leads suggest a slope of {sens.slope_mean:+.3g} per period ({pct}% HDI "
            f"{low:+.3g} to {high:+.3g})"
        )
        if sens.breakdown_slope == 0:
            a_low, a_high = sens.average_hdi
            return (
                f"{test} The average post-event effect's {pct}% interval already includes zero "
                f"({a_low:+.3g} to {a_high:+.3g}), so no pre-trend is needed to explain it "
                f"away; {suggest}."
            )
        share = "of the opposite sign" if sens.ratio < 0 else f"{sens.ratio:.0%} of that"
        return (
            f"{test} A linear pre-trend of {sens.breakdown_slope:+.3g} per period, extrapolated, "
            f"would make the average post-event effect's {pct}% interval include zero; "
            f"{suggest}, {share}."
        )

    def __str__(self) -> str:
        return self.sentence()

    def summary(self) -> pd.Series:
        """The test's numbers as one Series."""
        sens = self.sensitivity
        return pd.Series(
            {
                "leads": self.n_leads,
                "statistic": self.statistic,
                "threshold": self.threshold,
                "flagged": self.flagged,
                "tail_probability": self.tail_probability,
                "breakdown_slope": sens.breakdown_slope,
                "slope_mean": sens.slope_mean,
                "ratio": sens.ratio,
            },
            name="pretrend_test",
        )

    def _repr_html_(self) -> str:
        head = self.summary().to_frame().T
        return str(head.to_html(index=False, float_format=lambda v: f"{v:.3g}")) + str(
            self.leads.to_html(index=False, float_format=lambda v: f"{v:.3g}")
        )

    def __repr__(self) -> str:
        leads = self.leads.to_string(index=False)
        return f"PretrendTest\n{self.summary().to_string()}\nleads:\n{leads}"


def mahalanobis_squared(samples: np.ndarray) -> tuple[float, np.ndarray]:
    """Squared Mahalanobis distances under the mean and covariance of ``samples``
    ``(draws, k)``: of zero, and of each draw.

    Raises ``ValueError`` when the covariance is singular (a lead that does not vary).
    """
    mean = samples.mean(axis=0)
    cov = np.atleast_2d(np.cov(samples, rowvar=False))
    try:
        factor = linalg.cholesky(cov, lower=True)
    except linalg.LinAlgError as err:
        raise ValueError(
            "the posterior covariance of the leads is singular (does a lead not vary across draws?)"
        ) from err
    zero = linalg.solve_triangular(factor, -mean, lower=True)
    each = linalg.solve_triangular(factor, (samples - mean).T, lower=True)
    return float(zero @ zero), np.sum(each**2, axis=0)
