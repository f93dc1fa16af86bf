"""The fast Gaussian kernel gives the PyMC model's log density and gradient to 1e-9.

Each test builds the model twice from one design: with the likelihood as a PyTensor graph over
the rows (``BuildOptions(kernel=False)``) and with the kernel, as models are sampled (same free
variables), and compares ``model.compile_logp()`` and ``model.compile_dlogp()`` at random
points: for every bundled spec, for spec variants, and for toy terms defined here alone (a term
the kernel does not know enters it, so none can be left out of the sampled density). Most comparisons compile in PyTensor's Python mode
(seconds); one compiles both in the numba backend, the one nutpie samples with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr

import bayescred as bc
from bayescred.data.simulate import SimulatedPanel, simulate
from bayescred.maths.worker_likelihoods import worker_sums
from bayescred.model.build import build_model
from bayescred.model.design import ModelDesign
from bayescred.model.families import get_family
from bayescred.model.gaussian_kernel import (
    GaussianKernelData,
    WorkerSums,
    capacity,
    gaussian_worker_loglik,
    kernel_source,
)
from bayescred.model.make import make_design
from bayescred.model.predictor import WORKER_LOGLIK, BuildOptions
from bayescred.spec import PriorSpec
from bayescred.terms import BuiltTerm, KernelIndex, Rows, Term
from bayescred.terms.base import index_array

RTOL = 1e-9
# PyTensor's Python mode (seconds to compile); without elemwise fusion, which the Python mode
# cannot run beyond 32 operands
FAST_MODE = pytensor.compile.mode.get_mode("FAST_COMPILE").excluding("fusion")


@pytest.fixture(scope="module")
def sim() -> SimulatedPanel:
    """Paper preset, 120 workers x 8 periods."""
    return simulate("paper", seed=5, n_workers=120, n_periods=8)


def _design(sim: SimulatedPanel, **changes: Any) -> ModelDesign:
    return make_design(bc.ModelSpec().with_changes(**changes), sim.frame)


def _points(model: pm.Model, n: int, seed: int) -> list[dict[str, np.ndarray]]:
    """The initial point and ``n - 1`` random points around it (unconstrained scale)."""
    ip = model.initial_point()
    rng = np.random.default_rng(seed)
    points = [ip]
    for _ in range(n - 1):
        points.append({k: v + rng.normal(0.0, 0.7, size=np.shape(v)) for k, v in ip.items()})
    return points


def _reference(design: ModelDesign) -> pm.Model:
    """The model with its likelihood written as a graph over the rows."""
    return build_model(design, BuildOptions(kernel=False))


def _assert_same_density(design: ModelDesign, *, mode: str = FAST_MODE, n_points: int = 4) -> None:
    today = _reference(design)
    fast = build_model(design)  # the kernel, as models are built for sampling
    assert [v.name for v in fast.free_RVs] == [v.name for v in today.free_RVs]
    logp0, logp1 = today.compile_logp(mode=mode), fast.compile_logp(mode=mode)
    dlogp0, dlogp1 = today.compile_dlogp(mode=mode), fast.compile_dlogp(mode=mode)
    for point in _points(today, n_points, seed=11):
        a, b = float(logp0(point)), float(logp1(point))
        assert np.isfinite(a)
        assert b == pytest.approx(a, rel=RTOL)
        ga, gb = dlogp0(point), dlogp1(point)
        np.testing.assert_allclose(gb, ga, rtol=RTOL, atol=RTOL * float(np.max(np.abs(ga))))


def test_default_spec(sim: SimulatedPanel) -> None:
    _assert_same_density(_design(sim))


@pytest.mark.parametrize(
    "changes",
    [
        {"effect": {"curve": "linear"}},
        {"effect": {"curve": "quadratic", "modifier": "log_linear"}},
        {"effect": {"curve": "step"}},
        {"effect": {"modifier": "none"}},
        {"effect": {"pooling": {"beta": "partial", "lambda": "none", "gamma": "partial"}}},
        {"effect": {"pooling": {"beta": "complete", "lambda": "complete", "gamma": "none"}}},
        {"covariates": ["x1", "x2"]},
        {"period_effects": False},
        {"worker_effects": "random"},
        {"worker_effects": "correlated", "covariates": ["x1"]},
    ],
    ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()),
)
def test_spec_variants(sim: SimulatedPanel, changes: dict[str, Any]) -> None:
    _assert_same_density(_design(sim, **changes), n_points=3)


@pytest.mark.filterwarnings("error:Numba will use object mode")
def test_numba_backend_matches(sim: SimulatedPanel) -> None:
    """nutpie compiles with PyTensor's numba backend: the registered numba loop gives the same
    log density and gradient (one compiled function of both, against the reference model)."""
    design = _design(sim, covariates=["x1"])
    today = _reference(design)
    fast = build_model(design)
    logp = fast.logp()
    grads: Any = pt.grad(logp, fast.value_vars)
    grad = pt.concatenate([g.ravel() for g in grads])
    fn = fast.compile_fn([logp, grad], inputs=fast.value_vars, mode="NUMBA")
    logp0, dlogp0 = today.compile_logp(mode=FAST_MODE), today.compile_dlogp(mode=FAST_MODE)
    for point in _points(today, 2, seed=3):
        b, gb = fn(point)
        a, ga = float(logp0(point)), dlogp0(point)
        assert float(b) == pytest.approx(a, rel=RTOL)
        np.testing.assert_allclose(gb, ga, rtol=RTOL, atol=RTOL * float(np.max(np.abs(ga))))


@pytest.mark.parametrize("effects", ["within", "random"])
def test_per_worker_loglik_matches_the_deterministic(sim: SimulatedPanel, effects: str) -> None:
    design = _design(sim, worker_effects=effects)
    model = _reference(design)
    kernel = GaussianKernelData.from_design(design)
    named = model.named_vars
    extra = {}
    if effects == "random":
        extra = {"sigma_alpha": named["sigma_alpha"], "mu_alpha": named["mu_alpha"]}
    built = [
        BuiltTerm(term=t, mean=None, params={k: named[k] for k in t.variables()})
        for t in design.terms
    ]
    per_worker = gaussian_worker_loglik(
        kernel,
        built,
        sigma=named["sigma"],
        worker_effects=effects,
        per_worker=True,
        **extra,
    )
    outs = model.replace_rvs_by_values([named[WORKER_LOGLIK], per_worker])
    fn = model.compile_fn(outs, inputs=model.value_vars, mode=FAST_MODE, on_unused_input="ignore")
    for point in _points(model, 3, seed=2):
        today, fast = fn(point)
        assert fast.shape == (design.panel.n_workers,)
        np.testing.assert_allclose(fast, today, rtol=RTOL, atol=RTOL * np.max(np.abs(today)))


def test_worker_sums_and_their_gradient_by_hand() -> None:
    """``WorkerSums`` against numpy on a ragged panel; its gradient against finite differences."""
    rng = np.random.default_rng(0)
    t_i = rng.integers(1, 7, size=9)
    codes = np.repeat(np.arange(t_i.size), t_i)
    n = codes.size
    E, M = rng.normal(size=3), rng.uniform(0.5, 2.0, size=4)
    tau, delta = rng.normal(size=5), rng.normal(size=2)
    k1, k2 = rng.integers(0, 3, size=n), rng.integers(0, 4, size=n)
    t = rng.integers(0, 5, size=n)
    X = rng.normal(size=(n, 2))
    y = rng.normal(size=n) + 30.0 * rng.normal(size=t_i.size)[codes]  # big worker offsets
    start = np.concatenate([[0], np.cumsum(t_i)])
    d = y - (E[k1] * M[k2] + tau[t] + X @ delta)
    mean, ssw = worker_sums(np, d, codes, t_i.astype(float))
    data = [y, k1.astype(np.int32), k2.astype(np.int32), t.astype(np.int32), X, start]

    params = [pt.dvector(name) for name in ("E", "M", "tau", "delta")]
    layout = (("product", 2), ("product", 1), ("dense", 2))
    sums: Any = WorkerSums(layout)(*params, *data)
    dsum_v, ssw_v = sums
    w1, w2 = rng.normal(size=t_i.size), rng.normal(size=t_i.size)
    objective = (w1 * dsum_v).sum() + (w2 * ssw_v).sum()
    param_grads: Any = pt.grad(objective, params)
    fn = pytensor.function(params, [dsum_v, ssw_v, objective, *param_grads])
    got_dsum, got_ssw, _, *grads = fn(E, M, tau, delta)
    np.testing.assert_allclose(got_dsum, mean * t_i, rtol=1e-12)
    np.testing.assert_allclose(got_ssw, ssw, rtol=1e-10)
    values = [E, M, tau, delta]
    for j, g in enumerate(grads):
        for k in range(values[j].size):
            h = 1e-6
            plus = [v.copy() for v in values]
            minus = [v.copy() for v in values]
            plus[j][k] += h
            minus[j][k] -= h
            numeric = (fn(*plus)[2] - fn(*minus)[2]) / (2 * h)
            assert g[k] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_tables_are_small_and_rows_sorted_by_worker(sim: SimulatedPanel) -> None:
    design = _design(sim)
    kernel = GaussianKernelData.from_design(design)
    p = design.panel
    assert [t.key for t in kernel.terms] == ["credential", "period"]
    assert kernel.layout == (("product", 2), ("product", 1))
    credential = kernel.indices[0]
    curve_idx, modifier_idx = credential.index
    n_capacity = credential.sizes["n_capacity"]
    modifier_z = credential.constants["modifier_z"]
    n_max = int(p.credentials.max())
    # the curve table is the dense grid groups x counts, rounded up to a power of two
    assert n_capacity == capacity(n_max + 1)
    assert n_capacity < 2 * (n_max + 1) or n_capacity == 8
    rows = kernel.order
    np.testing.assert_array_equal(curve_idx, p.group_codes[rows] * n_capacity + p.credentials[rows])
    # the modifier table: the distinct track records, then zero padding nothing points at
    distinct = np.unique(design.z)
    assert modifier_z.size == capacity(distinct.size, minimum=1) < 2 * distinct.size
    np.testing.assert_array_equal(modifier_z[: distinct.size], distinct)
    np.testing.assert_array_equal(modifier_z[modifier_idx], design.z[rows])
    assert int(modifier_idx.max()) == distinct.size - 1
    # the period table is tau itself, indexed by each row's period
    np.testing.assert_array_equal(kernel.indices[1].index[0], p.period_codes[rows])
    assert np.all(np.diff(p.worker_codes[kernel.order]) >= 0)
    assert np.array_equal(np.diff(kernel.start), p.periods_per_worker())


@pytest.mark.parametrize(("n", "expected"), [(0, 8), (1, 8), (8, 8), (9, 16), (1000, 1024)])
def test_capacity_is_the_next_power_of_two(n: int, expected: int) -> None:
    assert capacity(n) == expected
    assert capacity(n, minimum=1) == max(1, 1 << (max(n, 1) - 1).bit_length())


def test_panels_of_the_same_shape_share_the_graph(sim: SimulatedPanel) -> None:
    """A panel of the same shape with other outcomes, track records and credential counts gives
    a kernel graph equal up to shared values: the compile cache's key
    (:func:`bayescred.inference.compiled.model_key`) is the same, and the panel's values reach
    the kernel through its shared variables."""
    from bayescred.inference.compiled import model_key, named_shared

    first = sim.frame
    second = first.copy()
    rng = np.random.default_rng(0)
    second["log_project_value"] += rng.normal(0.0, 0.1, len(second))
    second["track_record"] = second["track_record"] * 2 + 1
    second["credentials"] = np.maximum(second["credentials"] - 1, 0)
    models = [build_model(make_design(bc.ModelSpec(), frame)) for frame in (first, second)]
    keys = [model_key(m, var_names=["mu_beta"]) for m in models]
    assert keys[0] == keys[1]
    values = [named_shared(m)["gaussian_kernel_credential0_modifier_z"].get_value() for m in models]
    assert not np.array_equal(values[0], values[1])


@pytest.mark.parametrize("name", sorted(p.stem for p in bc.spec.models_dir().glob("*.toml")))
def test_every_bundled_spec_has_the_graphs_density(sim: SimulatedPanel, name: str) -> None:
    """The sampled density of every bundled spec (each part's terms through the kernel where
    the part is Gaussian) equals the graph over the rows to 1e-9."""
    spec = bc.load_spec(name)
    # a two-part model's graph has elementwise ops of more operands than the Python mode runs
    mode = "FAST_RUN" if get_family(spec.outcome.likelihood).margins else FAST_MODE
    _assert_same_density(make_design(spec, sim.frame), mode=mode, n_points=2)


class SineTerm(Term):
    """``theta * sin(n)``: a term the kernel knows nothing of (no kernel form)."""

    key = "sine"
    section = "toy"
    parameters: ClassVar[Mapping[str, str]] = {"theta": "the toy's coefficient"}
    summaries: ClassVar[Mapping[str, str]] = {}
    columns = ("credentials",)

    def default_priors(self, *, scale: float, covariate_sds: np.ndarray) -> dict[str, Any]:
        return {"theta": {"dist": "normal", "mu": 0.0, "sigma": 1.0}}

    def build(self, ctx: Any) -> BuiltTerm:
        theta = ctx.prior("theta")
        return BuiltTerm(self, theta * pt.sin(ctx.data["credentials"]), {"theta": theta})

    def variables(self) -> tuple[str, ...]:
        return ("theta",)

    def evaluate(self, params: Mapping[str, np.ndarray], rows: Rows) -> np.ndarray:
        return np.asarray(params["theta"][:, None] * np.sin(rows.credentials))


class ParityTerm(SineTerm):
    """``parity[t mod 2]``: a toy term with a one-table kernel form."""

    key = "parity"

    def build(self, ctx: Any) -> BuiltTerm:
        parity = pm.Normal(ctx.name("parity"), 0.0, 1.0, shape=2)
        return BuiltTerm(self, parity[ctx.data["period_idx"] % 2], {"parity": parity})

    def variables(self) -> tuple[str, ...]:
        return ("parity",)

    def evaluate(self, params: Mapping[str, np.ndarray], rows: Rows) -> np.ndarray:
        return np.asarray(params["parity"][:, rows.period % 2])

    def kernel_index(self, rows: Rows) -> KernelIndex:
        return KernelIndex(index=(index_array(rows.period % 2, 2),))

    def kernel_tables(self, index: KernelIndex, built: BuiltTerm, constant: Any) -> tuple[Any, ...]:
        return (built.params["parity"],)


def _with_toys(design: ModelDesign) -> ModelDesign:
    theta = PriorSpec(dist="normal", mu=0.0, sigma=1.0)
    return replace(
        design,
        terms=(*design.terms, SineTerm(), ParityTerm()),
        priors={**design.priors, "theta": theta},
    )


@pytest.mark.parametrize("effects", ["within", "random"])
def test_a_new_term_enters_the_sampled_density(sim: SimulatedPanel, effects: str) -> None:
    """Terms defined here alone, added to a design, enter both the graph and the kernel: one by
    its per-row values, one by its own table. Were the kernel to drop either, its density would
    differ from the graph's and the comparison would fail."""
    design = _with_toys(_design(sim, worker_effects=effects, covariates=["x1"]))
    kernel = GaussianKernelData.from_design(design)
    assert kernel.layout == (
        ("product", 2),
        ("product", 1),
        ("dense", 1),
        ("product", 1),
        ("product", 1),
    )
    assert kernel.row_valued == (False, False, False, True, False)
    _assert_same_density(design, n_points=3)
    # and the toy terms move the density (they are not zero by construction)
    model = build_model(design)
    logp = model.compile_logp(mode=FAST_MODE)
    point = model.initial_point()
    moved = {**point, "theta": np.asarray(0.8), "parity": np.array([0.3, -0.2])}
    assert float(logp(moved)) != pytest.approx(float(logp(point)), rel=1e-6)


def test_the_numpy_predictor_sums_every_term(sim: SimulatedPanel) -> None:
    """``mean_without_intercepts`` (effects, checks, LOO) evaluates each term's NumPy form: on
    prior draws of a design with the toy terms it equals the PyMC model's own sum of terms."""
    from bayescred.analysis.predictor import mean_without_intercepts
    from bayescred.model.parts import PLAIN
    from bayescred.model.predictor import PLAIN_FORM, linear_predictor

    design = _with_toys(_design(sim, covariates=["x1", "x2"]))
    with pm.Model(coords=build_model(design, PLAIN_FORM).coords):
        predictor = linear_predictor(
            design, PLAIN, pilot=lambda: None, noncentred_period_effects=False, options=PLAIN_FORM
        )
        names = [v for t in design.terms for v in t.variables()]
        drawn = pm.draw([predictor.mean, *(pm.modelcontext(None)[n] for n in names)], 4, 1)
    posterior = xr.Dataset(
        {
            n: (("chain", "draw", *[f"{n}_{k}" for k in range(v.ndim - 1)]), v[None])
            for n, v in zip(names, drawn[1:], strict=True)
        }
    )
    posterior = posterior.rename({"beta_group_0": "group", "gamma_group_0": "group"}).rename(
        {"gamma_group_1": "gamma_term"}
    )
    got = mean_without_intercepts(posterior, design, np.arange(4), slice(None))
    np.testing.assert_allclose(got, drawn[0], rtol=1e-10, atol=1e-12)


def test_the_generated_loop_adds_the_terms_in_order() -> None:
    """The loop for today's default layout computes the mean as the hand-written loop did
    (``E[k1] * M[k2]``, then ``+ tau[t]``, then the covariates), so the draws did not move."""
    source = kernel_source((("product", 2), ("product", 1), ("dense", 3)))
    assert "    m = P0_0[I0_0[r]] * P0_1[I0_1[r]]\n    m += P1_0[I1_0[r]]\n" in source
    assert "for c in range(3):\n        m += X2[r, c] * D2[c]" in source
    assert "G0_0[I0_0[r]] += gm * P0_1[I0_1[r]]" in source


def test_built_terms_must_be_the_designs(sim: SimulatedPanel) -> None:
    design = _design(sim)
    kernel = GaussianKernelData.from_design(design)
    with pytest.raises(ValueError, match="terms"):
        kernel.tables([])
    other = [BuiltTerm(term=SineTerm(), mean=None, params={}) for _ in design.terms]
    with pytest.raises(ValueError, match="built term 0"):
        kernel.tables(other)
