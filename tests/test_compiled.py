"""Compile once, fit many: reuse of compiled models for new data of the same shape.

A refit on new outcomes of the same panel, or on a new panel of the same shape, must not
compile again and must give the same draws as a fit compiled afresh with the same seed; a
different shape or a different constant baked into the graph must compile anew; and turning
the data-derived constants into shared variables must leave the log density unchanged.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr

import bayescred as bc
import bayescred.model.predictor as terms_module
import bayescred.model.priors as priors_module
from bayescred.data.simulate import SimulatedPanel
from bayescred.inference.compiled import CompiledModelCache, model_key, named_shared
from bayescred.inference.sampling import effect_initial_values
from bayescred.model.build import build_model, stored_variables
from bayescred.model.make import make_design

FIT = {"draws": 40, "tune": 40, "chains": 2, "random_seed": 17, "progressbar": False}


def new_outcomes(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same panel with other outcomes."""
    out = frame.copy()
    noise = np.random.default_rng(seed).normal(0.0, 0.3, len(out))
    out["log_project_value"] = out["log_project_value"] + noise
    return out


def new_panel(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Another panel of the same shape: new worker labels (so another order of the workers and
    of their rows per worker), other groups under other labels, other periods' labels, more
    credentials, longer track records, other covariates and outcomes."""
    out = new_outcomes(frame, seed)
    rng = np.random.default_rng(seed + 1)
    workers = out["worker_id"].unique()
    labels = dict(zip(workers, [f"q{i:05d}" for i in rng.permutation(len(workers))], strict=True))
    groups = out.groupby("worker_id", sort=False)["group"].first()
    names = {"A": "north", "B": "south", "C": "east", "D": "west"}
    regroup = dict(zip(groups.index, rng.permutation(groups.map(names).to_numpy()), strict=True))
    out["group"] = out["worker_id"].map(regroup)
    out["worker_id"] = out["worker_id"].map(labels)
    out["period"] = out["period"] + 100
    out["credentials"] = out["credentials"] + 1
    out["track_record"] = 2 * out["track_record"] + 1
    for name in ("x1", "x2"):
        out[name] = out[name] + rng.normal(0.0, 0.5, len(out))
    return out.sort_values(["worker_id", "period"]).reset_index(drop=True)


def without_a_worker(frame: pd.DataFrame) -> pd.DataFrame:
    """The panel less its first worker with more than one period (another shape)."""
    counts = frame["worker_id"].value_counts()
    drop = counts[counts > 1].index[0]
    return frame[frame["worker_id"] != drop].reset_index(drop=True)


def key_of(spec: bc.ModelSpec, frame: pd.DataFrame) -> Any:
    design = make_design(spec, frame)
    model = build_model(design)
    starts = tuple(sorted(effect_initial_values(model, design)))
    return model_key(model, var_names=stored_variables(model, design), starts=starts)


@pytest.fixture
def compile_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call of ``nutpie.compile_pymc_model`` (the real one), by model."""
    import nutpie

    calls: list[str] = []
    real = nutpie.compile_pymc_model

    def counted(model: Any, **kwargs: Any) -> Any:
        calls.append(str(model))
        return real(model, **kwargs)

    monkeypatch.setattr(nutpie, "compile_pymc_model", counted)
    yield calls


@pytest.fixture
def stub_compile(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``nutpie.compile_pymc_model`` replaced by a stub that counts calls (no numba)."""
    import nutpie

    calls: list[str] = []

    def stub(model: Any, **kwargs: Any) -> object:
        calls.append(str(model))
        return object()

    monkeypatch.setattr(nutpie, "compile_pymc_model", stub)
    return calls


def test_same_shape_gives_the_same_key_and_anything_baked_in_another(
    small_frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = bc.load_spec("default")
    first = key_of(spec, small_frame)
    hash(first)
    assert key_of(spec, small_frame) == first  # a rebuild of the same model
    assert key_of(spec, new_outcomes(small_frame, 1)) == first
    assert key_of(spec, new_panel(small_frame, 2)) == first
    # new prior values (spec overrides) are values of the prior vector, not constants
    sharper = spec.with_changes(priors={"mu_beta": {"dist": "normal", "mu": 0.1, "sigma": 0.05}})
    assert key_of(sharper, small_frame) == first
    # another shape, another model structure, another distribution
    assert key_of(spec, without_a_worker(small_frame)) != first
    assert key_of(spec.with_changes(effect={"curve": "linear"}), small_frame) != first
    student = spec.with_changes(
        priors={"mu_beta": {"dist": "student_t", "nu": 4, "mu": 0, "sigma": 1}}
    )
    assert key_of(student, small_frame) != first
    # constants baked into the graph are part of the key: with the priors as constants (as
    # they were before they became shared values) new outcomes change the key
    monkeypatch.setattr(priors_module, "prior_parameter", lambda v, p, x: float(x))
    monkeypatch.setattr(terms_module, "prior_parameter", lambda v, p, x: float(x))
    baked = key_of(spec, small_frame)
    assert baked != first
    assert key_of(spec, small_frame) == baked
    assert key_of(spec, new_outcomes(small_frame, 1)) != baked


def test_different_shape_or_constant_compiles_anew(
    small_frame: pd.DataFrame, stub_compile: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = bc.load_spec("default")
    cache = CompiledModelCache()

    def entry(frame: pd.DataFrame, spec: bc.ModelSpec = spec) -> bool:
        design = make_design(spec, frame)
        model = build_model(design)
        init = effect_initial_values(model, design)
        _, reused = cache.entry(
            model, var_names=stored_variables(model, design), initial_values=init
        )
        return reused

    assert not entry(small_frame)
    assert entry(new_outcomes(small_frame, 1))
    assert entry(new_panel(small_frame, 2))
    assert not entry(without_a_worker(small_frame))
    assert not entry(small_frame, spec.with_changes(effect={"modifier": "log_linear"}))
    monkeypatch.setattr(priors_module, "prior_parameter", lambda v, p, x: float(x))
    monkeypatch.setattr(terms_module, "prior_parameter", lambda v, p, x: float(x))
    assert not entry(small_frame)  # priors as constants: another graph
    assert not entry(new_outcomes(small_frame, 1))  # and another outcome scale: another one
    assert len(stub_compile) == 5
    assert (cache.compilations, cache.reuses, len(cache)) == (5, 2, 5)


def test_cache_drops_the_least_recently_used_model(
    small_frame: pd.DataFrame, stub_compile: list[str]
) -> None:
    spec = bc.load_spec("default")
    cache = CompiledModelCache(maxsize=1)
    frames = [small_frame, without_a_worker(small_frame), small_frame]
    for frame in frames:
        design = make_design(spec, frame)
        model = build_model(design)
        cache.entry(
            model,
            var_names=stored_variables(model, design),
            initial_values=effect_initial_values(model, design),
        )
    assert (cache.compilations, cache.reuses, len(cache)) == (3, 0, 1)
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError, match="maxsize"):
        CompiledModelCache(maxsize=-1)


def test_a_model_with_ambiguous_shared_names_is_compiled_but_not_kept(
    stub_compile: list[str],
) -> None:
    import pymc as pm

    with pm.Model() as model:
        loc = pytensor.shared(np.float64(1.0), name="same")
        scale = pytensor.shared(np.float64(2.0), name="same")
        pm.Normal("x", loc, scale)
    cache = CompiledModelCache()
    for _ in range(2):
        entry, reused = cache.entry(model, var_names=["x"], initial_values={})
        assert not reused and entry.key is None
    assert (cache.compilations, len(cache)) == (2, 0)


def test_credential_model_uses_the_shared_cache_unless_told_otherwise() -> None:
    from bayescred.inference.compiled import shared_cache

    assert bc.CredentialModel().cache is shared_cache()
    assert bc.CredentialModel("default").cache is bc.CredentialModel("linear_fe").cache
    assert bc.CredentialModel(cache=False).cache is None
    mine = CompiledModelCache(maxsize=2)
    assert bc.CredentialModel(cache=mine).cache is mine


@pytest.mark.parametrize("name", ["default", "project_counts", "hurdle_earnings", "linear_fe"])
def test_shared_values_leave_the_log_density_unchanged(
    name: str, small_sim: SimulatedPanel
) -> None:
    """Log density and gradient with the shared values (data, dims, rows per worker, prior
    parameters) equal those of the same graph with every shared value a constant, to rounding."""
    model = build_model(make_design(bc.load_spec(name), small_sim.frame))
    shared = named_shared(model)
    assert {"prior_parameters", "y"} <= set(shared)
    logp = model.logp()
    outputs = [logp, *pt.grad(logp, model.value_vars)]
    frozen = [(v, pt.constant(v.get_value(), name=v.name)) for v in shared.values()]
    as_shared = pytensor.function(model.value_vars, outputs, on_unused_input="ignore")
    as_constants = pytensor.function(
        model.value_vars, outputs, givens=frozen, on_unused_input="ignore"
    )
    start = model.initial_point(0)
    rng = np.random.default_rng(1)
    for _ in range(4):
        point = [
            start[v.name] + rng.normal(0.0, 0.3, np.shape(start[v.name])) for v in model.value_vars
        ]
        a, b = as_shared(*point), as_constants(*point)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-13)
        for ga, gb in zip(a[1:], b[1:], strict=True):
            np.testing.assert_allclose(ga, gb, rtol=1e-11, atol=1e-11)


def test_refit_reuses_the_compiled_model_and_draws_as_a_fresh_fit(
    small_frame: pd.DataFrame, compile_calls: list[str]
) -> None:
    """(a) new outcomes of the same panel and (b) a new panel of the same shape reuse the model
    compiled for the first fit, and their draws equal those of fits compiled afresh with the
    same seed (posterior and sample stats exactly)."""
    outcomes = new_outcomes(small_frame, 1)
    panel = new_panel(small_frame, 2)
    assert not np.allclose(outcomes["log_project_value"], small_frame["log_project_value"])
    cache = CompiledModelCache()
    model = bc.CredentialModel("default", cache=cache)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        first = model.fit(small_frame, **FIT)
        assert len(compile_calls) == 1
        refits = {"outcomes": model.fit(outcomes, **FIT), "panel": model.fit(panel, **FIT)}
        assert len(compile_calls) == 1
        assert (cache.compilations, cache.reuses) == (1, 2)
        fresh = {
            "outcomes": bc.CredentialModel("default", cache=False).fit(outcomes, **FIT),
            "panel": bc.CredentialModel("default", cache=False).fit(panel, **FIT),
        }
    assert len(compile_calls) == 3
    assert not first.posterior["mu_beta"].equals(refits["outcomes"].posterior["mu_beta"])
    for name, refit in refits.items():
        again = fresh[name]
        assert sorted(refit.tree.children) == sorted(again.tree.children)
        for group in ("posterior", "sample_stats", "constant_data", "observed_data"):
            xr.testing.assert_equal(refit.tree[group].to_dataset(), again.tree[group].to_dataset())
        attrs = {k: v for k, v in refit.tree.attrs.items() if k != "sampling_wall_time_s"}
        assert attrs == {k: again.tree.attrs[k] for k in attrs}
    # the new panel's labels, not the first fit's
    posterior = refits["panel"].posterior
    assert list(posterior["group"].values) == ["east", "north", "south", "west"]
    assert int(posterior["period"].values.min()) > 100
    assert refits["panel"].tree["constant_data"]["worker"].values[0].startswith("q")


@pytest.mark.parametrize("name", ["default", "linear_fe"])
def test_log_density_is_the_one_of_constant_priors_up_to_a_constant(
    name: str, small_sim: SimulatedPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the priors as Python constants (the graph before they were shared values):
    PyTensor made a constant that float32 holds exactly (``sigma = 10``) a float32 constant
    and computed its log in float32, so the log densities differ by a constant (of the order
    of 1e-7), and the gradients only by rounding."""
    design = make_design(bc.load_spec(name), small_sim.frame)
    shared_model = build_model(design)
    monkeypatch.setattr(priors_module, "prior_parameter", lambda v, p, x: float(x))
    monkeypatch.setattr(terms_module, "prior_parameter", lambda v, p, x: float(x))
    constant_model = build_model(design)
    functions = []
    for model in (shared_model, constant_model):
        logp = model.logp()
        outputs = [logp, *pt.grad(logp, model.value_vars)]
        functions.append(pytensor.function(model.value_vars, outputs, on_unused_input="ignore"))
    start = shared_model.initial_point(0)
    names = [v.name for v in shared_model.value_vars]
    assert names == [v.name for v in constant_model.value_vars]
    rng = np.random.default_rng(2)
    offsets = []
    for _ in range(4):
        point = [start[n] + rng.normal(0.0, 0.3, np.shape(start[n])) for n in names]
        a, b = (f(*point) for f in functions)
        offsets.append(float(a[0] - b[0]))
        for ga, gb in zip(a[1:], b[1:], strict=True):
            np.testing.assert_allclose(ga, gb, rtol=1e-11, atol=1e-11)
    assert max(abs(o) for o in offsets) < 1e-5
    assert np.ptp(offsets) < 1e-9
