"""Posterior predictive checks for discrete outcomes: a hanging rootogram for counts and the
share of ones by group for binary outcomes.

Both reduce each replicated data set (:func:`bayescred.plots.ppc.replicate_draws`, one posterior
draw at a time) to a few numbers as it comes, so memory is O(rows + draws x bins).

**Hanging rootogram** (Kleiber & Zeileis 2016, *The American Statistician* 70(3)). For each
count value ``k``, ``O_k`` is the number of observed rows equal to ``k`` and ``F_k^(s)`` the
number of rows equal to ``k`` in replicated data set ``s``; ``E_k`` is the mean of ``F_k^(s)``
over the replicates (the posterior predictive expected frequency). On a square-root scale, the
bar of ``sqrt(O_k)`` hangs from the curve ``sqrt(E_k)``, so its lower end sits at
``sqrt(E_k) - sqrt(O_k)``: below zero where more rows than expected have ``k``, above zero where
fewer. The band around zero spans ``sqrt(E_k) - sqrt(F)`` for ``F`` over the central interval of
the ``F_k^(s)``: a bar end outside it is an observed frequency outside the replicates'
interval. Values from a cut-off on (``>= top``) are pooled into one bin.

**Shares of ones.** For all rows and for each group, the observed share of ones against the
mean and central interval of the same share over the replicated data sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bayescred.plots import style

#: Count values shown one by one at least up to this (larger ones: up to the 99th percentile).
MAX_SINGLE_VALUES = 30
#: Colours: observed data, replicated data.
OBSERVED_COLOUR = "#4D4D4D"
REPLICATED_COLOUR = style.OKABE_ITO["vermillion"]
INTERVAL_COLOUR = style.OKABE_ITO["sky_blue"]


def _interval(replicated: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed central ``prob`` interval of each column over the replicates (rows)."""
    if not 0.0 < prob < 1.0:
        raise ValueError(f"prob must be in (0, 1), not {prob!r}")
    tail = (1.0 - prob) / 2.0
    low, high = np.quantile(replicated, [tail, 1.0 - tail], axis=0)
    return np.asarray(low), np.asarray(high)


# ------------------------------------------------------------------ counts
@dataclass(frozen=True)
class Frequencies:
    """Frequencies of count values in the observed and in each replicated data set.

    Bin ``i`` holds the rows equal to ``values[i]``; when ``pooled`` the last bin holds every
    row ``>= values[-1]`` (labelled ``">= top"``).
    """

    values: np.ndarray
    observed: np.ndarray
    replicated: np.ndarray
    pooled: bool

    @property
    def expected(self) -> np.ndarray:
        """Posterior predictive expected frequency of each bin (mean over replicates)."""
        return np.asarray(self.replicated.mean(axis=0))

    def interval(self, prob: float) -> tuple[np.ndarray, np.ndarray]:
        """Central ``prob`` interval of each bin's replicated frequency."""
        return _interval(self.replicated, prob)

    @property
    def labels(self) -> list[str]:
        labels = [str(int(v)) for v in self.values]
        if self.pooled:
            labels[-1] = f"≥{labels[-1]}"
        return labels


def check_counts(y: np.ndarray, what: str) -> np.ndarray:
    """``y`` as integers; ValueError unless every value is a non-negative whole number."""
    y = np.asarray(y, dtype=float)
    bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
    if bad.any():
        raise ValueError(
            f"a rootogram needs non-negative integer counts, but {int(bad.sum())} {what} values "
            f"are not (e.g. {y[bad][:3].tolist()}); use a density check (kind='kde')"
        )
    return y.astype(np.int64)


def count_top(observed: np.ndarray) -> int:
    """The first pooled count value: past the largest observed value when that is at most
    :data:`MAX_SINGLE_VALUES`, else past the larger of that and the 99th percentile."""
    y = np.asarray(observed)
    if y.size == 0:
        return 1
    largest = int(y.max())
    q99 = int(np.ceil(np.quantile(y, 0.99)))
    return max(min(largest, MAX_SINGLE_VALUES), q99) + 1


def count_frequencies(
    observed: np.ndarray, replicates: Iterable[np.ndarray], *, top: int | None = None
) -> Frequencies:
    """Observed and replicated frequencies of ``0, 1, ..., top - 1`` and of ``>= top``.

    Parameters
    ----------
    observed
        Observed counts.
    replicates
        Replicated count vectors (one per posterior draw), consumed one at a time.
    top
        First pooled value (default :func:`count_top` of the observed counts). The pooled bin
        is kept only when some observed or replicated count reaches it.
    """
    y = check_counts(observed, "observed")
    top = count_top(y) if top is None else int(top)
    if top < 1:
        raise ValueError(f"top must be at least 1, not {top}")
    obs = np.bincount(np.minimum(y, top), minlength=top + 1)
    reps = [
        np.bincount(np.minimum(check_counts(r, "replicated"), top), minlength=top + 1)
        for r in replicates
    ]
    if not reps:
        raise ValueError("no replicated data sets to compare with")
    replicated = np.stack(reps).astype(float)
    pooled = bool(obs[top] > 0 or replicated[:, top].any())
    keep = top + 1 if pooled else top
    return Frequencies(
        values=np.arange(keep),
        observed=obs[:keep].astype(float),
        replicated=replicated[:, :keep],
        pooled=pooled,
    )


def rootogram_figure(
    freq: Frequencies, *, prob: float, outcome: str, ax: Axes | None = None
) -> Figure:
    """Hanging rootogram of ``freq`` (see the module docstring).

    Artists: the hanging bars (``gid="observed"``, one patch per bin), the curve of
    ``sqrt(E_k)`` (``gid="expected"``) and the band around zero (``gid="interval"``).
    ``ax``: a matplotlib Axes to draw on (None makes a new figure).
    """
    x = freq.values.astype(float)
    root_expected = np.sqrt(freq.expected)
    root_observed = np.sqrt(freq.observed)
    low, high = freq.interval(prob)
    n_rep = freq.replicated.shape[0]
    with style.style_context():
        fig, (ax,), own = style.target_axes(ax, 1, (style.FIGURE_WIDTH, 3.8))
        ax.fill_between(
            x,
            root_expected - np.sqrt(high),
            root_expected - np.sqrt(low),
            step="mid",
            color=INTERVAL_COLOUR,
            alpha=0.35,
            linewidth=0,
            gid="interval",
            label=f"{prob:.0%} interval of replicated frequencies (for the bar ends)",
        )
        bars = ax.bar(
            x,
            root_observed,
            bottom=root_expected - root_observed,
            width=0.8,
            color=OBSERVED_COLOUR,
            alpha=0.55,
            gid="observed",
            label="observed, hanging from the expected",
        )
        for patch, label in zip(bars.patches, freq.labels, strict=True):
            patch.set_gid(f"observed:{label}")
        ax.plot(
            x,
            root_expected,
            color=REPLICATED_COLOUR,
            marker="o",
            markersize=3.5,
            gid="expected",
            label=f"expected (mean of {n_rep} replicated data sets)",
        )
        style.zero_line(ax)
        # bars stick to their ends in autoscaling: leave a margin below the lowest one
        lowest = min(0.0, float(np.min(root_expected - np.maximum(root_observed, np.sqrt(high)))))
        highest = max(float(root_expected.max()), float(np.max(root_expected - np.sqrt(low))))
        pad = 0.05 * (highest - lowest or 1.0)
        ax.set_ylim(lowest - pad, highest + pad)
        step = max(1, int(np.ceil(len(x) / 16)))
        ticks = list(range(0, len(x), step))
        if freq.pooled and ticks[-1] != len(x) - 1:
            ticks.append(len(x) - 1)
        ax.set_xticks(x[ticks], [freq.labels[i] for i in ticks])
        ax.set_xlabel(f"{outcome} (count)")
        ax.set_ylabel("√ frequency (rows)")
        ax.set_title("Posterior predictive check: hanging rootogram", loc="left")
        if own:
            fig.legend(loc="outside lower center", ncol=2)
        else:
            ax.legend(fontsize="small")
    return style.root_figure(fig)


# ------------------------------------------------------------------ binary outcomes
@dataclass(frozen=True)
class Shares:
    """Share of ones for all rows and per group: observed, and in each replicated data set."""

    labels: list[str]
    rows: np.ndarray
    observed: np.ndarray
    replicated: np.ndarray

    @property
    def expected(self) -> np.ndarray:
        """Mean replicated share of each scope."""
        return np.asarray(self.replicated.mean(axis=0))

    def interval(self, prob: float) -> tuple[np.ndarray, np.ndarray]:
        """Central ``prob`` interval of each scope's replicated share."""
        return _interval(self.replicated, prob)


def _check_binary(y: np.ndarray, what: str) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    bad = (y != 0) & (y != 1)
    if bad.any():
        raise ValueError(
            f"shares of ones need 0/1 outcomes, but {int(bad.sum())} {what} values are not "
            f"(e.g. {y[bad][:3].tolist()}); use a density check (kind='kde')"
        )
    return y


def binary_shares(
    observed: np.ndarray,
    replicates: Iterable[np.ndarray],
    group_codes: np.ndarray,
    group_labels: np.ndarray,
) -> Shares:
    """Shares of ones over all rows (``"all rows"``) and in each group with rows.

    ``group_codes`` index ``group_labels`` row by row, in the order of ``observed``.
    """
    codes = np.asarray(group_codes, dtype=np.int64)
    n_groups = len(group_labels)
    counts = np.bincount(codes, minlength=n_groups).astype(float)
    present = np.flatnonzero(counts > 0)

    def shares(y: np.ndarray) -> np.ndarray:
        sums = np.bincount(codes, weights=y, minlength=n_groups)
        return np.concatenate([[y.mean()], sums[present] / counts[present]])

    y = _check_binary(observed, "observed")
    reps = [shares(_check_binary(r, "replicated")) for r in replicates]
    if not reps:
        raise ValueError("no replicated data sets to compare with")
    return Shares(
        labels=["all rows", *(f"group {group_labels[g]}" for g in present)],
        rows=np.concatenate([[len(y)], counts[present]]),
        observed=shares(y),
        replicated=np.stack(reps),
    )


def shares_figure(shares: Shares, *, prob: float, outcome: str, ax: Axes | None = None) -> Figure:
    """Observed share of ones (``gid="observed"``) against the replicated shares' mean
    (``gid="expected"``) and central ``prob`` interval (``gid="interval"``), per scope.

    ``ax``: a matplotlib Axes to draw on (None makes a new figure).
    """
    x = np.arange(len(shares.labels), dtype=float)
    low, high = shares.interval(prob)
    n_rep = shares.replicated.shape[0]
    with style.style_context():
        fig, (ax,), own = style.target_axes(ax, 1, (style.FIGURE_WIDTH, 3.8))
        ax.vlines(
            x,
            low,
            high,
            color=INTERVAL_COLOUR,
            linewidth=6,
            gid="interval",
            label=f"replicated, {prob:.0%} interval",
        )
        ax.plot(
            x,
            shares.expected,
            linestyle="none",
            marker="_",
            markersize=16,
            markeredgewidth=2,
            color=REPLICATED_COLOUR,
            gid="expected",
            label=f"replicated, mean of {n_rep} data sets",
        )
        ax.plot(
            x,
            shares.observed,
            linestyle="none",
            marker="D",
            markersize=6,
            color=style.POPULATION_COLOUR,
            gid="observed",
            label="observed",
        )
        ax.set_xticks(x, shares.labels)
        ax.set_xlim(-0.6, len(x) - 0.4)
        ax.grid(axis="x", visible=False)
        ax.set_ylabel(f"share of rows with {outcome} = 1")
        ax.set_title("Posterior predictive check: share of ones, by group", loc="left")
        if own:
            fig.legend(loc="outside lower center", ncol=3)
        else:
            ax.legend(fontsize="small")
    return style.root_figure(fig)
