"""The event-time credential term (bayescred.terms.dynamics) against brute force: its NumPy
value against a loop over every credential event, the closed form of the window, the spec's
defaults and the static limit."""

from __future__ import annotations

import numpy as np
import pytest

from bayescred.maths.curves import credential_curve, track_record_modifier
from bayescred.maths.event_time import UNKNOWN_TIME, EventWindow, profile_sum, row_counts
from bayescred.spec import ModelSpec
from bayescred.terms import CredentialTerm, design_terms
from bayescred.terms.base import Rows
from bayescred.terms.credential import EffectSpec
from bayescred.terms.dynamics import DynamicsSpec, EventTimeCredentialTerm, Signatures


def _events(rng: np.random.Generator, n_workers: int, n_periods: int):
    worker = rng.integers(0, n_workers, 4 * n_workers)
    time = rng.integers(-3, n_periods + 4, worker.shape[0])
    time[: n_workers // 3] = UNKNOWN_TIME
    return worker, time


def _rows(window, worker, time, n_workers, n_periods, n_groups, rng, cohorts=None):
    row_worker = np.repeat(np.arange(n_workers), n_periods)
    row_time = np.tile(np.arange(1, n_periods + 1), n_workers)
    counts = row_counts(window, worker, time, row_worker, row_time)
    group_of = rng.integers(0, n_groups, n_workers)
    return (
        Rows(
            credentials=counts[:, 0].astype(float) * 0,  # not read by the dynamic term
            z=rng.normal(size=row_worker.shape[0]),
            group=group_of[row_worker],
            period=row_time - 1,
            covariates=np.zeros((row_worker.shape[0], 0)),
            n_groups=n_groups,
            n_periods=n_periods,
            event_counts=counts,
            cohort=None if cohorts is None else cohorts[row_worker],
            cohort_labels=()
            if cohorts is None
            else tuple(str(c) for c in range(cohorts.max() + 1)),
        ),
        row_worker,
        row_time,
    )


@pytest.mark.parametrize(
    ("leads", "lags", "with_cohorts"), [(3, 4, False), (1, 1, False), (2, 3, True)]
)
def test_value_equals_a_loop_over_every_credential_event(leads, lags, with_cohorts):
    rng = np.random.default_rng(leads * 10 + lags)
    n_workers, n_periods, n_groups, draws = 25, 9, 3, 4
    dyn = DynamicsSpec(leads=leads, lags=lags, cohort_width=3 if with_cohorts else 0)
    term = EventTimeCredentialTerm(EffectSpec(), dyn)
    window = dyn.window
    worker, time = _events(rng, n_workers, n_periods)
    cohorts = rng.integers(0, 4, n_workers) if with_cohorts else None
    rows, row_worker, row_time = _rows(
        window, worker, time, n_workers, n_periods, n_groups, rng, cohorts
    )
    n_e = window.event_times.shape[0]
    profile = rng.normal(size=(draws, n_groups, n_e))
    profile[..., window.n_leads - 1] = 0.0
    params = {
        "beta_group": rng.normal(size=(draws, n_groups)),
        "lambda_group": rng.uniform(0.1, 0.8, (draws, n_groups)),
        "gamma_group": rng.normal(scale=0.3, size=(draws, n_groups, 2)),
        "event_profile_group": profile,
    }
    n_c = 4
    if with_cohorts:
        params["cohort_lag"] = rng.normal(size=(draws, n_c, window.n_lags))
        params["cohort_lead"] = rng.normal(size=(draws, n_c, window.lead_times.shape[0]))
    fast = term.evaluate(params, rows)
    for d in range(draws):
        for r in range(rows.n_rows):
            w, t, g = row_worker[r], row_time[r], rows.group[r]
            lam = params["lambda_group"][d, g]
            f = profile[d, g].copy()
            if with_cohorts:
                c = cohorts[w]
                n_lead = window.lead_times.shape[0]
                f[:n_lead] += params["cohort_lead"][d, c]
                f[n_lead + 1 :] += params["cohort_lag"][d, c]
            own = np.sort(time[worker == w])
            total = 0.0
            for k, tk in enumerate(own, start=1):
                e = 10**6 if tk == UNKNOWN_TIME else t - tk
                step = credential_curve(np, "geometric", k, lam) - credential_curve(
                    np, "geometric", k - 1, lam
                )
                total += step * f[int(window.bin(e)) + window.n_leads]
            g1, g2 = params["gamma_group"][d, g]
            m = track_record_modifier(np, "log_quadratic", rows.z[r], g1, g2)
            assert fast[d, r] == pytest.approx(total * m, rel=1e-10, abs=1e-12)


def test_static_limit_is_the_static_term():
    """One lag and no lead: f = beta after the event, 0 before; the value is beta S(n) M(z)."""
    rng = np.random.default_rng(3)
    window = EventWindow(leads=0, lags=1)
    worker, time = _events(rng, 20, 6)
    rows, row_worker, row_time = _rows(window, worker, time, 20, 6, 2, rng)
    held = row_counts(window, worker, time, row_worker, row_time)[:, 1].astype(float)
    beta = rng.normal(size=(3, 2))
    params = {
        "beta_group": beta,
        "lambda_group": rng.uniform(0.1, 0.8, (3, 2)),
        "gamma_group": rng.normal(scale=0.3, size=(3, 2, 2)),
        "event_profile_group": np.stack([np.zeros((3, 2)), beta], axis=-1),
    }
    dynamic = EventTimeCredentialTerm(EffectSpec(), DynamicsSpec(leads=0, lags=1))
    static_rows = Rows(
        credentials=held,
        z=rows.z,
        group=rows.group,
        period=rows.period,
        covariates=rows.covariates,
        n_groups=2,
        n_periods=6,
    )
    static = CredentialTerm(EffectSpec()).evaluate(params, static_rows)
    np.testing.assert_allclose(dynamic.evaluate(params, rows), static, rtol=1e-12, atol=1e-14)


def test_profile_sum_matches_brute_force_and_signatures_cover_rows():
    rng = np.random.default_rng(0)
    window = EventWindow(leads=3, lags=5)
    worker, time = _events(rng, 30, 10)
    rows, row_worker, row_time = _rows(window, worker, time, 30, 10, 2, rng)
    f = rng.normal(size=window.event_times.shape[0])
    f[window.n_leads - 1] = 0.0
    fast = profile_sum(window, f, credential_curve(np, "linear", rows.event_counts))
    for r in range(rows.n_rows):
        own = time[worker == row_worker[r]]
        e = np.where(own == UNKNOWN_TIME, 10**6, row_time[r] - own)
        assert fast[r] == pytest.approx(f[window.bin(e) + window.n_leads].sum())
    sig = Signatures.of(rows)
    assert sig.size >= sig.index.max() + 1 and sig.size & (sig.size - 1) == 0
    np.testing.assert_array_equal(sig.counts[sig.index], rows.event_counts)
    np.testing.assert_array_equal(sig.group[sig.index], rows.group)
    assert sig.size < rows.n_rows


def test_spec_section_defaults_off_and_round_trips():
    spec = ModelSpec()
    assert spec.dynamics is None
    assert "dynamics" not in spec.to_toml_string()
    dyn = ModelSpec(dynamics={"leads": 3, "lags": 6, "cohort_width": 4})
    assert ModelSpec.from_toml_string(dyn.to_toml_string()) == dyn
    assert dyn.spec_hash() != spec.spec_hash()
    terms = design_terms(
        dyn.effect, period_effects=True, n_periods=5, covariates=(), dynamics=dyn.dynamics
    )
    assert isinstance(terms[0], EventTimeCredentialTerm)
    assert (
        type(design_terms(spec.effect, period_effects=True, n_periods=5, covariates=())[0])
        is CredentialTerm
    )


@pytest.mark.parametrize(
    "toml",
    [
        "[dynamics]\nlags = 0\n",
        "[dynamics]\nleads = -1\n",
        "[dynamics]\nlag = 3\n",
        '[dynamics.pooling]\nprofile = "none"\n',
    ],
)
def test_bad_dynamics_sections_are_refused(toml):
    from bayescred.errors import SpecError

    with pytest.raises(SpecError, match="dynamics"):
        ModelSpec.from_toml_string(toml)


@pytest.mark.parametrize(
    ("dynamics", "effect"),
    [
        pytest.param({"leads": 3, "lags": 4}, {}, marks=pytest.mark.slow),
        ({"leads": 2, "lags": 3, "cohort_width": 3}, {"curve": "quadratic"}),
    ],
)
def test_kernel_density_and_gradient_equal_the_graph(dynamics, effect):
    """The sampled density (the Gaussian kernel with the compiled signature table) equals the
    term's plain PyTensor graph over the rows, value and gradient, at a random point."""
    from bayescred.data.simulate import simulate
    from bayescred.model.build import build_model
    from bayescred.model.make import make_design
    from bayescred.model.predictor import SAMPLER_FORM, BuildOptions

    sim = simulate("event_study", n_workers=200, n_periods=9, seed=4)
    spec = ModelSpec().with_changes(dynamics=dynamics, effect=effect)
    design = make_design(spec, sim.frame, events=sim.events)
    kernel = build_model(design, SAMPLER_FORM)
    graph = build_model(design, BuildOptions(whitened=True, kernel=False))
    assert [v.name for v in kernel.free_RVs] == [v.name for v in graph.free_RVs]
    rng = np.random.default_rng(0)
    point = {
        k: v + 0.2 * rng.standard_normal(np.shape(v)) for k, v in kernel.initial_point().items()
    }
    assert kernel.compile_logp()(point) == pytest.approx(graph.compile_logp()(point), rel=1e-12)
    np.testing.assert_allclose(
        kernel.compile_dlogp()(point), graph.compile_dlogp()(point), rtol=1e-9, atol=1e-9
    )


def test_signature_table_op_matches_its_formula_and_finite_differences():
    import pytensor
    import pytensor.tensor as pt

    from bayescred.terms.signature_table import signature_table

    rng = np.random.default_rng(1)
    groups, cohorts, n_e, n_cap, n_sig = 3, 2, 5, 8, 40
    group = rng.integers(0, groups, n_sig)
    cohort = rng.integers(0, cohorts, n_sig)
    counts = rng.integers(0, n_cap, (n_sig, n_e))
    F = pt.tensor3("F")
    S = pt.matrix("S")
    weights = rng.normal(size=n_sig)
    out = signature_table(F, S, group, cohort, counts)
    f = pytensor.function(
        [F, S],
        [out, pt.grad((out * weights).sum(), [F, S])[0], pt.grad((out * weights).sum(), [F, S])[1]],
    )
    f_val = rng.normal(size=(groups, cohorts, n_e))
    s_val = rng.normal(size=(groups, n_cap))
    table, dF, dS = f(f_val, s_val)
    rows = f_val[group, cohort]
    expected = rows[:, 0] * s_val[group, counts[:, 0]] + np.sum(
        np.diff(rows, axis=1) * s_val[group[:, None], counts[:, 1:]], axis=1
    )
    np.testing.assert_allclose(table, expected, rtol=1e-12)
    eps = 1e-6
    for _ in range(5):
        idx = tuple(rng.integers(0, k) for k in f_val.shape)
        bumped = f_val.copy()
        bumped[idx] += eps
        numeric = ((f(bumped, s_val)[0] - table) * weights).sum() / eps
        assert dF[idx] == pytest.approx(numeric, rel=1e-4, abs=1e-6)
        jdx = tuple(rng.integers(0, k) for k in s_val.shape)
        bumped = s_val.copy()
        bumped[jdx] += eps
        numeric = ((f(f_val, bumped)[0] - table) * weights).sum() / eps
        assert dS[jdx] == pytest.approx(numeric, rel=1e-4, abs=1e-6)
