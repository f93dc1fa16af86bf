"""The credential term with event-time dynamics (``[dynamics]``, ``docs/design.md`` section 3.8).

A worker's ``k``-th credential, first held at period ``t_k``, adds at period ``t``::

    dS(k) * M(z_it; gamma[g]) * f[g, c](bin(t - t_k))

with ``dS(k) = S(k) - S(k-1)`` the credential curve's step (the count still decays as in the
static term), ``M`` the track-record modifier and ``f`` the event-time profile of the worker's
group ``g`` (and adoption cohort ``c``) in the outcome's units (:mod:`bayescred.maths.event_time`):

- ``f(-1) = 0``: the period before the credential is first held is the reference;
- leads ``f(e) = lead[g, e] (+ cohort_lead[c, e])`` for ``e = -L .. -2``, centred at 0, in the
  outcome's units (anticipation, or the dip before a credential);
- lags ``f(e) = beta[g] + d[g, e] (+ cohort_lag[c, e])`` for ``e = 0 .. K-1``, ``d`` a random
  walk over event time (from ``K - 1`` steps ``lag_step``, in the outcome's units) centred to
  mean 0 over the lags, so that ``beta`` keeps its meaning as the first credential's effect
  (averaged over the lag window) and ``K = 1`` is the static model. This is the multiplicative
  profile ``f = beta h`` with ``mean(h) = 1`` written additively: the profile is linear in the
  parameters, so a flat prior gives the least-squares event study and there is no funnel where
  ``beta`` is near 0 (``docs/design.md`` 3.8);
- the endpoints are binned: ``e <= -L`` shares ``f(-L)``, ``e >= K-1`` shares ``f(K-1)``.

The steps and the leads are partially pooled over groups (``[dynamics.pooling] profile``), and
with ``cohort_width`` the lags and leads of each adoption cohort (the period of the worker's
first credential, binned) deviate from them with their own partially pooled offsets. The
model's stored profiles (``event_profile``, ``event_profile_group``, ``event_profile_cohort``)
are ``f`` over the window's event times.

By summation by parts (:func:`~bayescred.maths.event_time.profile_sum`) a row's value depends
on the counts held at ``L + K - 1`` offsets and the worker's total only, so rows with the same
group, cohort and counts share one value: the term's kernel form is a table over these
*signatures* (far fewer than rows) times the modifier table, the same product of two tables as
the static term's, and the exact within likelihood costs about what the static one does.

Examples
--------
>>> term = EventTimeCredentialTerm(EffectSpec(), DynamicsSpec(leads=3, lags=4))
>>> term.window.event_times.tolist()
[-3, -2, -1, 0, 1, 2, 3]
>>> term.variables()
('beta_group', 'lambda_group', 'gamma_group', 'event_profile_group')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from bayescred.maths.curves import credential_curve
from bayescred.maths.event_time import EventWindow
from bayescred.terms.base import (
    BuildContext,
    BuiltTerm,
    KernelIndex,
    NamesContext,
    PriorData,
    Rows,
    StrictSection,
    capacity,
    index_array,
    stack_draws,
)
from bayescred.terms.credential import CredentialTerm, EffectDraws, EffectSpec


class DynamicsPoolingSpec(StrictSection):
    """How the event-time profile varies by group."""

    profile: Literal["partial", "complete"] = Field(
        default="partial",
        description=(
            "the lag steps and leads by group: 'partial' (around the population's) or "
            "'complete' (one profile for every group)"
        ),
    )


class DynamicsSpec(StrictSection):
    """Event-time effects: leads and lags of each credential (``docs/design.md`` section 3.8)."""

    leads: int = Field(
        default=0,
        ge=0,
        le=24,
        description="L: leads f(-L)..f(-2) are estimated, f(-1) = 0 (0 or 1: no leads)",
    )
    lags: int = Field(
        default=1,
        ge=1,
        le=52,
        description="K: lags f(0)..f(K-1) are estimated; e >= K-1 shares f(K-1) (1: static)",
    )
    cohort_width: int = Field(
        default=0,
        ge=0,
        description=(
            "adoption cohorts of this many periods (by the period of the worker's first "
            "credential) with their own partially pooled profiles; 0: none"
        ),
    )
    pooling: DynamicsPoolingSpec = Field(
        default=DynamicsPoolingSpec(), description="how the profile varies by group"
    )

    @property
    def window(self) -> EventWindow:
        """The event-time window."""
        return EventWindow(leads=self.leads, lags=self.lags)


#: Label of the adoption cohort of credentials held before the panel (date unknown).
ENTRY_COHORT = "entry"


@dataclass(frozen=True)
class Signatures:
    """Rows keyed by what the term's value depends on: group, cohort and the counts
    (:func:`~bayescred.maths.event_time.row_counts`' columns).

    ``index[r]`` is row ``r``'s signature; ``group``, ``cohort``, ``counts`` describe each
    signature, padded (zero counts: value 0) to a power-of-two :attr:`size`.
    """

    index: np.ndarray
    group: np.ndarray
    cohort: np.ndarray
    counts: np.ndarray

    @property
    def size(self) -> int:
        return int(self.group.shape[0])

    @classmethod
    def of(cls, rows: Rows) -> Signatures:
        """The signatures of ``rows`` (which must carry event counts)."""
        counts = rows.event_counts
        if counts is None:
            raise ValueError("the rows carry no event counts (the design has no [dynamics])")
        cohort = np.zeros(rows.n_rows, np.int64) if rows.cohort is None else rows.cohort
        keys = np.column_stack([np.asarray(rows.group, np.int64), cohort, counts])
        if keys.shape[0]:
            unique, index = np.unique(keys, axis=0, return_inverse=True)
        else:
            unique, index = keys[:0], np.zeros(0, np.int64)
        size = capacity(unique.shape[0], minimum=8)
        pad = size - unique.shape[0]
        unique = np.concatenate([unique, np.zeros((pad, keys.shape[1]), np.int64)])
        return cls(
            index=np.asarray(index, np.int64).ravel(),
            group=unique[:, 0],
            cohort=unique[:, 1],
            counts=unique[:, 2:],
        )


class EventTimeCredentialTerm(CredentialTerm):
    """The credential term with an event-time profile (module docstring)."""

    key: ClassVar[str] = "credential_dynamic"
    parameters: ClassVar[Mapping[str, str]] = {
        "lag_step": "steps of the event-time profile's random walk over the lags (population)",
        "sigma_lag_step": "between-group sd of the lag steps (partial pooling)",
        "lead": "lead coefficients f(-L)..f(-2) in the outcome's units (population)",
        "sigma_lead": "between-group sd of the leads (partial pooling)",
        "sigma_cohort_lag": "between-cohort sd of the lag profile (adoption cohorts)",
        "sigma_cohort_lead": "between-cohort sd of the leads (adoption cohorts)",
    }
    summaries: ClassVar[Mapping[str, str]] = {
        "event_profile": "effect of the first credential by event time, population",
        "lag_step": "step of the lag profile between event times, population",
        "sigma_lag_step": "between-group sd of the lag steps",
        "lead": "lead coefficient (pre-event difference), population",
        "sigma_lead": "between-group sd of the leads",
        "sigma_cohort_lag": "between-cohort sd of the lag profile",
        "sigma_cohort_lead": "between-cohort sd of the leads",
        "event_profile_group": "effect of the first credential by event time, by group",
        "event_profile_cohort": "effect of the first credential by event time, by cohort",
    }
    columns: ClassVar[tuple[str, ...]] = ("group", "credentials", "track_record", "period")

    def __init__(self, effect: EffectSpec, dynamics: DynamicsSpec) -> None:
        super().__init__(effect)
        self.dynamics = dynamics
        self.window = dynamics.window

    def __repr__(self) -> str:
        e, d = self.effect, self.dynamics
        return (
            f"EventTimeCredentialTerm(curve={e.curve!r}, modifier={e.modifier!r}, "
            f"leads={d.leads}, lags={d.lags}, cohort_width={d.cohort_width})"
        )

    @property
    def has_cohorts(self) -> bool:
        return self.dynamics.cohort_width > 0

    @property
    def profile_pooling(self) -> str:
        return self.dynamics.pooling.profile

    def default_priors(self, *, scale: float, covariate_sds: np.ndarray) -> dict[str, PriorData]:
        """The static term's, plus, on the predictor scale ``s``: lag steps ``N(0, 0.25 s)``,
        ``sigma_lag_step ~ HalfNormal(0.1 s)``, leads ``N(0, 0.5 s)`` like ``mu_beta``,
        ``sigma_lead ~ HalfNormal(0.1 s)``, the cohorts' sds ``HalfNormal(0.25 s)`` (lags) and
        ``HalfNormal(0.1 s)`` (leads)."""
        s = float(scale)
        return {
            **super().default_priors(scale=scale, covariate_sds=covariate_sds),
            "lag_step": {"dist": "normal", "mu": 0.0, "sigma": 0.25 * s},
            "sigma_lag_step": {"dist": "half_normal", "sigma": 0.1 * s},
            "lead": {"dist": "normal", "mu": 0.0, "sigma": 0.5 * s},
            "sigma_lead": {"dist": "half_normal", "sigma": 0.1 * s},
            "sigma_cohort_lag": {"dist": "half_normal", "sigma": 0.25 * s},
            "sigma_cohort_lead": {"dist": "half_normal", "sigma": 0.1 * s},
        }

    # ------------------------------------------------------------------ dims and names
    @property
    def n_steps(self) -> int:
        return self.window.n_lags - 1

    @property
    def n_leads(self) -> int:
        return int(self.window.lead_times.shape[0])

    def coords(self, dim: Any) -> dict[str, list[Any]]:
        out = super().coords(dim)
        w = self.window
        out[dim("event_time")] = [int(e) for e in w.event_times]
        if self.n_steps:
            out[dim("event_step")] = [int(e) for e in w.lag_times[1:]]
        if self.n_leads:
            out[dim("lead_time")] = [int(e) for e in w.lead_times]
        out[dim("lag_time")] = [int(e) for e in w.lag_times]
        return out

    def data_coords(self, dim: Any, rows: Rows) -> dict[str, list[Any]]:
        if not self.has_cohorts:
            return {}
        return {dim("cohort"): list(rows.cohort_labels)}

    def variables(self) -> tuple[str, ...]:
        extra = ["event_profile_group"]
        if self.has_cohorts:
            extra += ["cohort_lag", *(["cohort_lead"] if self.n_leads else [])]
        return (*super().variables(), *extra)

    def _profile_names(self) -> list[str]:
        names: list[str] = []
        partial = self.profile_pooling == "partial"
        if self.n_steps:
            names += ["lag_step", *(["sigma_lag_step", "lag_step_offset"] if partial else [])]
            names.append("lag_step_group")
        if self.n_leads:
            names += ["lead", *(["sigma_lead", "lead_offset"] if partial else [])]
            names.append("lead_group")
        if self.has_cohorts:
            names += ["sigma_cohort_lag", "cohort_lag_offset", "cohort_lag"]
            if self.n_leads:
                names += ["sigma_cohort_lead", "cohort_lead_offset", "cohort_lead"]
            names.append("event_profile_cohort")
        return [*names, "event_profile", "event_profile_group"]

    def stored_variables(self, ctx: NamesContext) -> list[str]:
        return [*super().stored_variables(ctx), *self._profile_names()]

    # ------------------------------------------------------------------ PyTensor
    def _pooled_profile(self, ctx: BuildContext, name: str, sd_prior: str, dim: str) -> Any:
        """``(population, group values)`` of ``name`` over ``dim``, pooled over groups."""
        import pymc as pm
        import pytensor.tensor as pt

        how = self.profile_pooling
        d = ctx.dim(dim)
        population = ctx.prior(name, dims=d)
        if how == "partial":
            sd = ctx.prior(sd_prior)
            offset = pm.Normal(ctx.name(f"{name}_offset"), 0.0, 1.0, dims=(ctx.dim("group"), d))
            value = population[None, :] + sd * offset
        else:
            value = pt.broadcast_to(population[None, :], (ctx.n_groups, population.shape[0]))
        group = pm.Deterministic(ctx.name(f"{name}_group"), value, dims=(ctx.dim("group"), d))
        return population, group

    def _lags(self, steps: Any) -> Any:
        """The lags' deviations ``d`` from the walk's steps ``(..., K - 1)``: mean 0."""
        import pytensor.tensor as pt

        walk = pt.concatenate([pt.zeros((*steps.shape[:-1], 1)), pt.cumsum(steps, axis=-1)], -1)
        return walk - walk.mean(axis=-1, keepdims=True)

    def build_profiles(self, ctx: BuildContext, params: Mapping[str, Any]) -> Any:
        """The profiles ``f`` in the current model: the stored population, group (and cohort)
        profiles, and ``F[g, c, e]`` over groups x cohorts x event times (a tensor)."""
        import pymc as pm
        import pytensor.tensor as pt

        g_dim, e_dim = ctx.dim("group"), ctx.dim("event_time")
        K, n_lead = self.window.n_lags, self.n_leads
        if self.n_steps:
            step_pop, step_group = self._pooled_profile(
                ctx, "lag_step", "sigma_lag_step", "event_step"
            )
            h_pop, h_group = self._lags(step_pop[None, :])[0], self._lags(step_group)
        else:
            h_pop, h_group = pt.zeros((K,)), pt.zeros((ctx.n_groups, K))
        if n_lead:
            lead_pop, lead_group = self._pooled_profile(ctx, "lead", "sigma_lead", "lead_time")
        else:
            lead_pop, lead_group = pt.zeros((0,)), pt.zeros((ctx.n_groups, 0))
        beta = pt.as_tensor(params["beta_group"])
        mu_beta = self._population_beta(ctx)
        zero_g = pt.zeros((ctx.n_groups, 1))
        f_group = pt.concatenate([lead_group, zero_g, beta[:, None] + h_group], axis=1)
        f_pop = pt.concatenate([lead_pop, pt.zeros((1,)), mu_beta + h_pop])
        pm.Deterministic(ctx.name("event_profile"), f_pop, dims=e_dim)
        pm.Deterministic(ctx.name("event_profile_group"), f_group, dims=(g_dim, e_dim))
        if not self.has_cohorts:
            return f_group[:, None, :]
        c_dim = ctx.dim("cohort")
        sd_lag = ctx.prior("sigma_cohort_lag")
        lag_off = pm.Normal(
            ctx.name("cohort_lag_offset"), 0.0, 1.0, dims=(c_dim, ctx.dim("lag_time"))
        )
        v = pm.Deterministic(
            ctx.name("cohort_lag"), sd_lag * lag_off, dims=(c_dim, ctx.dim("lag_time"))
        )
        n_cohorts = v.shape[0]
        if n_lead:
            sd_lead = ctx.prior("sigma_cohort_lead")
            lead_off = pm.Normal(
                ctx.name("cohort_lead_offset"), 0.0, 1.0, dims=(c_dim, ctx.dim("lead_time"))
            )
            u = pm.Deterministic(
                ctx.name("cohort_lead"), sd_lead * lead_off, dims=(c_dim, ctx.dim("lead_time"))
            )
        else:
            u = pt.zeros((n_cohorts, 0))
        zero_c = pt.zeros((n_cohorts, 1))
        cohort_dev = pt.concatenate([u, zero_c, pt.zeros_like(v)], axis=1)  # leads add as is
        f_cohort = pt.concatenate([lead_pop[None, :] + u, zero_c, mu_beta + h_pop + v], axis=1)
        pm.Deterministic(ctx.name("event_profile_cohort"), f_cohort, dims=(c_dim, e_dim))
        lag_dev = pt.concatenate([pt.zeros((n_cohorts, n_lead + 1)), v], axis=1)
        return f_group[:, None, :] + cohort_dev[None, :, :] + lag_dev[None, :, :]

    def _population_beta(self, ctx: BuildContext) -> Any:
        """The population's first-credential effect: the model's ``mu_beta`` (a random
        variable, or the deterministic mean of the groups' without pooling)."""
        import pymc as pm

        return pm.modelcontext(None)[ctx.name("mu_beta")]

    def signature_table(self, profiles: Any, curve_of_group: Any, sig: Mapping[str, Any]) -> Any:
        """The term's value (before the modifier) per signature: ``f(-L) S(N) + sum_m
        (f(m) - f(m-1)) S(C(t - m))`` with each signature's group and cohort profile."""
        import pytensor.tensor as pt

        f = profiles[sig["group"], sig["cohort"]]  # (signatures, event times)
        steps = f[:, 1:] - f[:, :-1]
        s = curve_of_group(sig["counts"], sig["group"])  # (signatures, 1 + L + K - 1)
        return f[:, 0] * s[:, 0] + pt.sum(steps * s[:, 1:], axis=1)

    def _curve_of_group(self, params: Mapping[str, Any]) -> Any:
        import pytensor.tensor as pt

        shape_group = params.get(f"{self.shape_name}_group") if self.shape_name else None

        def curve(counts: Any, group: Any) -> Any:
            shape = None if shape_group is None else pt.as_tensor(shape_group)[group][:, None]
            return credential_curve(pt, self.curve, counts, shape)

        return curve

    def build(self, ctx: BuildContext) -> BuiltTerm:
        import pymc as pm

        params, _, modifier = self.build_parameters(ctx)
        profiles = self.build_profiles(ctx, params)
        sig = Signatures.of(ctx.rows)
        data = {
            "group": pm.Data(ctx.name("event_signature_group"), sig.group),
            "cohort": pm.Data(ctx.name("event_signature_cohort"), sig.cohort),
            "counts": pm.Data(ctx.name("event_signature_counts"), sig.counts.astype(float)),
        }
        index = pm.Data(ctx.name("event_signature"), sig.index)
        table = self.signature_table(profiles, self._curve_of_group(params), data)
        mean = table[index] * modifier
        return BuiltTerm(term=self, mean=mean, params={**params, "profiles": profiles})

    # ------------------------------------------------------------------ NumPy
    def profile_draws(self, params: Mapping[str, np.ndarray]) -> np.ndarray:
        """``F[d, g, c, e]`` from posterior draws (``variables()``, stacked)."""
        f_group = np.asarray(params["event_profile_group"], dtype=float)  # (d, g, e)
        if not self.has_cohorts:
            return f_group[:, :, None, :]
        v = np.asarray(params["cohort_lag"], dtype=float)  # (d, c, K)
        d, c = v.shape[0], v.shape[1]
        u = np.asarray(params.get("cohort_lead", np.zeros((d, c, 0))), dtype=float)
        lead_dev = np.concatenate([u, np.zeros((d, c, 1 + v.shape[2]))], axis=2)
        lag_dev = np.concatenate([np.zeros((d, c, u.shape[2] + 1)), v], axis=2)
        return f_group[:, :, None, :] + lead_dev[:, None, :, :] + lag_dev[:, None, :, :]

    def draw_parameters(self, posterior: Any) -> dict[str, np.ndarray]:
        out = super().draw_parameters(posterior)
        out["event_profile_group"] = stack_draws(
            posterior["event_profile_group"].transpose("chain", "draw", "group", "event_time")
        )
        if self.has_cohorts:
            out["cohort_lag"] = stack_draws(posterior["cohort_lag"])
            if self.n_leads:
                out["cohort_lead"] = stack_draws(posterior["cohort_lead"])
        return out

    def evaluate(self, params: Mapping[str, np.ndarray], rows: Rows) -> np.ndarray:
        sig = Signatures.of(rows)
        f = self.profile_draws(params)[:, sig.group, sig.cohort]  # (d, signatures, e)
        shape = params[f"{self.shape_name}_group"] if self.shape_name else None
        s_shape = None if shape is None else np.asarray(shape)[:, sig.group][:, :, None]
        s = credential_curve(np, self.curve, sig.counts[None, :, :].astype(float), s_shape)
        s = np.broadcast_to(s, (f.shape[0], *sig.counts.shape))
        table = f[..., 0] * s[..., 0] + np.sum(np.diff(f, axis=-1) * s[..., 1:], axis=-1)
        draws = EffectDraws(
            beta=params["beta_group"],
            shape=shape,
            gamma=params.get("gamma_group", np.zeros((*np.shape(params["beta_group"]), 0))),
        )
        m = self._modifier_draws(draws, rows)
        return np.asarray(table[:, sig.index] * m)

    def _modifier_draws(self, draws: EffectDraws, rows: Rows) -> np.ndarray:
        gamma = draws.gamma[:, rows.group]
        if not gamma.shape[-1]:
            return np.ones((draws.n_draws, rows.n_rows))
        g2 = gamma[..., 1] if gamma.shape[-1] > 1 else 0.0
        return self.modifier_value(rows.z, gamma[..., 0], g2)

    # ------------------------------------------------------------------ the kernel
    def kernel_index(self, rows: Rows) -> KernelIndex:
        """Two tables: the value before the modifier per signature (:class:`Signatures`),
        computed by a compiled loop (:mod:`bayescred.terms.signature_table`) from the profiles
        and the curve on a dense grid of groups x counts, and the static term's modifier
        table."""
        sig = Signatures.of(rows)
        modifier_idx, m_capacity, constants = self.modifier_index(rows)
        n_capacity = capacity(int(sig.counts.max(initial=0)) + 1)
        return KernelIndex(
            index=(index_array(sig.index, sig.size), index_array(modifier_idx, m_capacity)),
            constants={
                **constants,
                "signature_group": sig.group,
                "signature_cohort": sig.cohort,
                "signature_counts": sig.counts,
            },
            sizes={"signatures": sig.size, "n_capacity": n_capacity, "n_groups": rows.n_groups},
        )

    def kernel_tables(self, index: KernelIndex, built: BuiltTerm, constant: Any) -> tuple[Any, ...]:
        import pytensor.tensor as pt

        from bayescred.terms.signature_table import signature_table

        n_groups, n_capacity = index.sizes["n_groups"], index.sizes["n_capacity"]
        n = pt.as_tensor(np.arange(n_capacity, dtype=float)[None, :])
        shape_group = built.params.get(f"{self.shape_name}_group") if self.shape_name else None
        shape = None if shape_group is None else pt.as_tensor(shape_group)[:, None]
        curve = pt.broadcast_to(credential_curve(pt, self.curve, n, shape), (n_groups, n_capacity))
        table = signature_table(
            built.params["profiles"],
            curve,
            constant("signature_group"),
            constant("signature_cohort"),
            constant("signature_counts"),
        )
        return table, self.modifier_table(built, constant)
