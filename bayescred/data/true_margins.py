"""Exact true effects of one more credential on the simulator's count-related quantities.

The simulator (:mod:`bayescred.data.simulate`) draws ``n_projects`` of row ``(i, t)`` from a
negative binomial with mean ``mu_it = exp(a_i + tau_count_t + beta_count S(n_it; shape_g))`` and
dispersion ``phi`` (``Var = mu + mu^2 / phi``), or from a Poisson with mean ``mu_it``; the
log project value does not depend on the count. One more credential moves the mean from
``mu0 = mu_it`` to ``mu1 = mu_it exp(beta_count (S(n + 1) - S(n)))`` and so changes

* the share of periods with projects, ``log P(n > 0)`` (the extensive margin of a hurdle model
  of earnings, in log points);
* the mean count in those periods, ``log E[n | n > 0] = log mu - log P(n > 0)``; as
  ``E[earnings | earnings > 0] = E[n | n > 0] E[exp(log_project_value)]`` (the count and the
  project value are independent given the row), the hurdle's intensive margin
  ``log v1 - log v0`` is the row's next effect on log project value plus this change;
* the mean log count in those periods, ``E[log n | n > 0]``; the effect on the mean of
  ``log_earnings = log n + log_project_value`` among the rows with projects is the row's next
  effect on log project value plus this change.

``P(n = 0)`` is ``(phi / (phi + mu))^phi`` (negative binomial) or ``exp(-mu)`` (Poisson), in
closed form; ``E[log n | n > 0]`` is a sum over the probability mass function, truncated where
the remaining tail mass is below :data:`TAIL_MASS`, vectorised over rows.

Examples
--------
>>> import numpy as np
>>> from bayescred.data.true_margins import log_prob_positive
>>> float(np.exp(log_prob_positive(np.array([2.0]), "poisson", 0.0))[0])  # 1 - exp(-2)
0.8646647167633873
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from bayescred.data.simulate import SimulatedPanel, TrueParameters

__all__ = [
    "TAIL_MASS",
    "count_means",
    "log_mean_positive",
    "log_prob_positive",
    "mean_log_positive",
    "next_count_changes",
    "next_effects",
]

#: Tail mass left out of the sum over the count's probability mass function.
TAIL_MASS = 1e-12
#: Elements of the (rows x counts) mass matrix evaluated at once.
_CHUNK_ELEMENTS = 2_000_000


def _distribution(mu: np.ndarray, model: str, dispersion: float) -> stats.rv_discrete:
    if model == "negative_binomial":
        return stats.nbinom(dispersion, dispersion / (dispersion + mu))
    if model == "poisson":
        return stats.poisson(mu)
    raise ValueError(f"unknown count model {model!r}; use 'negative_binomial' or 'poisson'")


def _log_prob_zero(mu: np.ndarray, model: str, dispersion: float) -> np.ndarray:
    if model == "negative_binomial":
        return np.asarray(-dispersion * np.log1p(mu / dispersion))
    if model == "poisson":
        return np.asarray(-mu)
    raise ValueError(f"unknown count model {model!r}; use 'negative_binomial' or 'poisson'")


def log_prob_positive(mu: np.ndarray, model: str, dispersion: float) -> np.ndarray:
    """``log P(n > 0)`` of a count with mean ``mu`` (elementwise).

    Parameters
    ----------
    mu
        Means (> 0).
    model
        ``negative_binomial`` (dispersion ``phi``: ``Var = mu + mu^2 / phi``) or ``poisson``.
    dispersion
        ``phi`` of the negative binomial (unused for Poisson).
    """
    mu = np.asarray(mu, dtype=float)
    x = _log_prob_zero(mu, model, dispersion)
    # log(1 - exp(x)) accurately on both sides of x = -log 2
    with np.errstate(divide="ignore"):
        return np.where(x < -np.log(2.0), np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


def log_mean_positive(mu: np.ndarray, model: str, dispersion: float) -> np.ndarray:
    """``log E[n | n > 0] = log mu - log P(n > 0)`` (elementwise; as :func:`log_prob_positive`)."""
    mu = np.asarray(mu, dtype=float)
    return np.log(mu) - log_prob_positive(mu, model, dispersion)


def mean_log_positive(
    mu: np.ndarray, model: str, dispersion: float, *, tail: float = TAIL_MASS
) -> np.ndarray:
    """``E[log n | n > 0]`` (elementwise; as :func:`log_prob_positive`).

    The sum ``sum_{k >= 2} log(k) P(n = k) / P(n > 0)`` runs, for each chunk of rows, up to a
    count past which every row's upper tail holds less than ``tail`` of its mass.
    """
    mu = np.asarray(mu, dtype=float)
    flat = mu.ravel()
    out = np.empty_like(flat)
    log_pos = log_prob_positive(flat, model, dispersion)
    needed = _distribution(flat, model, dispersion).isf(tail).astype(np.int64) + 1
    rows = max(1, _CHUNK_ELEMENTS // max(int(needed.max(initial=2)), 2))
    for start in range(0, flat.size, rows):
        sl = slice(start, min(start + rows, flat.size))
        k = np.arange(2, max(2, int(needed[sl].max())) + 1, dtype=float)
        logpmf = _distribution(flat[sl, None], model, dispersion).logpmf(k[None, :])
        out[sl] = np.exp(logpmf - log_pos[sl, None]) @ np.log(k)
    return out.reshape(mu.shape)


def count_means(truth: TrueParameters, frame: pd.DataFrame, extra: float = 0.0) -> np.ndarray:
    """The simulator's mean count ``mu_it`` of each row of ``frame`` (columns ``worker_id``,
    ``period``, ``group``, ``credentials``), with ``extra`` credentials added."""
    level = truth.count_level.reindex(frame["worker_id"].astype(str)).to_numpy(dtype=float)
    tau = truth.tau_count.reindex(frame["period"].astype(np.int64)).to_numpy(dtype=float)
    if np.isnan(level).any() or np.isnan(tau).any():
        raise ValueError("frame has workers or periods the simulation did not generate")
    shape = truth.shape[truth._group_index(frame["group"].astype(str).to_numpy())]
    n = frame["credentials"].to_numpy(dtype=float) + extra
    curve = truth.term.curve_value(n, shape)
    return np.asarray(np.exp(level + tau + truth.beta_count * curve))


def next_count_changes(truth: TrueParameters, frame: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``frame``, the true change from one more credential in ``log P(n > 0)``
    (``log_prob_positive``), ``log E[n | n > 0]`` (``log_mean_positive``) and
    ``E[log n | n > 0]`` (``mean_log_positive``); index of ``frame``."""
    mu0 = count_means(truth, frame)
    mu1 = count_means(truth, frame, extra=1.0)
    model, phi = truth.count_model, truth.count_dispersion
    changes = {
        f.__name__: f(mu1, model, phi) - f(mu0, model, phi)
        for f in (log_prob_positive, log_mean_positive, mean_log_positive)
    }
    return pd.DataFrame(changes, index=frame.index)


def next_effects(sim: SimulatedPanel) -> pd.DataFrame:
    """Each row's true effect of one more credential on what the models report, index and
    keys (``worker_id``, ``period``, ``group``) of ``sim.frame``.

    Columns: ``log_project_value`` (:attr:`SimulatedPanel.next_effect`); ``log_earnings``
    (the change in ``E[log earnings | earnings > 0]``: that plus the change in
    ``E[log n | n > 0]``); and, for a hurdle model of ``earnings`` in log points,
    ``extensive`` (``log P(earnings > 0)``), ``intensive`` (``log E[earnings | earnings > 0]``)
    and ``total`` (``log E[earnings]``, their sum: ``next_effect + beta_count (S(n + 1) - S(n))``).
    Where the row has no projects the log-earnings effect is still that of the row's
    worker, period and credentials (the fit of log earnings only uses rows with projects).
    """
    frame = sim.frame
    changes = next_count_changes(sim.truth, frame)
    value = sim.next_effect.to_numpy(dtype=float)
    out = frame[["worker_id", "period", "group"]].copy()
    out["log_project_value"] = value
    out["log_earnings"] = value + changes["mean_log_positive"].to_numpy()
    out["extensive"] = changes["log_prob_positive"].to_numpy()
    out["intensive"] = value + changes["log_mean_positive"].to_numpy()
    out["total"] = out["extensive"] + out["intensive"]
    return out
