"""Draw outcomes exactly from the credential model's own likelihoods, with known parameters.

:func:`bayescred.data.simulate.simulate` generates whole panels from a paper-style process whose
outcomes (project counts, log project values) are *not* draws from the fitted model's likelihood
(the counts feed the track record, the log project value is only seen with a project). This
module takes any panel skeleton (columns ``worker_id``, ``period``, ``group``, ``credentials``,
``track_record``) and adds an outcome drawn from the very likelihood the PyMC model assumes, so
that parameter-recovery tests compare posterior intervals with the truth that generated the data.

The process matches :func:`bayescred.model.build.build_model` with the default spec settings
(geometric curve, ``log_quadratic`` modifier, track-record reference = median and scale = sd,
``worker_effects = "correlated"``, no period effects, no covariates, complete pooling of
``lambda`` and ``gamma`` across groups in the truth). For row ``(i, t)`` of worker ``i`` in
group ``g``, on the link scale of one part::

    z      = TrackRecordScale.from_data(track_record over all rows).z(track_record)
    eta    = alpha[i] + beta[g] * S(n; lambda) * M(z; gamma1, gamma2)
    alpha  = mu_alpha + psi @ w[i] + sigma_alpha * e[i],   e[i] ~ Normal(0, 1)

with ``S(n) = (1 - exp(-lambda n)) / (1 - exp(-lambda))``, ``M = exp(gamma1 z + gamma2 z^2)``
and ``w[i]`` = (worker mean of credentials, worker mean of ``z``) over the worker's rows, each
standardised by its mean and population sd (``ddof = 0``) over workers: the standardisation of
:meth:`bayescred.model.design.ModelDesign.mundlak_matrix`.

Outcome per likelihood:

* ``normal``: ``y = eta + sigma * Normal(0, 1)``;
* ``poisson``: ``y ~ Poisson(exp(eta))``;
* ``negative_binomial``: ``y ~ NB(mean exp(eta), dispersion phi)`` (variance
  ``mu + mu^2 / phi``), drawn as numpy's ``negative_binomial(phi, phi / (phi + mu))``;
* ``bernoulli``: ``y ~ Bernoulli(expit(eta))``;
* ``hurdle_lognormal``: ``d ~ Bernoulli(expit(eta_ext))`` with ``eta_ext`` from the
  ``extensive`` part (its own worker intercepts and ``psi``, on the same worker means), and
  ``y = exp(eta_main + sigma * Normal(0, 1))`` where ``d = 1``, else ``y = 0``.

Workers are ordered by their sorted ``worker_id`` (as in :class:`bayescred.data.panel.Panel`):
the ``e`` argument of :func:`linear_predictor` follows that order.

Each outcome is drawn by the likelihood's own family (:mod:`bayescred.model.families`):
:meth:`~bayescred.model.families.base.Family.draw_parts` with one predictor, parameter set and
random generator per part of :meth:`~bayescred.model.families.base.Family.part_families`, the
same draws as the fitted model's predictive checks. This module knows only which part of the
truth (``main`` or ``extensive``) and which random streams belong to each part, and which of
the families' parameters :class:`OutcomeTruth` carries.

Examples
--------
>>> from bayescred.data.simulate import simulate
>>> skeleton = simulate("paper", seed=1, n_workers=40, n_periods=5).frame
>>> truth = OutcomeTruth(
...     "poisson", main=PartTruth(beta={"A": 0.2, "B": 0.2, "C": 0.2, "D": 0.3}, lambda_=0.25)
... )
>>> out = simulate_outcome(skeleton, truth, seed=3)
>>> bool((out["y"] >= 0).all())
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from bayescred.maths.curves import (
    TrackRecordScale,
    credential_curve,
    next_credential_gain,
    track_record_modifier,
)
from bayescred.model.families import Family, get_family
from bayescred.model.parts import PartName

__all__ = [
    "REQUIRED_COLUMNS",
    "OutcomeLikelihood",
    "OutcomeTruth",
    "PartTruth",
    "linear_predictor",
    "simulate_outcome",
    "track_record_z",
    "true_next_effect",
    "worker_means",
]

OutcomeLikelihood = Literal[
    "normal", "poisson", "negative_binomial", "bernoulli", "hurdle_lognormal"
]
#: Likelihoods :func:`simulate_outcome` can draw from.
LIKELIHOODS: tuple[str, ...] = get_args(OutcomeLikelihood)
#: Columns of the panel skeleton the outcome is drawn for.
REQUIRED_COLUMNS: tuple[str, ...] = ("worker_id", "period", "group", "credentials", "track_record")
#: Names of the standardised worker means ``w`` (the order of ``PartTruth.psi``).
MUNDLAK_TERMS: tuple[str, ...] = ("mean_credentials", "mean_track_record_z")

# Child streams of np.random.SeedSequence(seed): one per role, so that changing one part of the
# truth (or the likelihood) does not move the draws of the others.
_STREAM_MAIN_ALPHA, _STREAM_MAIN_OUTCOME, _STREAM_EXT_ALPHA, _STREAM_EXT_OUTCOME = range(4)
_N_STREAMS = 4
#: Per part of a family (:meth:`Family.part_families`): the field of :class:`OutcomeTruth`
#: with its true parameters, and its streams of worker draws and of outcome draws. ``main`` is
#: the only part of a single-part family and the intensive part of a hurdle.
_PART_ROLES: dict[PartName | None, tuple[Literal["main", "extensive"], int, int]] = {
    None: ("main", _STREAM_MAIN_ALPHA, _STREAM_MAIN_OUTCOME),
    "intensive": ("main", _STREAM_MAIN_ALPHA, _STREAM_MAIN_OUTCOME),
    "extensive": ("extensive", _STREAM_EXT_ALPHA, _STREAM_EXT_OUTCOME),
}
#: The families' parameters :class:`OutcomeTruth` carries, each with its valid range (a test of
#: a finite value, in words).
_FAMILY_PARAMETERS: dict[str, tuple[Callable[[float], bool], str]] = {
    "phi": (lambda v: v > 0, "> 0"),
    "sigma": (lambda v: v >= 0, ">= 0"),
}


@dataclass(frozen=True)
class PartTruth:
    """True parameters of one linear predictor on its link scale.

    Attributes
    ----------
    beta
        Group label -> effect of the first credential at the reference track record
        (``z = 0``); every group of the frame needs an entry.
    lambda_
        Geometric curve decay (> 0), the same for every group (the model's ``lambda``).
    gamma
        Coefficients ``(gamma1, gamma2)`` of ``z`` and ``z**2`` in the ``log_quadratic``
        track-record modifier, the same for every group.
    mu_alpha
        Mean worker intercept (at average worker means, where ``w = 0``).
    sigma_alpha
        Sd of the worker intercepts around ``mu_alpha + psi @ w``.
    psi
        Mundlak coefficients on the standardised worker means of credentials and of ``z``.
    """

    beta: Mapping[str, float]
    lambda_: float
    gamma: tuple[float, float] = (0.0, 0.0)
    mu_alpha: float = 0.0
    sigma_alpha: float = 0.5
    psi: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class OutcomeTruth:
    """The likelihood of the outcome and the true parameters of each of its parts.

    Attributes
    ----------
    likelihood
        ``normal``, ``poisson``, ``negative_binomial``, ``bernoulli`` or ``hurdle_lognormal``.
    main
        The normal mean, the count model's log mean or the Bernoulli logit; for the hurdle the
        intensive part (mean of the log of the positive amount).
    extensive
        Hurdle only: the logit of ``P(y > 0)``.
    phi
        Negative binomial only: the dispersion (variance ``mu + mu^2 / phi``).
    sigma
        ``normal``: the residual sd; ``hurdle_lognormal``: the sd of the log positive amount.
    """

    likelihood: OutcomeLikelihood
    main: PartTruth
    extensive: PartTruth | None = None
    phi: float | None = None
    sigma: float | None = None


def _check_columns(frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, not {type(frame).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"frame lacks the column(s) {', '.join(map(repr, missing))}; an outcome is drawn "
            f"for a panel skeleton with columns {', '.join(REQUIRED_COLUMNS)}"
        )
    if frame.empty:
        raise ValueError("frame has no rows")
    gaps = [c for c in REQUIRED_COLUMNS if frame[c].isna().any()]
    if gaps:
        raise ValueError(f"column(s) {', '.join(map(repr, gaps))} have missing values")
    for c in ("credentials", "track_record"):
        values = frame[c].to_numpy(dtype=float)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"column {c!r} must be finite and >= 0")


def _check_part(part: PartTruth, name: str) -> None:
    if not isinstance(part, PartTruth):
        raise TypeError(f"{name} must be a PartTruth, not {type(part).__name__}")
    if not (np.isfinite(part.lambda_) and part.lambda_ > 0):
        raise ValueError(f"{name}.lambda_ must be a finite number > 0, not {part.lambda_!r}")
    if not (np.isfinite(part.sigma_alpha) and part.sigma_alpha >= 0):
        raise ValueError(f"{name}.sigma_alpha must be >= 0, not {part.sigma_alpha!r}")
    if len(part.gamma) != 2 or len(part.psi) != 2:
        raise ValueError(f"{name}.gamma and {name}.psi need two values each")


def _family_parameters(family: Family) -> dict[str, tuple[PartName | None, Family]]:
    """Each parameter the parts' families need, with the part and family that use it."""
    return {
        parameter: (name, part_family)
        for name, part_family in family.part_families()
        for parameter in part_family.parameters
    }


def _truth_fields(family: Family) -> set[str]:
    """The fields of :class:`OutcomeTruth` the family's parts need (besides ``likelihood``)."""
    parts = {_PART_ROLES[name][0] for name, _ in family.part_families()}
    return parts | set(_family_parameters(family))


def _users(field: str) -> str:
    """The likelihoods of :data:`LIKELIHOODS` that need ``field`` of the truth, in words."""
    names = [lik for lik in LIKELIHOODS if field in _truth_fields(get_family(lik))]
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)


def _check_truth(truth: OutcomeTruth) -> Family:
    """The family of ``truth.likelihood``, once the truth has what its parts need."""
    lik = truth.likelihood
    if lik not in LIKELIHOODS:
        raise ValueError(f"unknown likelihood {lik!r}; allowed: {', '.join(LIKELIHOODS)}")
    family = get_family(lik)
    _check_part(truth.main, "main")
    if "extensive" in _truth_fields(family):
        if truth.extensive is None:
            raise ValueError(f"{lik} needs `extensive` (the PartTruth of logit P(y > 0))")
        _check_part(truth.extensive, "extensive")
    elif truth.extensive is not None:
        raise ValueError(f"`extensive` is only used by {_users('extensive')}, not by {lik!r}")
    needed = _family_parameters(family)
    for parameter, (valid, rule) in _FAMILY_PARAMETERS.items():
        value = getattr(truth, parameter)
        if parameter in needed:
            name, part_family = needed[parameter]
            if value is None or not (np.isfinite(value) and valid(value)):
                what = part_family.descriptions.get(parameter, parameter)
                if name is not None:
                    what = f"{name} part's {what}"
                raise ValueError(f"{lik} needs {parameter} {rule}, the {what}; not {value!r}")
        elif value is not None:
            raise ValueError(f"{parameter} is only used by {_users(parameter)}, not by {lik!r}")
    return family


def _check_supported() -> None:
    """Every parameter of a drawable likelihood's families is a field of :class:`OutcomeTruth`."""
    for lik in LIKELIHOODS:
        unknown = set(_family_parameters(get_family(lik))) - set(_FAMILY_PARAMETERS)
        if unknown:  # pragma: no cover - a developer's mistake, caught at import
            raise AssertionError(f"OutcomeTruth has no field for {lik}'s {sorted(unknown)}")


_check_supported()


def _worker_codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per-row codes into the sorted unique worker labels, and those labels."""
    codes, labels = pd.factorize(frame["worker_id"], sort=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(labels)


def _group_beta(frame: pd.DataFrame, part: PartTruth, name: str = "part") -> np.ndarray:
    """``beta[g]`` of each row (group labels looked up as strings)."""
    labels = frame["group"].astype(str).to_numpy()
    beta = {str(k): float(v) for k, v in part.beta.items()}
    missing = sorted(set(labels) - set(beta))
    if missing:
        raise ValueError(
            f"{name}.beta has no value for group(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(repr, sorted(beta))) or 'none'}"
        )
    return np.array([beta[g] for g in labels], dtype=float)


def track_record_z(frame: pd.DataFrame) -> np.ndarray:
    """Standardised log track record of each row, as the model computes it.

    ``z = (log1p(r) - log1p(median r)) / sd(log1p(r))`` with the median and sd over all rows
    of ``frame`` (:meth:`TrackRecordScale.from_data`).
    """
    _check_columns(frame)
    r = frame["track_record"].to_numpy(dtype=float)
    return TrackRecordScale.from_data(r).z(r)


def _standardised_worker_means(frame: pd.DataFrame, codes: np.ndarray) -> np.ndarray:
    n_workers = int(codes.max()) + 1
    counts = np.bincount(codes, minlength=n_workers).astype(float)
    cols = [frame["credentials"].to_numpy(dtype=float), track_record_z(frame)]
    raw = np.column_stack(
        [np.bincount(codes, weights=c, minlength=n_workers) / counts for c in cols]
    )
    sd = raw.std(axis=0)
    return (raw - raw.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def worker_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Standardised worker means ``w`` entering the intercepts' mean (``psi @ w``).

    Returns
    -------
    pandas.DataFrame
        One row per worker (index ``worker_id``, sorted), columns ``mean_credentials`` and
        ``mean_track_record_z``: each worker's mean over all of its rows, minus the mean over
        workers and divided by the population sd over workers (``ddof = 0``; 1 where the sd is
        0), as :func:`bayescred.model.design.make_design` standardises them.
    """
    _check_columns(frame)
    codes, labels = _worker_codes(frame)
    w = _standardised_worker_means(frame, codes)
    return pd.DataFrame(w, index=pd.Index(labels, name="worker_id"), columns=list(MUNDLAK_TERMS))


def _credential_term(frame: pd.DataFrame, part: PartTruth, z: np.ndarray, name: str) -> np.ndarray:
    n = frame["credentials"].to_numpy(dtype=float)
    curve = credential_curve(np, "geometric", n, part.lambda_)
    modifier = track_record_modifier(np, "log_quadratic", z, part.gamma[0], part.gamma[1])
    return np.asarray(_group_beta(frame, part, name) * curve * modifier, dtype=float)


def _intercepts(w: np.ndarray, part: PartTruth, e: np.ndarray) -> np.ndarray:
    return np.asarray(part.mu_alpha + w @ np.asarray(part.psi, dtype=float) + part.sigma_alpha * e)


def linear_predictor(
    frame: pd.DataFrame, part: PartTruth, e: np.ndarray | None = None, *, name: str = "part"
) -> np.ndarray:
    """The link-scale predictor ``eta`` of each row of ``frame`` for one part.

    Parameters
    ----------
    frame
        Panel skeleton (columns :data:`REQUIRED_COLUMNS`).
    part
        The true parameters.
    e
        Standard-normal worker draws, one per worker in sorted ``worker_id`` order; the worker
        intercept is ``mu_alpha + psi @ w + sigma_alpha * e``. ``None`` means zeros (the
        intercept's conditional mean).
    name
        Name of the part in error messages.

    Returns
    -------
    numpy.ndarray
        ``alpha[worker] + beta[group] * S(n; lambda_) * M(z; gamma)`` per row.
    """
    _check_columns(frame)
    _check_part(part, name)
    codes, labels = _worker_codes(frame)
    if e is None:
        e = np.zeros(len(labels))
    e = np.asarray(e, dtype=float)
    if e.shape != (len(labels),):
        raise ValueError(f"e needs one value per worker ({len(labels)}), not shape {e.shape}")
    z = track_record_z(frame)
    alpha = _intercepts(_standardised_worker_means(frame, codes), part, e)
    return np.asarray(alpha[codes] + _credential_term(frame, part, z, name), dtype=float)


def true_next_effect(frame: pd.DataFrame, part: PartTruth) -> np.ndarray:
    """True effect of one more credential on the link scale, per row of ``frame``.

    ``beta[g] * (S(n + 1) - S(n)) * M(z)`` with the geometric curve of ``part.lambda_``, the
    ``log_quadratic`` modifier of ``part.gamma`` and ``z`` standardised over all rows of
    ``frame`` (as in :func:`simulate_outcome`). For counts this is the change in
    ``log E[y]``, for the Bernoulli the change in the log-odds, holding the worker fixed.
    """
    _check_columns(frame)
    _check_part(part, "part")
    n = frame["credentials"].to_numpy(dtype=float)
    z = track_record_z(frame)
    gain = next_credential_gain(np, "geometric", n, part.lambda_)
    modifier = track_record_modifier(np, "log_quadratic", z, part.gamma[0], part.gamma[1])
    return np.asarray(_group_beta(frame, part) * gain * modifier, dtype=float)


def simulate_outcome(
    frame: pd.DataFrame, truth: OutcomeTruth, *, column: str = "y", seed: int
) -> pd.DataFrame:
    """Copy of ``frame`` with ``column`` drawn from the model's likelihood (module docstring).

    Parameters
    ----------
    frame
        Panel skeleton with columns ``worker_id``, ``period``, ``group``, ``credentials`` and
        ``track_record`` (e.g. ``simulate("paper", ...).frame``); other columns are kept.
    truth
        The likelihood and its true parameters.
    column
        Name of the new outcome column (replaced if present; it may not be one of the skeleton
        columns).
    seed
        Seed of the draws. The same frame, truth and seed give the same outcome. The worker
        draws and the outcome draws of each part use their own child stream of
        ``numpy.random.SeedSequence(seed)``, so changing one part's parameters does not move
        the random numbers of another (the worker draws ``e`` do not depend on any parameter).

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with ``column``: int64 counts (``poisson``,
        ``negative_binomial``), int64 0/1 (``bernoulli``), float64 otherwise (``0.0`` for the
        hurdle's zeros).

    Raises
    ------
    ValueError
        A skeleton column is missing or has missing values; a group of the frame has no
        ``beta``; the truth lacks what its likelihood needs (``extensive`` and ``sigma`` for
        the hurdle, ``phi`` for the negative binomial, ``sigma`` for the normal) or carries a
        parameter its likelihood does not use.

    Notes
    -----
    Hurdle: both parts' Mundlak terms use the worker means over *all* of the worker's rows.
    The fitted model's intensive part averages over the rows with a positive outcome only, so
    its ``psi`` is not the simulated one unless the truth has ``main.psi = (0, 0)``: recovery
    tests of the hurdle should use ``psi = (0, 0)`` for the intensive part (the extensive
    part's ``psi`` is comparable).
    """
    _check_columns(frame)
    family = _check_truth(truth)
    if column in REQUIRED_COLUMNS:
        raise ValueError(f"column {column!r} is a skeleton column; choose another outcome name")
    # groups are checked before any draw, so a missing beta is reported as such
    _group_beta(frame, truth.main, "main")
    if truth.extensive is not None:
        _group_beta(frame, truth.extensive, "extensive")

    streams = np.random.SeedSequence(seed).spawn(_N_STREAMS)
    rng = [np.random.Generator(np.random.PCG64(s)) for s in streams]
    codes, labels = _worker_codes(frame)
    n_workers = len(labels)
    z = track_record_z(frame)
    w = _standardised_worker_means(frame, codes)

    def eta_of(part: PartTruth, e: np.ndarray, name: str) -> np.ndarray:
        alpha = _intercepts(w, part, e)
        return np.asarray(alpha[codes] + _credential_term(frame, part, z, name), dtype=float)

    etas: dict[PartName | None, np.ndarray] = {}
    params: dict[PartName | None, dict[str, float]] = {}
    draws: dict[PartName | None, np.random.Generator] = {}
    for name, part_family in family.part_families():
        field, alpha_stream, outcome_stream = _PART_ROLES[name]
        part = truth.main if field == "main" else truth.extensive
        assert part is not None  # _check_truth
        etas[name] = eta_of(part, rng[alpha_stream].standard_normal(n_workers), field)
        params[name] = {p: float(getattr(truth, p)) for p in part_family.parameters}
        draws[name] = rng[outcome_stream]
    y = family.draw_parts(etas, params, draws)
    if family.integer_valued:  # whole numbers drawn as floats, exactly (below 2**53)
        y = y.astype(np.int64)
    out = frame.copy()
    out[column] = y
    return out
