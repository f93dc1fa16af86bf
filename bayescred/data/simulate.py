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
    paper_preset,
    preset,
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
    "paper_preset",
    "simulate",
]


def _frozen(values: Any) -> np.ndarray:
    arr = np.array(values, dtype=float)
    arr.flags.writeable = False
    return arr


#: Cohort label of the workers who hold credentials at entry (date unknown, before the panel);
#: the same label as the model's adoption cohorts (:func:`bayescred.model.design.adoption_cohorts`).
ENTRY_COHORT = "entry"

EventScope = Literal["group", "cohort"]


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


@dataclass(frozen=True, eq=False)
class TrueParameters:
    """The parameters a simulated panel was generated with.

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
        variation; in general multiply by ``h(K - 1)`` and the cohort multiplier.
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

    def to_dataset(self) -> xr.Dataset:
        """The true parameters as an :class:`xarray.Dataset`.

        Dims ``group``, ``worker``, ``period``, ``covariate`` and ``gamma_term`` (the modifier's
        terms, :data:`bayescred.maths.curves.MODIFIER_TERMS`). The curve shape is stored under
        its parameter's name (``lambda`` or ``kappa``) when the curve has one; the population
        values as ``mu_beta``, ``mu_loglam`` (geometric only) and ``mu_gamma``.
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
        ``n_projects == 0``: the rows of ``log_project_value``) and covariates ``x1..xk``.
    truth
        The true parameters.
    next_effect
        True effect of one more credential on ``log_project_value`` for each row (aligned with
        ``frame``): ``beta_g * (S(n + 1) - S(n)) * M(z)``, the static formula. Under event-time
        dynamics it is the long-run effect (a credential long held, at the binned last lag)
        when ``h(K - 1) = 1`` without cohort variation (see :meth:`TrueParameters.next_effect`).
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
        (possibly ``n_periods + 1``). Always present, with or without dynamics.
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
    )
    events = pd.DataFrame(
        {
            "worker_id": pd.Series(worker_ids[event_worker], dtype="str"),
            "period": event_period,
        }
    )
    return SimulatedPanel(
        frame=frame,
        truth=truth,
        next_effect=pd.Series(next_effect, index=frame.index, name="next_effect"),
        settings=s,
        seed=seed,
        events=events,
    )
