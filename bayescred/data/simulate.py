"""Simulate worker-period panels from the credential model's data-generating process.

The process follows ``docs/design.md`` section 3; every switch is a field of
:class:`~bayescred.data.presets.SimulationSettings`. Credential curves, next-credential gains
and track-record modifiers are evaluated with :mod:`bayescred.maths.curves` (``xp = numpy``),
the same formulas the PyMC model uses, and the track record is standardised with
:class:`~bayescred.maths.curves.TrackRecordScale` fitted to the generated data.

For worker ``i`` in group ``g`` and period ``t`` (only periods where the worker is observed):

1. ability ``u_i ~ Normal(0, 1)``; worker effect ``alpha_i = sigma_alpha u_i`` (or 0);
2. credentials at entry (mostly 0) and one new credential per period (occasionally two) with
   log-odds ``logit(credential_rate) - selection u_i + propensity_sd h_i``: negative selection;
   ``credentials`` is the count held at the start of the period;
3. ``n_projects ~ NegBin`` (or Poisson) with
   ``log E[n] = a_i + tau_count_t + beta_count S(n_it; shape_g)``, ``a_i`` correlated with
   ``u_i``; ``track_record`` = entry record + projects completed in earlier periods;
4. ``z = TrackRecordScale.from_data(track_record).z(track_record)`` over all rows;
5. ``log_project_value = intercept + alpha_i + tau_t + x_it @ delta
   + beta_g S(n_it; shape_g) M(z_it; gamma_g) + noise`` where ``n_projects > 0``;
   ``earnings = n_projects * exp(log_project_value)`` (0 without projects) and
   ``log_earnings = log(n_projects) + log_project_value`` (NaN without projects).

The exact true effects of one more credential on the count-related quantities (the share of
periods with projects, the mean count in them, the mean log count) are in
:mod:`bayescred.data.true_margins`.

Event-time dynamics (``docs/design.md`` section 3.8; off by default, and then the panels are
the same, bit for bit, as without them): with ``event_lags``, ``event_leads`` or
``cohort_slope`` set, step 5's credential effect becomes the event-time sum
``sum_k dS(k) M(z_it) f_{g,c}(bin(t - t_k))`` over the worker's credentials (``t_k`` the period
the ``k``-th is first held, credentials held at entry count as long held), evaluated with
:func:`~bayescred.maths.event_time.row_counts` and
:func:`~bayescred.maths.event_time.profile_sum`; the lags are ``f(e) = beta_g h(e)`` times the
cohort multiplier, the leads ``event_leads``, ``f(-1) = 0``. ``dip_sd > 0`` adds the
Ashenfelter dip: a shock ``eta_it`` in ``log_project_value`` that also raises the odds of
earning a credential in the same period. ``max_credentials_gained`` caps the credentials earned
during the panel. Every panel lists its credential events (:attr:`SimulatedPanel.events`). The
new random draws come from seed-sequence children 8 and up, drawn only when a feature needs them,
so the other streams never move.

Credential types (``SimulationSettings.types``, a :class:`~bayescred.data.presets.TypeSettings`;
off by default, and then the panels are the same, bit for bit, as without them): every
credential event gets a type (a skill test) of a skill category and every worker a job
category, and step 5's credential term becomes
``M(z_it) sum_{k held} w_k (beta_g + u_category[c(j_k)] + u_type[j_k] + rho 1[c(j_k) == J_i])``
(:meth:`TrueParameters.typed_credential_term`, ``w_k`` the curve's steps, averaged over the
credentials first held in the same period). Every draw of the types comes from its own seed
sequence ``SeedSequence([seed, 7919])``, so with types on every other draw is the same as
without them and only the credential term's values change.

Examples
--------
>>> from bayescred.data.simulate import simulate, paper_preset
>>> sim = simulate(paper_preset(n_workers=50, n_periods=6), seed=1)
>>> sorted(sim.frame.columns)[:3]
['any_project', 'credentials', 'earnings']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit, logit

from bayescred.data.presets import (
    PRESETS,
    GroupTruth,
    SimulationSettings,
    TypeSettings,
    paper_preset,
    preset,
    types_preset,
)
from bayescred.maths.curves import (
    TrackRecordScale,
)
from bayescred.maths.event_time import UNKNOWN_TIME, EventWindow, profile_sum, row_counts
from bayescred.terms.credential import CredentialTerm

__all__ = [
    "PRESETS",
    "GroupTruth",
    "SimulatedPanel",
    "SimulationSettings",
    "TrueParameters",
    "TypeSettings",
    "paper_preset",
    "simulate",
    "types_preset",
]


def _frozen(values: Any) -> np.ndarray:
    arr = np.array(values, dtype=float)
    arr.flags.writeable = False
    return arr


#: Cohort label of the workers who hold credentials at entry (date unknown, before the panel);
#: the same label as the model's adoption cohorts (:func:`bayescred.model.design.adoption_cohorts`).
ENTRY_COHORT = "entry"

EventScope = Literal["group", "cohort"]
TypeScope = Literal["type", "category"]

#: Entropy appended to the seed for the credential-type draws: they come from their own seed
#: sequence ``SeedSequence([seed, TYPES_STREAM])``, so no other stream moves with types on.
TYPES_STREAM = 7919


@dataclass(frozen=True)
class _TypeDraws:
    """The credential-type draws of one panel (indices into the type and category labels)."""

    category: np.ndarray  # category of each type
    popularity: np.ndarray  # share of each type in the overall draws (sums to 1)
    u_type: np.ndarray
    u_category: np.ndarray
    job: np.ndarray  # job category of each worker
    event_type: np.ndarray  # type of each event (events sorted by worker, then period)


def _draw_types(
    ts: TypeSettings, seed: int, n_workers: int, event_worker: np.ndarray
) -> _TypeDraws:
    """Draw the type truth, the workers' job categories and each event's type.

    ``event_worker`` is sorted (events by worker, then in the order earned). Each worker's
    types are drawn in that order without replacement: with probability ``match_share`` from
    the types of the worker's job category (by popularity), else from all types (by
    popularity); from all types when the job category has no type left.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, TYPES_STREAM])))
    n, c = ts.n_types, ts.n_categories
    # Ranks 1..n in runs of c, each run spread over the categories in a fresh random order.
    rank_category = np.concatenate(
        [rng.permutation(c)[: min(c, n - start)] for start in range(0, n, c)]
    )
    type_of_rank = rng.permutation(n)
    category = np.empty(n, dtype=np.int64)
    category[type_of_rank] = rank_category
    weight = np.empty(n)
    weight[type_of_rank] = np.arange(1, n + 1, dtype=float) ** -ts.popularity_exponent
    popularity = weight / weight.sum()
    u_category = ts.sigma_category * rng.standard_normal(c)
    u_type = ts.sigma_type * rng.standard_normal(n)
    mass = np.cumsum(np.bincount(category, weights=popularity, minlength=c))
    job = np.searchsorted(mass, rng.random(n_workers) * mass[-1], side="right")
    job = np.minimum(job, c - 1).astype(np.int64)

    e = event_worker.size
    u_match, u_pick = rng.random(e), rng.random(e)
    event_type = np.empty(e, dtype=np.int64)
    if e:
        starts = np.flatnonzero(np.r_[True, event_worker[1:] != event_worker[:-1]])
        ends = np.r_[starts[1:], e]
        most = int((ends - starts).max())
        if most > n:
            raise ValueError(
                f"a worker holds {most} credentials but there are only n_types = {n} credential "
                "types (a worker never holds a type twice); raise TypeSettings.n_types"
            )
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            own = category == job[event_worker[lo]]
            free = np.ones(n, dtype=bool)
            for k in range(lo, hi):
                p = np.where(free, popularity, 0.0)
                if u_match[k] < ts.match_share and (p_own := np.where(own, p, 0.0)).any():
                    p = p_own
                cum = np.cumsum(p)
                j = int(np.searchsorted(cum, u_pick[k] * cum[-1], side="right"))
                j = min(j, int(np.flatnonzero(p)[-1]))
                event_type[k] = j
                free[j] = False
    return _TypeDraws(category, popularity, u_type, u_category, job, event_type)


def _block_steps(
    term: CredentialTerm, worker: np.ndarray, period: np.ndarray, shape: np.ndarray
) -> np.ndarray:
    """The curve step ``w_k`` of each event (events sorted by worker, then period, NaN first).

    The events of one worker first held in the same period (those held at entry, NaN, are one
    block) occupy positions ``lo .. hi`` of the worker's count order (1-based) and each gets
    the block's average step ``(S(hi) - S(lo - 1)) / (hi - lo + 1)``; ``shape`` is the curve
    shape of each event's worker.
    """
    e = worker.size
    if e == 0:
        return np.zeros(0)
    idx = np.arange(e)
    new_worker = np.r_[True, worker[1:] != worker[:-1]]
    position = idx - np.maximum.accumulate(np.where(new_worker, idx, 0)) + 1
    key = np.where(np.isnan(period), -np.inf, period)
    new_block = new_worker | np.r_[True, key[1:] != key[:-1]]
    block = np.cumsum(new_block) - 1
    first = np.flatnonzero(new_block)
    last = np.r_[first[1:], e] - 1
    lo, hi = position[first][block], position[last][block]
    step = term.curve_value(hi.astype(float), shape) - term.curve_value(
        (lo - 1).astype(float), shape
    )
    return np.asarray(step / (hi - lo + 1), dtype=float)


def _held_sums(
    event_worker: np.ndarray,
    event_period: np.ndarray,
    values: np.ndarray,
    row_worker: np.ndarray,
    row_period: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the number of events held at its start and the sum of their ``values``.

    Events sorted by worker, then period (NaN first); an event is held in row ``(i, t)`` when
    it is worker ``i``'s with a period ``<= t`` or NaN. Worker codes and periods are integers
    (periods >= 1).
    """
    base = float(max(np.nanmax(event_period, initial=0.0), np.max(row_period, initial=0)) + 2)
    event_key = event_worker * base + np.nan_to_num(event_period, nan=0.0)
    row_lo = row_worker * base
    lo = np.searchsorted(event_key, row_lo, side="left")
    hi = np.searchsorted(event_key, row_lo + row_period, side="right")
    total = np.concatenate([[0.0], np.cumsum(values)])
    return hi - lo, total[hi] - total[lo]


def _cohort_multiplier(first_held: np.ndarray, slope: float, n_periods: int) -> np.ndarray:
    """``1 + slope * (c - mid) / span`` for adoption periods ``c`` (NaN: held at entry, the
    earliest cohort's); ``c`` clipped to ``2 .. n_periods``; 1 where that range is one period."""
    c = np.asarray(first_held, dtype=float)
    lo, hi = 2.0, float(max(n_periods, 2))
    mid, span = (lo + hi) / 2.0, (hi - lo) / 2.0
    if slope == 0.0 or span <= 0.0:
        return np.ones(c.shape)
    c = np.clip(np.where(np.isnan(c), lo, c), lo, hi)
    return 1.0 + slope * (c - mid) / span


def _cohort_key(label: str) -> tuple[int, float]:
    return (0, 0.0) if label == ENTRY_COHORT else (1, float(label))


def _event_deviation(
    u_type: np.ndarray,
    u_category: np.ndarray,
    rho: float,
    type_category: np.ndarray,
    job: np.ndarray,
    event_type: np.ndarray,
    event_worker: np.ndarray,
) -> np.ndarray:
    """``u_category[c(j_k)] + u_type[j_k] + rho 1[c(j_k) == J_i]`` per event."""
    cat = type_category[event_type]
    return np.asarray(
        u_category[cat] + u_type[event_type] + rho * (cat == job[event_worker]), dtype=float
    )


def _typed_term(
    term: CredentialTerm,
    beta: np.ndarray,
    shape: np.ndarray,
    gamma_row: np.ndarray,
    worker_group: np.ndarray,
    event_worker: np.ndarray,
    event_period: np.ndarray,
    deviation: np.ndarray,
    row_worker: np.ndarray,
    row_period: np.ndarray,
    z: np.ndarray,
    m_row: np.ndarray,
) -> np.ndarray:
    """``beta_g S(n) M(z) + M(z) sum_{k held} w_k deviation_k`` per row (events sorted by
    worker, then period, NaN first; ``worker_group`` the group index of each worker)."""
    steps = _block_steps(term, event_worker, event_period, shape[worker_group[event_worker]])
    held, extra = _held_sums(event_worker, event_period, steps * deviation, row_worker, row_period)
    g_row = worker_group[row_worker]
    static = term.value(beta[g_row], shape[g_row], gamma_row, held.astype(float), z)
    return np.asarray(static + m_row * extra, dtype=float)


@dataclass(frozen=True, eq=False)
class TrueParameters:
    """The parameters a simulated panel was generated with.

    With credential types the credential effect on ``log_project_value`` is
    :meth:`typed_credential_term`; the static ``beta_g S(n) M(z)`` is its value for a typical
    type (every ``u`` zero, no match).

    Attributes
    ----------
    curve
        Credential curve kind (``geometric``, ``linear``, ``quadratic`` or ``step``).
    modifier
        Track-record modifier kind (``log_quadratic``, ``log_linear`` or ``none``).
    groups
        Group names; the per-group arrays below follow this order.
    share
        Share of workers per group in the settings (the realised shares may differ by rounding).
    beta
        Effect of the first credential on ``log_project_value`` at the reference track record,
        per group.
    shape
        Curve shape per group (``lambda`` for geometric, ``kappa`` for quadratic, unused by
        ``linear`` and ``step``).
    gamma1, gamma2
        Track-record modifier coefficients of ``z`` and ``z**2`` per group.
    mu_beta
        Population credential effect: the plain (unweighted) mean of the group betas.
    lambda_
        Population geometric decay, ``exp(mean(log lambda_g))``; None for other curves.
    gamma
        Population modifier coefficients ``(mean gamma1, mean gamma2)`` over groups.
    track_record_reference
        Reference track record ``r0`` (median of ``track_record`` over all rows) where M = 1.
    track_record_scale
        Sd of ``log1p(track_record)`` over all rows; ``z = (log1p(r) - log1p(r0)) / scale``.
    sigma
        Scale of the ``log_project_value`` noise.
    noise_df
        Degrees of freedom of Student-t noise, or None for normal noise.
    sigma_alpha
        Sd of the worker effects (0 in effect when ``worker_effects`` is ``none``).
    intercept
        Constant of ``log_project_value``.
    alpha
        Worker effect per worker, indexed by ``worker_id`` (all 0 without worker effects).
    worker_group
        Group of each worker, indexed by ``worker_id``.
    tau
        Period effect on ``log_project_value`` per period (zero-sum, or all 0).
    tau_count
        Period effect on the log expected number of projects (zero-sum, or all 0).
    delta
        Covariate coefficients, indexed by covariate name (``x1``, ...).
    count_level
        Log count level ``a_i`` per worker (``log E[n_projects]`` before period and credential
        terms), indexed by ``worker_id``.
    selection
        Strength of negative selection into credentials (log-odds per sd of ability).
    beta_count
        Effect of the first credential on the log expected number of projects.
    count_model
        ``negative_binomial`` or ``poisson``.
    count_dispersion
        Negative-binomial dispersion ``phi`` (unused for Poisson).
    worker_effects
        ``random`` or ``none``.
    event_window
        The true event-time window (``L = len(event_leads) + 1`` leads, ``K`` lags); ``L = K =
        1`` for a static process.
    event_lags
        The lag multipliers ``h(0) .. h(K - 1)`` of each group's beta (``[1.0]`` when static):
        the lag coefficient of group ``g`` at event time ``e`` is ``beta_g h(e)`` (times the
        cohort multiplier).
    event_leads
        The lead coefficients ``f(-L) .. f(-2)`` in outcome units, the same for every group
        (empty without leads).
    cohort_slope
        Cohort variation of the lags (:meth:`cohort_multiplier`).
    dynamic
        Whether ``log_project_value``'s credential effect is the event-time sum (False: the
        static ``beta_g S(n) M(z)``, which the profile ``h = 1``, no leads, reproduces).
    dip_sd, dip_selection
        The Ashenfelter dip: sd of the shock ``eta_it`` in ``log_project_value`` and the rise in
        the log-odds of earning a credential per sd of ``-eta_it`` (``dip_sd = 0``: no dip).
    worker_cohort
        Adoption cohort of each worker, indexed by ``worker_id`` (string labels, the model's
        convention): ``"entry"`` for workers holding credentials at entry, else the period
        (as a string, e.g. ``"5"``) in which the worker's first credential is first held, which
        may be one past the last period observed (a credential earned in the last period);
        missing (``<NA>``) for workers who never hold a credential.
    u_type
        Credential types only (else None, like the fields below): the deviation of each
        type's effect, indexed by ``credential_type`` (sorted labels ``t001 ..``).
    u_category
        The deviation of each skill category's effect, indexed by ``category`` (``c1 ..``).
    match_effect
        ``rho``: the extra effect of a credential whose category is the worker's job category.
    type_category
        The category of each type, indexed by ``credential_type``.
    type_popularity
        Each type's share of the draws from all types (the Zipf-like weights, summing to 1).
    worker_job_category
        The job category of each worker, indexed by ``worker_id``.
    type_holders, category_holders
        Workers holding each type (each category: any of its types) in at least one of
        their rows, i.e. with an event of that type with a period ``<=`` the worker's last
        observed period or NaN (held at entry); credentials earned in a worker's last period
        (first held after it) are not counted.
    sigma_type, sigma_category, match_share
        The settings the deviations and the types were drawn with.
    row_share
        Share of the panel's rows (all worker-periods) in each group, in :attr:`groups` order:
        the weights of :attr:`row_weighted_beta`.
    """

    curve: str
    modifier: str
    groups: tuple[str, ...]
    share: np.ndarray
    beta: np.ndarray
    shape: np.ndarray
    gamma1: np.ndarray
    gamma2: np.ndarray
    mu_beta: float
    lambda_: float | None
    gamma: tuple[float, float]
    track_record_reference: float
    track_record_scale: float
    sigma: float
    noise_df: float | None
    sigma_alpha: float
    intercept: float
    alpha: pd.Series
    worker_group: pd.Series
    tau: pd.Series
    tau_count: pd.Series
    delta: pd.Series
    count_level: pd.Series
    selection: float
    beta_count: float
    count_model: str
    count_dispersion: float
    worker_effects: str
    event_window: EventWindow = field(default_factory=lambda: EventWindow(leads=1, lags=1))
    event_lags: np.ndarray = field(default_factory=lambda: _frozen([1.0]))
    event_leads: np.ndarray = field(default_factory=lambda: _frozen([]))
    cohort_slope: float = 0.0
    dynamic: bool = False
    dip_sd: float = 0.0
    dip_selection: float = 0.0
    worker_cohort: pd.Series = field(default_factory=lambda: pd.Series(dtype="str", name="cohort"))
    u_type: pd.Series | None = None
    u_category: pd.Series | None = None
    match_effect: float | None = None
    type_category: pd.Series | None = None
    type_popularity: pd.Series | None = None
    worker_job_category: pd.Series | None = None
    type_holders: pd.Series | None = None
    category_holders: pd.Series | None = None
    sigma_type: float | None = None
    sigma_category: float | None = None
    match_share: float | None = None
    row_share: np.ndarray | None = None

    @property
    def scale(self) -> TrackRecordScale:
        """The track-record standardisation used by the simulation."""
        return TrackRecordScale(self.track_record_reference, self.track_record_scale)

    def _group_index(self, group: Any) -> np.ndarray:
        lookup = {name: k for k, name in enumerate(self.groups)}
        labels = np.atleast_1d(np.asarray(group, dtype=object))
        try:
            idx = np.array([lookup[g] for g in labels.ravel()], dtype=np.int64)
        except KeyError as err:
            raise ValueError(f"unknown group {err.args[0]!r}; groups: {self.groups}") from None
        return idx.reshape(labels.shape)

    @property
    def term(self) -> CredentialTerm:
        """The credential term of the simulated process's curve and modifier."""
        return CredentialTerm.of(self.curve, self.modifier)

    def modifier_value(self, group: Any, track_record: Any) -> np.ndarray:
        """``M(z(track_record); gamma_g)`` for each group/track-record pair (broadcast)."""
        k = self._group_index(group)
        z = self.scale.z(track_record)
        out = self.term.modifier_value(z, self.gamma1[k], self.gamma2[k])
        return np.asarray(out, dtype=float)

    def next_effect(self, group: Any, credentials: Any, track_record: Any) -> np.ndarray:
        """True effect of one more credential on ``log_project_value``.

        ``beta_g * (S(n + 1) - S(n)) * M(z)`` for each (group, credentials, track record),
        broadcast against each other. Under event-time dynamics this is the long-run effect
        (the credential long held, at the binned last lag) when ``h(K - 1) = 1`` and no cohort
        variation; in general multiply by ``h(K - 1)`` and the cohort multiplier. With
        credential types it is the effect of a next credential of a typical type (``u_type =
        u_category = 0``, outside the worker's job category); one of type ``j`` adds
        ``(S(n + 1) - S(n)) M(z) (u_category[c(j)] + u_type[j] + rho 1[match])`` to it.
        """
        k = self._group_index(group)
        n = np.asarray(credentials, dtype=float)
        gain = self.term.next_gain(n, self.shape[k])
        return np.asarray(self.beta[k] * gain * self.modifier_value(group, track_record))

    @property
    def n_periods(self) -> int:
        """The last calendar period of the panel (periods are ``1 .. n_periods``)."""
        return int(self.tau.index.max()) if len(self.tau) else 0

    def cohort_multiplier(self, cohort: Any) -> np.ndarray:
        """Multiplier of the lag coefficients of adoption cohort(s) ``cohort``.

        ``1 + cohort_slope * (c - mid) / span`` with ``mid`` and ``span`` the midpoint and
        half-range of periods ``2 .. n_periods`` (``c`` clipped to it); ``"entry"`` (or NaN)
        takes the earliest cohort's multiplier. ``cohort`` is a label or period, or an array
        of them.
        """
        labels = np.atleast_1d(np.asarray(cohort, dtype=object))
        periods = np.array(
            [
                np.nan if (v is None or str(v) == ENTRY_COHORT or v != v) else float(v)
                for v in labels.ravel()
            ],
            dtype=float,
        )
        out = _cohort_multiplier(periods, self.cohort_slope, self.n_periods)
        return out.reshape(labels.shape)

    def profile(self, group: Any, cohort: Any = None) -> np.ndarray:
        """The true event-time profile ``f`` over the event times of :attr:`event_window`.

        Per group (and cohort, broadcast; None: no cohort multiplier): leads
        ``event_leads``, ``f(-1) = 0``, lags ``beta_g h(e)`` times the cohort multiplier, in
        outcome units (the effect of a step ``dS = 1`` of the curve at ``M = 1``). Shape
        ``(*broadcast shape, L + K)``.
        """
        k = self._group_index(group)
        mult = 1.0 if cohort is None else self.cohort_multiplier(cohort)
        scale = np.asarray(self.beta[k] * mult, dtype=float)
        lags = scale[..., None] * np.asarray(self.event_lags, dtype=float)
        return self.event_window.profile(np.asarray(self.event_leads, dtype=float), lags)

    def _first_step(self, shape: Any) -> np.ndarray:
        """``S(1) - S(0)`` of the curve at ``shape`` (1 except for ``quadratic``)."""
        one = self.term.curve_value(np.ones_like(np.asarray(shape, dtype=float)), shape)
        zero = self.term.curve_value(np.zeros_like(np.asarray(shape, dtype=float)), shape)
        return np.asarray(one - zero, dtype=float)

    def _population_shape(self) -> float:
        if self.lambda_ is not None:
            return self.lambda_
        return float(np.mean(self.shape))

    @property
    def cohorts(self) -> tuple[str, ...]:
        """The adoption cohorts present among the workers (``"entry"`` first, then by period)."""
        present = {str(v) for v in self.worker_cohort.dropna().tolist()}
        return tuple(sorted(present, key=_cohort_key))

    def event_effects(self, by: EventScope | None = None) -> pd.DataFrame:
        """True effect of a worker's first credential at each event time.

        ``f(e) (S(1) - S(0))`` at the reference track record (``M = 1``) for the event times
        ``-L .. K - 1`` of :attr:`event_window` (0 at the reference ``-1``; leads are the same
        for every group and cohort). ``e`` counts from the period the credential is first held
        (``e = 0``); every later event time shares the last lag.

        Parameters
        ----------
        by
            None: the population, ``f(e) = mu_beta h(e)`` for the lags and ``event_leads``,
            with the population curve shape (``lambda_``, else the mean shape); ``"group"``:
            per group, ``beta_g h(e)``; ``"cohort"``: the population per adoption cohort
            present (:attr:`cohorts`), the lags times :meth:`cohort_multiplier`.

        Returns
        -------
        pandas.DataFrame
            Columns ``event_time`` (int), ``group`` or ``cohort`` (str) when ``by`` is given,
            and ``value`` (float); event time varies fastest.
        """
        times = self.event_window.event_times
        leads = np.asarray(self.event_leads, dtype=float)
        lags = np.asarray(self.event_lags, dtype=float)
        if by is None:
            f = self.event_window.profile(leads, self.mu_beta * lags)
            value = f * self._first_step(self._population_shape())
            return pd.DataFrame({"event_time": times, "value": value.astype(float)})
        if by == "group":
            f = self.profile(list(self.groups))
            value = f * self._first_step(self.shape)[:, None]
            labels: list[str] = list(self.groups)
        elif by == "cohort":
            labels = list(self.cohorts)
            mult = self.cohort_multiplier(np.array(labels, dtype=object)).reshape(-1)
            f = self.event_window.profile(leads, (self.mu_beta * mult)[:, None] * lags)
            value = f * self._first_step(self._population_shape())
        else:
            raise ValueError(f"by must be None, 'group' or 'cohort', got {by!r}")
        value = np.asarray(value, dtype=float).reshape(len(labels), times.size)
        return pd.DataFrame(
            {
                "event_time": np.tile(times, len(labels)),
                by: pd.Series(np.repeat(np.array(labels, dtype=object), times.size), dtype="str"),
                "value": value.reshape(-1),
            }
        )

    @property
    def has_types(self) -> bool:
        """Whether the panel was simulated with credential types."""
        return self.u_type is not None

    def _types(self) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, float]:
        if (
            self.u_type is None
            or self.u_category is None
            or self.type_category is None
            or self.worker_job_category is None
            or self.match_effect is None
        ):
            raise ValueError("the panel was simulated without credential types (types=None)")
        return (
            self.u_type,
            self.u_category,
            self.type_category,
            self.worker_job_category,
            self.match_effect,
        )

    @property
    def type_labels(self) -> tuple[str, ...]:
        """The credential-type labels (``t001 ..``); empty without types."""
        return () if self.u_type is None else tuple(str(v) for v in self.u_type.index)

    @property
    def category_labels(self) -> tuple[str, ...]:
        """The skill-category labels (``c1 ..``); empty without types."""
        return () if self.u_category is None else tuple(str(v) for v in self.u_category.index)

    @property
    def row_weighted_beta(self) -> float:
        """``sum_g row_share_g beta_g``: the first-credential effect averaged over the rows'
        groups (the settings' shares when :attr:`row_share` is None)."""
        weights = self.share if self.row_share is None else self.row_share
        return float(np.sum(np.asarray(weights) * np.asarray(self.beta)))

    def type_effects(self, by: TypeScope = "type") -> pd.DataFrame:
        """True effect of each credential type (or skill category).

        ``effect`` is :attr:`row_weighted_beta` ``+ u_category[c] + u_type[j]``: the effect
        ``effect_k`` of a credential of type ``j`` outside the worker's job category, per
        unit step of the curve, i.e. the effect of a worker's first credential being of that
        type at the reference track record (``M = 1``; times ``S(1) - S(0) = 1 + kappa / 10``
        for the quadratic curve). In the worker's job category it is ``match_effect`` more.

        Parameters
        ----------
        by
            ``"type"``: one row per type; ``"category"``: one row per skill category, with
            ``effect`` = :attr:`row_weighted_beta` ``+ u_category`` (a typical type of it).

        Returns
        -------
        pandas.DataFrame
            Sorted by label. ``by="type"``: columns ``credential_type``, ``category``,
            ``holders``, ``effect``, ``match_effect``; ``by="category"``: ``category``,
            ``holders`` (workers holding any of its types), ``effect``, ``match_effect``.
            Holders count the workers holding the type in some row (:attr:`type_holders`).

        Raises
        ------
        ValueError
            Without credential types, or for another ``by``.
        """
        u_type, u_category, type_category, _, rho = self._types()
        base = self.row_weighted_beta
        if by == "type":
            labels = u_type.index.astype(str)
            cats = type_category.reindex(labels).astype(str)
            holders = (
                self.type_holders.reindex(labels).fillna(0)
                if self.type_holders is not None
                else pd.Series(0, index=labels)
            )
            effect = base + u_category.reindex(cats).to_numpy() + u_type.to_numpy()
            out = pd.DataFrame(
                {
                    "credential_type": pd.Series(labels, dtype="str"),
                    "category": pd.Series(cats.to_numpy(), dtype="str"),
                    "holders": holders.to_numpy().astype(np.int64),
                    "effect": effect.astype(float),
                    "match_effect": float(rho),
                }
            )
            return out.sort_values("credential_type", ignore_index=True)
        if by == "category":
            labels = u_category.index.astype(str)
            holders = (
                self.category_holders.reindex(labels).fillna(0)
                if self.category_holders is not None
                else pd.Series(0, index=labels)
            )
            out = pd.DataFrame(
                {
                    "category": pd.Series(labels, dtype="str"),
                    "holders": holders.to_numpy().astype(np.int64),
                    "effect": (base + u_category.to_numpy()).astype(float),
                    "match_effect": float(rho),
                }
            )
            return out.sort_values("category", ignore_index=True)
        raise ValueError(f"by must be 'type' or 'category', got {by!r}")

    def typed_credential_term(self, frame: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
        """The true credential term of each row of ``frame`` under credential types.

        For worker ``i`` of group ``g`` and job category ``J_i`` holding, at the start of
        period ``t``, credentials ``k`` (in the order earned) of types ``j_k``::

            effect_k = beta_g + u_category[c(j_k)] + u_type[j_k] + rho 1[c(j_k) == J_i]
            term     = M(z_it; gamma_g) sum_k w_k effect_k

        where ``w_k`` is the curve's step: the credentials first held in the same period (a
        block occupying positions ``lo .. hi`` of the count order, 1-based; those held at
        entry, period NaN, form one block at the start) each get the block's average step
        ``(S(hi) - S(lo - 1)) / (hi - lo + 1)``. Computed as
        ``beta_g S(n_it) M(z_it) + M(z_it) sum_k w_k (effect_k - beta_g)`` (the steps of the
        held blocks sum to ``S(n_it)``), the way the simulator computes the term it adds to
        ``log_project_value`` (events in another order within a period may move the last
        digit).

        Parameters
        ----------
        frame
            Rows with ``worker_id``, ``period`` (integer) and ``track_record`` (e.g.
            :attr:`SimulatedPanel.frame`); the group and job category come from the truth.
        events
            ``worker_id``, ``period`` (first held; NaN: held at entry) and
            ``credential_type`` (e.g. :attr:`SimulatedPanel.events`), in any order.

        Returns
        -------
        numpy.ndarray
            One value per row of ``frame``.
        """
        u_type, u_category, type_category, job_category, rho = self._types()
        workers = pd.Index(self.worker_group.index.astype(str))
        row_worker = workers.get_indexer(frame["worker_id"].astype(str))
        event_worker = workers.get_indexer(events["worker_id"].astype(str))
        if (row_worker < 0).any() or (event_worker < 0).any():
            raise ValueError("frame or events name workers that are not in the truth")
        event_period = events["period"].to_numpy(dtype=float)
        order = np.lexsort((np.where(np.isnan(event_period), -np.inf, event_period), event_worker))
        event_worker, event_period = event_worker[order], event_period[order]
        labels = pd.Index(u_type.index.astype(str))
        event_type = labels.get_indexer(events["credential_type"].astype(str).to_numpy()[order])
        if (event_type < 0).any():
            raise ValueError("events name credential types that are not in the truth")
        categories = pd.Index(u_category.index.astype(str))
        type_cat = categories.get_indexer(type_category.reindex(labels).astype(str))
        job = categories.get_indexer(job_category.reindex(workers).astype(str))
        worker_gidx = self._group_index(self.worker_group.to_numpy(dtype=object))
        deviation = _event_deviation(
            u_type.to_numpy(dtype=float),
            u_category.to_numpy(dtype=float),
            rho,
            type_cat,
            job,
            event_type,
            event_worker,
        )
        row_g = worker_gidx[row_worker]
        z = self.scale.z(frame["track_record"].to_numpy())
        gamma_row = np.stack([self.gamma1[row_g], self.gamma2[row_g]], axis=-1)
        m_row = self.term.modifier_value(z, self.gamma1[row_g], self.gamma2[row_g])
        return _typed_term(
            self.term,
            np.asarray(self.beta),
            np.asarray(self.shape),
            gamma_row[:, : len(self.term.modifier_terms)],
            worker_gidx,
            event_worker,
            event_period,
            deviation,
            row_worker,
            frame["period"].to_numpy(dtype=np.int64),
            z,
            m_row,
        )

    def to_dataset(self) -> xr.Dataset:
        """The true parameters as an :class:`xarray.Dataset`.

        Dims ``group``, ``worker``, ``period``, ``covariate`` and ``gamma_term`` (the modifier's
        terms, :data:`bayescred.maths.curves.MODIFIER_TERMS`). The curve shape is stored under
        its parameter's name (``lambda`` or ``kappa``) when the curve has one; the population
        values as ``mu_beta``, ``mu_loglam`` (geometric only) and ``mu_gamma``. With credential
        types, also dims ``credential_type`` and ``category`` with ``u_type``,
        ``type_category``, ``type_effect``, ``type_holders``, ``type_popularity``,
        ``u_category``, ``category_effect``, ``category_holders`` (:meth:`type_effects`),
        ``worker_job_category`` and the scalars ``match_effect``, ``sigma_type``,
        ``sigma_category`` and ``match_share``.
        """
        terms = self.term.modifier_terms
        gamma_all = np.stack([self.gamma1, self.gamma2], axis=-1)[:, : len(terms)]
        data_vars: dict[str, Any] = {
            "share": ("group", np.asarray(self.share)),
            "beta": ("group", np.asarray(self.beta)),
            "gamma": (("group", "gamma_term"), gamma_all),
            "mu_beta": ((), self.mu_beta),
            "mu_gamma": ("gamma_term", np.asarray(self.gamma[: len(terms)], dtype=float)),
            "alpha": ("worker", self.alpha.to_numpy()),
            "worker_group": ("worker", self.worker_group.to_numpy(dtype=object)),
            "count_level": ("worker", self.count_level.to_numpy()),
            "tau": ("period", self.tau.to_numpy()),
            "tau_count": ("period", self.tau_count.to_numpy()),
            "delta": ("covariate", self.delta.to_numpy(dtype=float)),
            "track_record_reference": ((), self.track_record_reference),
            "track_record_scale": ((), self.track_record_scale),
            "sigma": ((), self.sigma),
            "noise_df": ((), np.nan if self.noise_df is None else self.noise_df),
            "sigma_alpha": ((), self.sigma_alpha),
            "intercept": ((), self.intercept),
            "selection": ((), self.selection),
            "beta_count": ((), self.beta_count),
            "count_dispersion": ((), self.count_dispersion),
        }
        shape_name = self.term.shape_name
        if shape_name is not None:
            data_vars[shape_name] = ("group", np.asarray(self.shape))
        if self.lambda_ is not None:
            data_vars["mu_loglam"] = ((), float(np.log(self.lambda_)))
        coords: dict[str, Any] = {
            "group": list(self.groups),
            "worker": self.alpha.index.to_numpy(dtype=object),
            "period": self.tau.index.to_numpy(),
            "covariate": list(self.delta.index),
            "gamma_term": list(terms),
        }
        attrs: dict[str, Any] = {
            "curve": self.curve,
            "modifier": self.modifier,
            "count_model": self.count_model,
            "worker_effects": self.worker_effects,
            "description": "true parameters of a bayescred simulated panel",
        }
        if self.dynamic:
            coords["event_time"] = self.event_window.event_times
            data_vars["event_profile"] = (
                ("group", "event_time"),
                self.profile(list(self.groups)),
            )
            data_vars["mu_event_profile"] = (
                "event_time",
                self.event_window.profile(
                    np.asarray(self.event_leads, dtype=float),
                    self.mu_beta * np.asarray(self.event_lags, dtype=float),
                ),
            )
            data_vars["cohort_slope"] = ((), self.cohort_slope)
            cohort = self.worker_cohort.reindex(self.alpha.index)
            data_vars["worker_cohort"] = (
                "worker",
                np.array([None if pd.isna(v) else str(v) for v in cohort], dtype=object),
            )
            attrs["event_leads"] = self.event_window.n_leads
            attrs["event_lags"] = self.event_window.n_lags
        if self.dip_sd > 0:
            data_vars["dip_sd"] = ((), self.dip_sd)
            data_vars["dip_selection"] = ((), self.dip_selection)
        if self.has_types:
            u_type, u_category, _, job_category, rho = self._types()
            types = self.type_effects("type")
            categories = self.type_effects("category")
            coords["credential_type"] = types["credential_type"].to_numpy(dtype=object)
            coords["category"] = categories["category"].to_numpy(dtype=object)
            data_vars["u_type"] = (
                "credential_type",
                u_type.reindex(types["credential_type"]).to_numpy(dtype=float),
            )
            data_vars["u_category"] = (
                "category",
                u_category.reindex(categories["category"]).to_numpy(dtype=float),
            )
            data_vars["type_category"] = (
                "credential_type",
                types["category"].to_numpy(dtype=object),
            )
            data_vars["type_effect"] = ("credential_type", types["effect"].to_numpy(dtype=float))
            data_vars["type_holders"] = ("credential_type", types["holders"].to_numpy())
            data_vars["category_effect"] = ("category", categories["effect"].to_numpy(dtype=float))
            data_vars["category_holders"] = ("category", categories["holders"].to_numpy())
            if self.type_popularity is not None:
                data_vars["type_popularity"] = (
                    "credential_type",
                    self.type_popularity.reindex(types["credential_type"]).to_numpy(dtype=float),
                )
            data_vars["match_effect"] = ((), float(rho))
            for name in ("sigma_type", "sigma_category", "match_share"):
                value = getattr(self, name)
                if value is not None:
                    data_vars[name] = ((), float(value))
            data_vars["worker_job_category"] = (
                "worker",
                job_category.reindex(self.alpha.index).to_numpy(dtype=object),
            )
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)


@dataclass(frozen=True, eq=False)
class SimulatedPanel:
    """A simulated panel with the truth behind it.

    Attributes
    ----------
    frame
        Long-format panel, one row per worker-period, sorted by worker then period. Columns:
        ``worker_id`` (str), ``period`` (int, 1-based), ``group`` (str), ``credentials`` (int,
        held at the start of the period), ``track_record`` (int, projects completed before the
        period), ``any_project`` (0/1), ``n_projects`` (int), ``log_project_value`` (float, NaN
        where ``n_projects == 0``), ``earnings`` (float, ``n_projects * exp(log_project_value)``,
        0 without projects), ``log_earnings`` (float, ``log(earnings)``, NaN where
        ``n_projects == 0``: the rows of ``log_project_value``) and covariates ``x1..xk``;
        with credential types, last, ``job_category`` (str, the worker's job category,
        constant within a worker).
    truth
        The true parameters.
    next_effect
        True effect of one more credential on ``log_project_value`` for each row (aligned with
        ``frame``): ``beta_g * (S(n + 1) - S(n)) * M(z)``, the static formula. Under event-time
        dynamics it is the long-run effect (a credential long held, at the binned last lag)
        when ``h(K - 1) = 1`` without cohort variation (see :meth:`TrueParameters.next_effect`).
        With credential types it is the effect of a next credential of a typical type
        (``u_type = u_category = 0``, outside the worker's job category).
    settings
        The settings used.
    seed
        The seed used.
    events
        The credential events, one row per credential: ``worker_id`` (str) and ``period``
        (float: the period the credential is first held, i.e. one after the period it was
        earned in; NaN for credentials held at entry, date unknown), sorted by worker then
        period (NaN first). The count held at the start of period ``t`` (the ``credentials``
        column) is the number of the worker's events with ``period <= t`` plus its NaN events.
        Credentials earned in a worker's last observed period are kept, with a period after it
        (possibly ``n_periods + 1``). Always present, with or without dynamics. With credential
        types a third column ``credential_type`` (str; a worker's types are distinct).
    credential_types
        With credential types, one row per type (all of them, sorted by type): columns
        ``credential_type`` and ``category`` (str); None without types.
    """

    frame: pd.DataFrame
    truth: TrueParameters
    next_effect: pd.Series
    settings: SimulationSettings
    seed: int
    events: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"worker_id": pd.Series(dtype="str"), "period": pd.Series(dtype=float)}
        )
    )
    credential_types: pd.DataFrame | None = None


def simulate(
    settings: SimulationSettings | str = "paper", seed: int = 0, **kwargs: Any
) -> SimulatedPanel:
    """Simulate a panel.

    Parameters
    ----------
    settings
        The settings, or the name of a preset (``"paper"``).
    seed
        Seed of the numpy ``PCG64`` generator; the result is a deterministic function of the
        settings and the seed.
    **kwargs
        For a preset name: arguments of the preset function (``n_workers``, ``n_periods``,
        ``curve``, any settings field). For settings: fields to replace.

    Returns
    -------
    SimulatedPanel

    Raises
    ------
    ValueError
        For an unknown preset name (the message lists the presets) or invalid settings.
    """
    if isinstance(settings, str):
        settings = preset(settings, **kwargs)
    elif kwargs:
        settings = dataclasses.replace(settings, **kwargs)
    if not isinstance(settings, SimulationSettings):
        raise TypeError("settings must be a SimulationSettings or a preset name")
    return _simulate(settings, int(seed))


def _exclusive_cumsum(values: np.ndarray) -> np.ndarray:
    """Sum over earlier periods (axis 1), excluding the current one."""
    out = np.zeros_like(values)
    np.cumsum(values[:, :-1], axis=1, out=out[:, 1:])
    return out


def _group_sizes(shares: np.ndarray, n: int) -> np.ndarray:
    """Workers per group: largest-remainder rounding of ``shares * n``."""
    raw = shares * n
    sizes = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[: n - sizes.sum()]] += 1
    return sizes


def _credential_events(
    entry_credentials: np.ndarray, gains: np.ndarray, periods: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One event per credential: worker index and the period it is first held (float; NaN for
    the credentials held at entry), sorted by worker then period (NaN first)."""
    n_workers = entry_credentials.shape[0]
    entry_worker = np.repeat(np.arange(n_workers, dtype=np.int64), entry_credentials)
    gw, gt = np.nonzero(gains)
    reps = gains[gw, gt]
    gain_worker = np.repeat(gw.astype(np.int64), reps)
    gain_period = np.repeat(periods[gt] + 1, reps).astype(float)
    worker = np.concatenate([entry_worker, gain_worker])
    period = np.concatenate([np.full(entry_worker.shape, np.nan), gain_period])
    order = np.lexsort((np.where(np.isnan(period), -np.inf, period), worker))
    return worker[order], period[order]


def _adoption_cohorts(
    entry_credentials: np.ndarray, gains: np.ndarray, periods: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each worker's adoption period (first credential first held; NaN for entry holders and
    never-treated) and cohort label (``"entry"``, the period as a string, or None)."""
    any_gain = gains.sum(axis=1) > 0
    first_gain = np.argmax(gains > 0, axis=1)
    first_held = np.where(any_gain, periods[first_gain] + 1, 0).astype(float)
    entry = entry_credentials > 0
    first_held = np.where(entry | ~any_gain, np.nan, first_held)
    labels = np.array(
        [
            ENTRY_COHORT if e else (str(int(c)) if g else None)
            for e, g, c in zip(entry, any_gain, np.nan_to_num(first_held), strict=True)
        ],
        dtype=object,
    )
    return first_held, labels


def _panel_windows(s: SimulationSettings, rng: np.random.Generator) -> np.ndarray:
    """Observed mask ``(workers, periods)``: one contiguous window per worker."""
    w, t = s.n_workers, s.n_periods
    kind, start, late, leave, end, single_at = rng.random((6, w))
    periods = np.arange(1, t + 1)
    if t == 1:
        first = last = np.ones(w, dtype=np.int64)
    else:
        single = kind < s.single_period_share
        late_entry = 2 + np.floor(late * max(t - 2, 0)).astype(np.int64)
        first = np.where((start < s.first_period_share) | (t < 3), 1, late_entry)
        lo, hi = first + 1, t - 1
        exit_at = lo + np.floor(end * np.maximum(hi - lo + 1, 0)).astype(np.int64)
        last = np.where((leave < s.exit_share) & (lo <= hi), exit_at, t)
        single_period = 1 + np.floor(single_at * t).astype(np.int64)
        first = np.where(single, single_period, first)
        last = np.where(single, single_period, last)
    return (periods[None, :] >= first[:, None]) & (periods[None, :] <= last[:, None])


def _simulate(s: SimulationSettings, seed: int) -> SimulatedPanel:
    # Children 0..7 are the original streams (unchanged); 8.. serve the event-time features and
    # are drawn from only when those are switched on.
    streams = np.random.SeedSequence(seed).spawn(10)
    rng_worker, rng_panel, rng_entry, rng_cred, rng_count, rng_period, rng_cov, rng_noise = (
        np.random.Generator(np.random.PCG64(child)) for child in streams[:8]
    )
    rng_dip = np.random.Generator(np.random.PCG64(streams[8]))
    w, t = s.n_workers, s.n_periods
    names = s.group_names
    width = max(5, len(str(w)))
    worker_ids = np.array([f"w{i:0{width}d}" for i in range(1, w + 1)], dtype=object)
    periods = np.arange(1, t + 1, dtype=np.int64)

    # Workers: ability, groups, own test-taking propensity, count level.
    u = rng_worker.standard_normal(w)
    sizes = _group_sizes(np.array([g.share for g in s.groups]), w)
    gidx = rng_worker.permutation(np.repeat(np.arange(len(names)), sizes))
    h = rng_worker.standard_normal(w)
    e = rng_worker.standard_normal(w)
    alpha = s.sigma_alpha * u if s.worker_effects == "random" else np.zeros(w)
    rho = s.count_ability_corr
    count_level = np.log(s.count_mean) + s.count_worker_sd * (rho * u + np.sqrt(1.0 - rho**2) * e)
    beta = np.array([g.beta for g in s.groups])
    shape = np.array([g.shape for g in s.groups])
    gamma1 = np.array([g.gamma1 for g in s.groups])
    gamma2 = np.array([g.gamma2 for g in s.groups])

    observed = _panel_windows(s, rng_panel)

    # Entry: credentials held (negatively selected) and track record.
    with np.errstate(divide="ignore"):
        any_at_entry = rng_entry.random(w) < expit(
            logit(s.entry_credential_share) - s.selection * u
        )
    entry_credentials = np.where(
        any_at_entry, 1 + rng_entry.poisson(s.entry_credential_mean - 1.0, w), 0
    )
    newcomer = rng_entry.random(w) < s.newcomer_share
    lognormal = rng_entry.lognormal(s.entry_record_logmean, s.entry_record_logsd, w)
    entry_record = np.where(newcomer, 0, np.maximum(1, np.rint(lognormal))).astype(np.int64)

    # Ashenfelter dip: a transient shock that lowers the outcome and raises the odds of a
    # credential in the same period (drawn only when switched on).
    dip = rng_dip.normal(0.0, s.dip_sd, (w, t)) if s.dip_sd > 0 else None

    # Credential accrual: gains in period t count from t + 1.
    log_odds = logit(s.credential_rate) - s.selection * u + s.propensity_sd * h
    if dip is None:
        p_gain = expit(log_odds)[:, None]
    else:
        p_gain = expit(log_odds[:, None] + s.dip_selection * (-dip / s.dip_sd))
    draw = rng_cred.random((w, t))
    gains = (draw < p_gain).astype(np.int64) + (draw < p_gain * s.double_credential_share)
    gains = np.where(observed, gains, 0)
    if s.max_credentials_gained is not None:
        capped = np.minimum(np.cumsum(gains, axis=1), s.max_credentials_gained)
        gains = np.diff(capped, axis=1, prepend=0)
    credentials = entry_credentials[:, None] + _exclusive_cumsum(gains)
    event_worker, event_period = _credential_events(entry_credentials, gains, periods)
    first_held, cohort_label = _adoption_cohorts(entry_credentials, gains, periods)

    # Period effects (drawn even when switched off, so the other streams do not move).
    tau = rng_period.standard_normal(t) * s.sigma_tau
    tau_count = rng_period.standard_normal(t) * s.sigma_tau
    if s.period_effects:
        tau, tau_count = tau - tau.mean(), tau_count - tau_count.mean()
    else:
        tau, tau_count = np.zeros(t), np.zeros(t)

    # Project counts and the track record they build.
    term = CredentialTerm.of(s.curve, s.modifier)
    shape_w = shape[gidx][:, None]
    s_curve = term.curve_value(credentials.astype(float), shape_w)
    mu = np.exp(count_level[:, None] + tau_count[None, :] + s.beta_count * s_curve)
    if s.count_model == "negative_binomial":
        phi = s.count_dispersion
        counts = rng_count.negative_binomial(phi, phi / (phi + mu))
    else:
        counts = rng_count.poisson(mu)
    counts = np.where(observed, counts, 0).astype(np.int64)
    track = entry_record[:, None] + _exclusive_cumsum(counts)

    # Flatten to the observed rows (worker-major, so rows are sorted by worker then period).
    wi, ti = np.nonzero(observed)
    g_row = gidx[wi]
    n_row = credentials[wi, ti]
    r_row = track[wi, ti]
    y_count = counts[wi, ti]
    rows = wi.size

    scale = TrackRecordScale.from_data(r_row)
    z = scale.z(r_row)
    gamma_row = np.stack([gamma1[g_row], gamma2[g_row]], axis=-1)[:, : len(term.modifier_terms)]
    m_row = term.modifier_value(z, gamma1[g_row], gamma2[g_row])
    if s.has_dynamics:
        window = s.event_window
        event_time = np.where(np.isnan(event_period), UNKNOWN_TIME, event_period)
        counts_at = row_counts(
            window, event_worker, event_time.astype(np.int64), wi, periods[ti]
        ).astype(float)
        s_at = term.curve_value(counts_at, shape[g_row][:, None])
        mult = _cohort_multiplier(first_held, s.cohort_slope, t)
        lags = (beta[g_row] * mult[wi])[:, None] * np.array(s.lag_multipliers)[None, :]
        profile = window.profile(np.array(s.event_leads, dtype=float), lags)
        effect = profile_sum(window, profile, s_at) * m_row
    else:
        effect = term.value(beta[g_row], shape[g_row], gamma_row, n_row.astype(float), z)
    typed = None
    if s.types is not None:
        # Credential types: the static term plus each held credential's deviation times its
        # step (the steps of the held blocks sum to S(n), so zero deviations change nothing).
        typed = _draw_types(s.types, seed, w, event_worker)
        deviation = _event_deviation(
            typed.u_type,
            typed.u_category,
            s.types.match_effect,
            typed.category,
            typed.job,
            typed.event_type,
            event_worker,
        )
        steps = _block_steps(term, event_worker, event_period, shape[gidx[event_worker]])
        _, extra = _held_sums(event_worker, event_period, steps * deviation, wi, periods[ti])
        effect = effect + m_row * extra
    next_effect = beta[g_row] * term.next_gain(n_row.astype(float), shape[g_row]) * m_row

    x = rng_cov.standard_normal((rows, s.n_covariates))
    if s.noise_df is None:
        noise = s.sigma * rng_noise.standard_normal(rows)
    else:
        noise = s.sigma * rng_noise.standard_t(s.noise_df, rows)
    lpv = s.intercept + alpha[wi] + tau[ti] + x @ np.array(s.delta) + effect + noise
    if dip is not None:
        lpv = lpv + dip[wi, ti]
    has_project = y_count > 0
    lpv = np.where(has_project, lpv, np.nan)
    earnings = np.where(has_project, y_count * np.exp(np.where(has_project, lpv, 0.0)), 0.0)
    log_earnings = np.where(has_project, np.log(np.maximum(y_count, 1)) + lpv, np.nan)

    frame = pd.DataFrame(
        {
            "worker_id": pd.Series(worker_ids[wi], dtype="str"),
            "period": periods[ti],
            "group": pd.Series(np.array(names, dtype=object)[g_row], dtype="str"),
            "credentials": n_row.astype(np.int64),
            "track_record": r_row.astype(np.int64),
            "any_project": has_project.astype(np.int64),
            "n_projects": y_count,
            "log_project_value": lpv,
            "earnings": earnings,
            "log_earnings": log_earnings,
        }
    )
    covariate_names = [f"x{j + 1}" for j in range(s.n_covariates)]
    for j, name in enumerate(covariate_names):
        frame[name] = x[:, j]
    type_fields: dict[str, Any] = {}
    credential_types = None
    if typed is not None and s.types is not None:
        type_labels = np.array(s.types.type_labels, dtype=object)
        category_labels = np.array(s.types.category_labels, dtype=object)
        frame["job_category"] = pd.Series(category_labels[typed.job[wi]], dtype="str")
        type_index = pd.Index(type_labels, name="credential_type", dtype="str")
        category_index = pd.Index(category_labels, name="category", dtype="str")
        # Holders: workers with the type in some row (held at entry or first held by the
        # worker's last observed period).
        last_period = periods[observed.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)]
        held = np.isnan(event_period) | (event_period <= last_period[event_worker])
        pairs = np.unique(np.stack([event_worker[held], typed.event_type[held]]), axis=1)
        type_holders = np.bincount(pairs[1], minlength=s.types.n_types)
        cat_pairs = np.unique(np.stack([pairs[0], typed.category[pairs[1]]]), axis=1)
        category_holders = np.bincount(cat_pairs[1], minlength=s.types.n_categories)
        type_fields = {
            "u_type": pd.Series(typed.u_type, index=type_index, name="u_type"),
            "u_category": pd.Series(typed.u_category, index=category_index, name="u_category"),
            "match_effect": s.types.match_effect,
            "type_category": pd.Series(
                category_labels[typed.category], index=type_index, name="category", dtype="str"
            ),
            "type_popularity": pd.Series(typed.popularity, index=type_index, name="popularity"),
            "worker_job_category": pd.Series(
                category_labels[typed.job],
                index=pd.Index(worker_ids, name="worker_id", dtype="str"),
                name="job_category",
                dtype="str",
            ),
            "type_holders": pd.Series(type_holders, index=type_index, name="holders"),
            "category_holders": pd.Series(category_holders, index=category_index, name="holders"),
            "sigma_type": s.types.sigma_type,
            "sigma_category": s.types.sigma_category,
            "match_share": s.types.match_share,
            "row_share": _frozen(np.bincount(g_row, minlength=len(names)) / max(rows, 1)),
        }
        credential_types = pd.DataFrame(
            {
                "credential_type": pd.Series(type_labels, dtype="str"),
                "category": pd.Series(category_labels[typed.category], dtype="str"),
            }
        )

    worker_index = pd.Index(worker_ids, name="worker_id", dtype="str")
    period_index = pd.Index(periods, name="period")
    truth = TrueParameters(
        curve=s.curve,
        modifier=s.modifier,
        groups=names,
        share=_frozen([g.share for g in s.groups]),
        beta=_frozen(beta),
        shape=_frozen(shape),
        gamma1=_frozen(gamma1),
        gamma2=_frozen(gamma2),
        mu_beta=float(beta.mean()),
        lambda_=float(np.exp(np.log(shape).mean())) if s.curve == "geometric" else None,
        gamma=(float(gamma1.mean()), float(gamma2.mean())),
        track_record_reference=scale.reference,
        track_record_scale=scale.scale,
        sigma=s.sigma,
        noise_df=s.noise_df,
        sigma_alpha=s.sigma_alpha,
        intercept=s.intercept,
        alpha=pd.Series(alpha, index=worker_index, name="alpha"),
        worker_group=pd.Series(
            np.array(names, dtype=object)[gidx], index=worker_index, name="group", dtype="str"
        ),
        tau=pd.Series(tau, index=period_index, name="tau"),
        tau_count=pd.Series(tau_count, index=period_index, name="tau_count"),
        delta=pd.Series(
            np.array(s.delta, dtype=float),
            index=pd.Index(covariate_names, name="covariate", dtype="str"),
            name="delta",
        ),
        count_level=pd.Series(count_level, index=worker_index, name="count_level"),
        selection=s.selection,
        beta_count=s.beta_count,
        count_model=s.count_model,
        count_dispersion=s.count_dispersion,
        worker_effects=s.worker_effects,
        event_window=s.event_window,
        event_lags=_frozen(s.lag_multipliers),
        event_leads=_frozen(s.event_leads),
        cohort_slope=s.cohort_slope,
        dynamic=s.has_dynamics,
        dip_sd=s.dip_sd,
        dip_selection=s.dip_selection if s.dip_sd > 0 else 0.0,
        worker_cohort=pd.Series(cohort_label, index=worker_index, name="cohort", dtype="str"),
        **type_fields,
    )
    events = pd.DataFrame(
        {
            "worker_id": pd.Series(worker_ids[event_worker], dtype="str"),
            "period": event_period,
        }
    )
    if typed is not None and s.types is not None:
        events["credential_type"] = pd.Series(
            np.array(s.types.type_labels, dtype=object)[typed.event_type], dtype="str"
        )
    return SimulatedPanel(
        frame=frame,
        truth=truth,
        next_effect=pd.Series(next_effect, index=frame.index, name="next_effect"),
        settings=s,
        seed=seed,
        events=events,
        credential_types=credential_types,
    )
