"""The typed credential term (bayescred.terms.credential_types) against brute force: its NumPy
value against a loop over every credential event (ties sharing their steps), the static limit,
the sampled density (kernel) against the graph, and the graph's likelihood against a NumPy
within likelihood written from scratch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytensor
import pytest

import bayescred as bc
from bayescred.data.simulate import simulate
from bayescred.maths.credential_types import type_signatures
from bayescred.maths.curves import credential_curve, track_record_modifier
from bayescred.maths.event_time import UNKNOWN_TIME
from bayescred.model.build import build_model
from bayescred.model.make import make_design
from bayescred.model.predictor import WORKER_LOGLIK, BuildOptions
from bayescred.spec import ModelSpec
from bayescred.terms import CredentialTerm, TypedCredentialTerm
from bayescred.terms.base import Rows
from bayescred.terms.credential import EffectSpec
from bayescred.terms.credential_types import CredentialTypesSpec

FAST_MODE = pytensor.compile.mode.get_mode("FAST_COMPILE").excluding("fusion")


def typed_panel(seed: int = 5, n_workers: int = 120, n_periods: int = 8, n_types: int = 6):
    """A simulated panel with random types on its events, a types table in three categories
    and a worker-level job category."""
    sim = simulate("paper", seed=seed, n_workers=n_workers, n_periods=n_periods)
    rng = np.random.default_rng(seed)
    labels = [f"t{i}" for i in range(n_types)]
    cats = ["a", "b", "c"]
    types = pd.DataFrame(
        {"credential_type": labels, "category": [cats[i % 3] for i in range(n_types)]}
    )
    events = sim.events.copy()
    events["credential_type"] = rng.choice(labels, size=len(events))
    frame = sim.frame.copy()
    codes = pd.factorize(frame["worker_id"])[0]
    frame["job_category"] = rng.choice(cats, size=codes.max() + 1)[codes]
    return frame, events, types


def _random_rows(rng: np.random.Generator, n_workers: int, n_periods: int, n_groups: int):
    worker = rng.integers(0, n_workers, 3 * n_workers)
    time = rng.integers(0, n_periods + 2, worker.shape[0])
    time[: n_workers // 3] = UNKNOWN_TIME
    n_types, n_cats = 7, 3
    etype = rng.integers(0, n_types, worker.shape[0])
    type_category = rng.integers(0, n_cats, n_types)
    row_worker = np.repeat(np.arange(n_workers), n_periods)
    row_time = np.tile(np.arange(1, n_periods + 1), n_workers)
    job = rng.integers(-1, n_cats, n_workers)  # -1: no job category
    group_of = rng.integers(0, n_groups, n_workers)
    index, sig = type_signatures(
        event_worker=worker,
        event_time=time,
        event_type=etype,
        type_category=type_category,
        row_worker=row_worker,
        row_time=row_time,
        row_group=group_of[row_worker],
        row_job=job[row_worker],
        n_types=n_types,
        n_groups=n_groups,
    )
    held = np.array(
        [np.sum((worker == w) & (time <= t)) for w, t in zip(row_worker, row_time, strict=True)]
    )
    rows = Rows(
        credentials=held.astype(float),
        z=rng.normal(size=row_worker.shape[0]),
        group=group_of[row_worker],
        period=row_time - 1,
        covariates=np.zeros((row_worker.shape[0], 0)),
        n_groups=n_groups,
        n_periods=n_periods,
        type_signature=index,
        type_signatures=sig,
        type_labels=tuple(f"t{i}" for i in range(n_types)),
        category_labels=tuple(f"c{i}" for i in range(n_cats)),
    )
    events = {"worker": worker, "time": time, "type": etype}
    return rows, row_worker, row_time, events, type_category, job


@pytest.mark.parametrize("curve", ["geometric", "quadratic", "linear"])
def test_value_equals_a_loop_over_every_credential_event(curve: str) -> None:
    rng = np.random.default_rng(len(curve))
    n_workers, n_periods, n_groups, draws = 30, 7, 3, 3
    rows, row_worker, row_time, ev, type_category, job = _random_rows(
        rng, n_workers, n_periods, n_groups
    )
    term = TypedCredentialTerm(EffectSpec(curve=curve), CredentialTypesSpec(match=True))
    shape_name = term.shape_name
    params: dict[str, np.ndarray] = {
        "beta_group": rng.normal(size=(draws, n_groups)),
        "gamma_group": rng.normal(scale=0.3, size=(draws, n_groups, 2)),
        "u_type": rng.normal(size=(draws, 7)),
        "u_category": rng.normal(size=(draws, 3)),
        "match_effect": rng.normal(size=draws),
    }
    if shape_name:
        params[f"{shape_name}_group"] = rng.uniform(0.1, 0.8, (draws, n_groups))
    fast = term.evaluate(params, rows)
    for d in range(draws):
        shape = params[f"{shape_name}_group"][d] if shape_name else None
        for r in range(rows.n_rows):
            w, t, g = row_worker[r], row_time[r], rows.group[r]
            own = np.flatnonzero(ev["worker"] == w)
            times = ev["time"][own]
            order = np.argsort(times, kind="stable")
            own, times = own[order], times[order]
            s = None if shape is None else shape[g]
            total = 0.0
            for k, e in enumerate(own, start=1):
                if times[k - 1] > t:
                    break
                block = np.flatnonzero(times == times[k - 1]) + 1  # tie block positions
                lo, hi = block.min(), block.max()
                step = (
                    credential_curve(np, curve, hi, s) - credential_curve(np, curve, lo - 1, s)
                ) / (hi - lo + 1)
                j = ev["type"][e]
                c = type_category[j]
                match = float(job[w] >= 0 and c == job[w])
                effect = (
                    params["beta_group"][d, g]
                    + params["u_category"][d, c]
                    + params["u_type"][d, j]
                    + params["match_effect"][d] * match
                )
                total += step * effect
            g1, g2 = params["gamma_group"][d, g]
            m = track_record_modifier(np, "log_quadratic", rows.z[r], g1, g2)
            assert fast[d, r] == pytest.approx(total * m, rel=1e-10, abs=1e-12)


def test_without_type_deviations_it_is_the_static_term() -> None:
    """u = 0 and rho = 0: the typed value is beta S(n) M(z), ties and all."""
    rng = np.random.default_rng(3)
    rows, *_ = _random_rows(rng, 25, 6, 2)
    params = {
        "beta_group": rng.normal(size=(3, 2)),
        "lambda_group": rng.uniform(0.1, 0.8, (3, 2)),
        "gamma_group": rng.normal(scale=0.3, size=(3, 2, 2)),
        "u_type": np.zeros((3, 7)),
        "u_category": np.zeros((3, 3)),
        "match_effect": np.zeros(3),
    }
    typed = TypedCredentialTerm(EffectSpec(), CredentialTypesSpec(match=True))
    static = CredentialTerm(EffectSpec()).evaluate(params, rows)
    np.testing.assert_allclose(typed.evaluate(params, rows), static, rtol=1e-12, atol=1e-14)


def test_spec_section_is_off_by_default_and_round_trips() -> None:
    assert ModelSpec().credential_types is None
    spec = ModelSpec().with_changes(credential_types={"match": True})
    assert ModelSpec.from_toml_string(spec.to_toml_string()) == spec
    assert spec.credential_types == CredentialTypesSpec(match=True)
    with pytest.raises(bc.SpecError):
        ModelSpec().with_changes(credential_types={"match": True}, dynamics={"lags": 3})
    with pytest.raises(bc.SpecError):
        ModelSpec().with_changes(credential_types={"pooling": "full"})


def _typed_design(spec: ModelSpec):
    frame, events, types = typed_panel()
    panel = bc.validate(
        frame,
        outcome=spec.outcome.column,
        events=events,
        credential_types=types,
        missing_outcome="exclude",
    )
    return make_design(spec, panel)


def _points(model, n: int, seed: int):
    ip = model.initial_point()
    rng = np.random.default_rng(seed)
    return [ip] + [
        {k: v + rng.normal(0.0, 0.7, size=np.shape(v)) for k, v in ip.items()} for _ in range(n - 1)
    ]


@pytest.mark.parametrize(
    "types",
    [{"match": True}, {"pooling": "none"}, {"match": True, "pooling": "none"}],
)
def test_kernel_density_and_gradient_equal_the_graph(types: dict) -> None:
    design = _typed_design(ModelSpec().with_changes(credential_types=types))
    graph = build_model(design, BuildOptions(kernel=False))
    kernel = build_model(design)
    assert [v.name for v in kernel.free_RVs] == [v.name for v in graph.free_RVs]
    l0, l1 = graph.compile_logp(mode=FAST_MODE), kernel.compile_logp(mode=FAST_MODE)
    g0, g1 = graph.compile_dlogp(mode=FAST_MODE), kernel.compile_dlogp(mode=FAST_MODE)
    for point in _points(graph, 3, seed=1):
        assert float(l1(point)) == pytest.approx(float(l0(point)), rel=1e-9)
        ga = g0(point)
        np.testing.assert_allclose(g1(point), ga, rtol=1e-9, atol=1e-9 * np.max(np.abs(ga)))


def test_the_likelihood_equals_a_numpy_within_likelihood_written_from_scratch() -> None:
    """At random points, each worker's log likelihood in the model (integrated over a flat
    intercept) equals the closed form computed here from the brute-force term value, the
    period effects and the outcome: ``-(T-1)/2 log(2 pi s^2) - log(T)/2 - SS / (2 s^2)``."""
    spec = ModelSpec().with_changes(credential_types={"match": True})
    design = _typed_design(spec)
    model = build_model(design, BuildOptions(kernel=False))
    term = design.credential_term
    assert isinstance(term, TypedCredentialTerm)
    named = model.named_vars
    wanted = [*term.variables(), "tau", "sigma", WORKER_LOGLIK]
    outs = model.replace_rvs_by_values([named[n] for n in wanted])
    fn = model.compile_fn(outs, inputs=model.value_vars, mode=FAST_MODE, on_unused_input="ignore")
    panel, rows = design.panel, design.rows()
    y = np.asarray(panel.y, float)
    codes, t_i = panel.worker_codes, panel.periods_per_worker().astype(float)
    for point in _points(model, 3, seed=4):
        values = dict(zip(wanted, fn(point), strict=True))
        params = {n: np.asarray(values[n])[None] for n in term.variables()}
        credential = term.evaluate(params, rows)[0]
        eta = credential + np.asarray(values["tau"])[rows.period]
        dev = y - eta
        mean = np.bincount(codes, weights=dev) / t_i
        ss = np.bincount(codes, weights=(dev - mean[codes]) ** 2)
        s2 = float(values["sigma"]) ** 2
        brute = -(t_i - 1) / 2 * np.log(2 * np.pi * s2) - 0.5 * np.log(t_i) - ss / (2 * s2)
        np.testing.assert_allclose(values[WORKER_LOGLIK], brute, rtol=1e-9, atol=1e-9)


def test_a_static_spec_builds_the_same_model_with_a_typed_panel() -> None:
    """Types in the data but not in the spec: the default model, same variables."""
    frame, events, types = typed_panel()
    plain = make_design(ModelSpec(), frame, events=events)
    panel = bc.validate(
        frame,
        outcome="log_project_value",
        events=events,
        credential_types=types,
        missing_outcome="exclude",
    )
    typed_data = make_design(ModelSpec(), panel)
    a, b = build_model(plain), build_model(typed_data)
    assert [v.name for v in a.free_RVs] == [v.name for v in b.free_RVs]
    point = a.initial_point()
    assert float(a.compile_logp(mode=FAST_MODE)(point)) == float(
        b.compile_logp(mode=FAST_MODE)(point)
    )


def test_a_frame_with_events_and_types_gives_the_validated_panels_design() -> None:
    spec = ModelSpec().with_changes(credential_types={"match": True})
    frame, events, types = typed_panel()
    direct = make_design(spec, frame, events=events, credential_types=types)
    via_panel = _typed_design(spec)
    a, b = direct.rows(), via_panel.rows()
    np.testing.assert_array_equal(a.type_signature, b.type_signature)
    np.testing.assert_array_equal(a.type_signatures.element_type, b.type_signatures.element_type)
    with pytest.raises(bc.DataError, match="already validated Panel"):
        make_design(spec, via_panel.panel, credential_types=types)
    with pytest.raises(bc.DataError, match=r"bc.validate\(frame, events=events"):
        make_design(spec, frame, events=events)  # types in the spec, no types table
    renamed = frame.rename(columns={"job_category": "work"})
    with pytest.raises(bc.DataError, match="match = true needs"):
        make_design(spec, renamed, events=events, credential_types=types)
    spec_work = spec.with_changes(credential_types={"match": True, "job_category": "work"})
    moved = make_design(spec_work, renamed, events=events, credential_types=types)
    np.testing.assert_array_equal(moved.rows().type_signature, a.type_signature)
