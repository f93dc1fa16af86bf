"""Posterior and prior predictive checks with Bayesian p-values, in bounded memory.

Replicated outcomes come from :mod:`bayescred.analysis.replicate`, one draw at a time; only
the statistics of each draw are kept (mean, sd, quantiles and, for outcomes that can be zero,
the share of zeros), overall and by group. ``within`` fits are checked on within-worker
deviations by default (the only scale their likelihood describes); tables say which scale
they use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.predictor import chunks
from bayescred.analysis.replicate import (
    AnyReplicator,
    Scale,
    Source,
    fit_design,
    make_replicator,
    posterior_replicator,
    prior_draws,
)
from bayescred.model.design import ModelDesign

#: Statistics of a check, in table order (``zero_share`` only for outcomes that can be zero).
STATISTICS: tuple[str, ...] = ("mean", "sd", "q10", "q50", "q90", "zero_share")
QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)
#: Outcome kinds for which the share of zeros is checked.
ZERO_KINDS: tuple[str, ...] = ("nonnegative", "count", "binary")
#: Bayesian p-values outside this interval are flagged.
FLAG_BOUNDS: tuple[float, float] = (0.05, 0.95)


class PredictiveDraw(NamedTuple):
    """One replicated outcome vector: the posterior ``chain`` and ``draw`` it comes from."""

    chain: int
    draw: int
    y: np.ndarray


def posterior_predictive(
    fit_tree: xr.DataTree,
    *,
    max_draws: int = 200,
    chunk_rows: int = 100_000,
    scale: Literal["outcome", "within"] = "outcome",
    random_seed: int | np.random.Generator | None = None,
    design: ModelDesign | None = None,
) -> Iterator[PredictiveDraw]:
    """Replicated outcomes from the posterior predictive, one draw at a time (lazily).

    Parameters
    ----------
    fit_tree
        A fit's DataTree (``fit.tree``; loaded fits work too).
    max_draws
        At most this many evenly spaced posterior draws are used.
    chunk_rows
        Rows evaluated at once within a draw.
    scale
        ``outcome`` (levels) or ``within`` (minus each worker's mean; see the module docstring).
    random_seed
        Seed or generator for the intercepts and the noise.
    design
        The fit's design (:attr:`bayescred.CredentialFit.design`); ``None`` rebuilds it from
        the tree (:func:`~bayescred.analysis.replicate.fit_design`).

    Yields
    ------
    PredictiveDraw
        ``(chain, draw, y)`` with ``y`` the replicated outcome of every used row, in the order
        of ``fit_tree["observed_data"]["y"]``. One draw's rows are held at a time: memory is
        O(rows) whatever ``max_draws``. Hurdle models replicate both parts (zeros and
        amounts; see :mod:`bayescred.analysis.replicate`).
    """
    rep, idx = posterior_replicator(
        fit_tree, max_draws=max_draws, chunk_rows=chunk_rows, scale=scale, design=design
    )
    post = fit_tree["posterior"].to_dataset()
    chains, draws = np.asarray(post["chain"].values), np.asarray(post["draw"].values)
    rng = np.random.default_rng(random_seed)
    return (
        PredictiveDraw(int(chains[f // len(draws)]), int(draws[f % len(draws)]), rep.draw(j, rng))
        for j, f in enumerate(idx)
    )


# ---------------------------------------------------------------------------------- statistics
@dataclass
class _Statistics:
    """Computes every (scope, statistic) of one outcome vector in O(rows) extra memory."""

    group_codes: np.ndarray
    group_labels: np.ndarray
    statistics: tuple[str, ...]
    by_group: bool
    chunk_rows: int = 100_000

    def __post_init__(self) -> None:
        n_groups = len(self.group_labels)
        self._counts = np.bincount(self.group_codes, minlength=n_groups).astype(float)
        self._present = [int(k) for k in np.flatnonzero(self._counts > 0)]
        if self.by_group:
            self._order = np.argsort(self.group_codes, kind="stable")
            self._bounds = np.concatenate([[0], np.cumsum(self._counts).astype(np.int64)])

    def labels(self) -> list[tuple[str, str]]:
        """``(scope, statistic)`` of each entry returned by :meth:`__call__`."""
        scopes = ["all"]
        if self.by_group:
            scopes += [str(self.group_labels[g]) for g in self._present]
        return [(s, t) for s in scopes for t in self.statistics]

    def __call__(self, y: np.ndarray) -> np.ndarray:
        g, n_groups, counts = self.group_codes, len(self.group_labels), self._counts
        sums, zeros, ss = np.zeros(n_groups), np.zeros(n_groups), np.zeros(n_groups)
        for rows in chunks(len(y), self.chunk_rows):
            sums += np.bincount(g[rows], weights=y[rows], minlength=n_groups)
            zeros += np.bincount(g[rows], weights=y[rows] == 0, minlength=n_groups)
        means = np.divide(sums, counts, out=np.zeros(n_groups), where=counts > 0)
        for rows in chunks(len(y), self.chunk_rows):  # two passes: no cancellation
            dev = y[rows] - means[g[rows]]
            ss += np.bincount(g[rows], weights=dev * dev, minlength=n_groups)
        n, mean = float(len(y)), float(sums.sum()) / len(y)
        var = float(ss.sum() + (counts * (means - mean) ** 2).sum()) / n  # total variance
        q_all, q_groups = self._quantiles(y)
        out = [self._row(mean, var, float(zeros.sum()) / n, q_all)]
        if self.by_group:
            c = counts
            out += [
                self._row(means[k], ss[k] / c[k], zeros[k] / c[k], q_groups[k])
                for k in self._present
            ]
        return np.concatenate(out)

    def _quantiles(self, y: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Quantiles overall and per group, from one copy of ``y`` partitioned in place."""
        if not self.by_group:
            return np.quantile(y.copy(), QUANTILES, overwrite_input=True), {}
        ordered = y[self._order]
        b = self._bounds
        per_group = {
            k: np.quantile(ordered[b[k] : b[k + 1]], QUANTILES, overwrite_input=True)
            for k in self._present
        }
        return np.quantile(ordered, QUANTILES, overwrite_input=True), per_group

    def _row(self, mean: float, var: float, zero: float, q: np.ndarray) -> np.ndarray:
        values = dict(zip(STATISTICS, [mean, np.sqrt(var), *q, zero], strict=True))
        return np.asarray([values[t] for t in self.statistics], dtype=float)


def _check_table(
    rep: AnyReplicator,
    *,
    by_group: bool,
    random_seed: int | np.random.Generator | None,
    kind: Source,
) -> pd.DataFrame:
    p = rep.design.panel
    statistics = STATISTICS if p.outcome_kind in ZERO_KINDS else STATISTICS[:-1]
    if rep.deviations:  # worker means are removed: every scope's mean is 0 by construction
        statistics = tuple(t for t in statistics if t != "mean")
    stats = _Statistics(
        p.group_codes, np.asarray(p.group_labels), statistics, by_group, rep.chunk_rows
    )
    observed = stats(rep.observed())
    rng = np.random.default_rng(random_seed)
    replicated = np.empty((rep.n_draws, len(observed)))
    for j in range(rep.n_draws):
        replicated[j] = stats(rep.draw(j, rng))
    # P(T(y_rep) >= T(y)), ties counted one half (they occur for discrete statistics only)
    p_value = np.mean(replicated > observed, axis=0) + 0.5 * np.mean(replicated == observed, axis=0)
    labels = stats.labels()
    table = pd.DataFrame(
        {
            "scope": [s for s, _ in labels],
            "statistic": [t for _, t in labels],
            "scale": rep.scale,
            "observed": observed,
            "replicated_mean": replicated.mean(axis=0),
            "replicated_sd": replicated.std(axis=0),
            "p_value": p_value,
            "flag": (p_value < FLAG_BOUNDS[0]) | (p_value > FLAG_BOUNDS[1]),
        }
    )
    table.attrs.update(
        check=kind,
        draws=rep.n_draws,
        scale=rep.scale,
        outcome=p.outcome,
        p_value=f"P(T(y_rep) > T(y)) + P(T(y_rep) = T(y)) / 2; flagged outside {FLAG_BOUNDS}",
    )
    return table


def check(
    fit_tree: xr.DataTree,
    *,
    by_group: bool = True,
    max_draws: int = 200,
    scale: Scale = "auto",
    chunk_rows: int = 100_000,
    random_seed: int | np.random.Generator | None = None,
    design: ModelDesign | None = None,
) -> pd.DataFrame:
    """Posterior predictive check: Bayesian p-values of summary statistics, overall and by group.

    For each statistic ``T`` (mean, sd with ``ddof=0``, 10%/50%/90% quantiles and, for outcomes
    that can be zero, the share of zeros) the p-value is ``P(T(y_rep) >= T(y))`` over
    ``max_draws`` evenly spaced posterior draws, ties (only the share of zeros has them)
    counting one half; values near 0 or 1 mean the model does not reproduce that feature.

    Memory is O(rows + max_draws x statistics): replicates are generated one draw at a time in
    chunks of ``chunk_rows`` rows; means, sds and zero shares accumulate over chunks, quantiles
    partition one copy of the draw's rows in place, and only the statistics are kept.

    Parameters
    ----------
    fit_tree
        A fit's DataTree (loaded fits work too).
    by_group
        Also report each group (``scope`` = the group label).
    max_draws
        Posterior draws used.
    scale
        ``outcome``; ``within`` (outcomes minus worker means; no ``mean`` rows, 0 by
        construction); ``auto`` (default): ``within`` for ``within`` worker effects, whose
        likelihood describes only within-worker deviations (level replicates there carry
        flat-prior intercepts and overstate the sd), ``outcome`` otherwise.
    chunk_rows
        Rows evaluated at once.
    random_seed
        Seed or generator.
    design
        The fit's design (:attr:`bayescred.CredentialFit.design`); ``None`` rebuilds it from
        the tree.

    Returns
    -------
    pandas.DataFrame
        Columns ``scope`` (``"all"`` or a group label), ``statistic``, ``scale`` (``outcome`` or
        ``within-worker deviation``), ``observed``, ``replicated_mean``, ``replicated_sd``,
        ``p_value`` and ``flag`` (p-value outside [0.05, 0.95]); ``attrs`` record the kind of
        check (``posterior``), the draws used and the scale.
    """
    rep, _ = posterior_replicator(
        fit_tree, max_draws=max_draws, chunk_rows=chunk_rows, scale=scale, design=design
    )
    return _check_table(rep, by_group=by_group, random_seed=random_seed, kind="posterior")


def prior_check(
    fit_tree: xr.DataTree,
    *,
    draws: int = 200,
    by_group: bool = True,
    scale: Scale = "auto",
    chunk_rows: int = 100_000,
    random_seed: int | np.random.Generator | None = None,
    design: ModelDesign | None = None,
) -> pd.DataFrame:
    """Prior predictive check: the :func:`check` table for outcomes drawn from the priors.

    Parameters (including deterministics such as ``beta_group``, ``lambda_group``, ``tau``) are
    drawn from the priors of the fit's model (its design's), intercepts from their prior.
    Under ``within`` worker effects that prior is flat and improper and the outcome's level has
    no prior predictive: the check is made on within-worker deviations, observed and replicated
    outcomes both minus their worker means (``scale="outcome"`` raises ``ValueError``).

    Parameters
    ----------
    fit_tree
        A fit's DataTree.
    draws
        Prior draws.
    by_group, scale, chunk_rows
        As in :func:`check`.
    random_seed
        Seed for the parameters, the intercepts and the noise.
    design
        The fit's design (:attr:`bayescred.CredentialFit.design`); ``None`` rebuilds it from
        the tree.

    Returns
    -------
    pandas.DataFrame
        The :func:`check` table, with ``attrs["check"] = "prior"``.
    """
    design = fit_design(fit_tree, design)
    rng = np.random.default_rng(random_seed)
    rep = make_replicator(design, prior_draws(design, draws, rng), "prior", scale, chunk_rows)
    return _check_table(rep, by_group=by_group, random_seed=rng, kind="prior")
