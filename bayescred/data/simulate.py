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

Examples
--------
>>> from bayescred.data.simulate import simulate, paper_preset
>>> sim = simulate(paper_preset(n_workers=50, n_periods=6), seed=1)
>>> sorted(sim.frame.columns)[:3]
['any_project', 'credentials', 'earnings']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

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
        broadcast against each other.
        """
        k = self._group_index(group)
        n = np.asarray(credentials, dtype=float)
        gain = self.term.next_gain(n, self.shape[k])
        return np.asarray(self.beta[k] * gain * self.modifier_value(group, track_record))

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
        coords = {
            "group": list(self.groups),
            "worker": self.alpha.index.to_numpy(dtype=object),
            "period": self.tau.index.to_numpy(),
            "covariate": list(self.delta.index),
            "gamma_term": list(terms),
        }
        attrs = {
            "curve": self.curve,
            "modifier": self.modifier,
            "count_model": self.count_model,
            "worker_effects": self.worker_effects,
            "description": "true parameters of a bayescred simulated panel",
        }
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
        ``frame``): ``beta_g * (S(n + 1) - S(n)) * M(z)``.
    settings
        The settings used.
    seed
        The seed used.
    """

    frame: pd.DataFrame
    truth: TrueParameters
    next_effect: pd.Series
    settings: SimulationSettings
    seed: int


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
    streams = np.random.SeedSequence(seed).spawn(8)
    rng_worker, rng_panel, rng_entry, rng_cred, rng_count, rng_period, rng_cov, rng_noise = (
        np.random.Generator(np.random.PCG64(child)) for child in streams
    )
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

    # Credential accrual: gains in period t count from t + 1.
    p_gain = expit(logit(s.credential_rate) - s.selection * u + s.propensity_sd * h)[:, None]
    draw = rng_cred.random((w, t))
    gains = (draw < p_gain).astype(np.int64) + (draw < p_gain * s.double_credential_share)
    gains = np.where(observed, gains, 0)
    credentials = entry_credentials[:, None] + _exclusive_cumsum(gains)

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
    effect = term.value(beta[g_row], shape[g_row], gamma_row, n_row.astype(float), z)
    m_row = term.modifier_value(z, gamma1[g_row], gamma2[g_row])
    next_effect = beta[g_row] * term.next_gain(n_row.astype(float), shape[g_row]) * m_row

    x = rng_cov.standard_normal((rows, s.n_covariates))
    if s.noise_df is None:
        noise = s.sigma * rng_noise.standard_normal(rows)
    else:
        noise = s.sigma * rng_noise.standard_t(s.noise_df, rows)
    lpv = s.intercept + alpha[wi] + tau[ti] + x @ np.array(s.delta) + effect + noise
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
    )
    return SimulatedPanel(
        frame=frame,
        truth=truth,
        next_effect=pd.Series(next_effect, index=frame.index, name="next_effect"),
        settings=s,
        seed=seed,
    )
