"""Benchmark: one log density + gradient evaluation of the default model, per used row.

Builds the default model on the paper preset at 10k, 100k and 1M input rows (500, 5,000 and
50,000 workers x 20 periods; about half the rows have a project value and are used), compiles its
log density and gradient and times many evaluations at one fixed point. Backends:

* ``nutpie``: exactly what ``pm.sample(nuts_sampler="nutpie")`` runs: ``nutpie.compile_pymc_model``
  (PyTensor's numba backend, the graph ``model.logp()`` rewritten with canonicalize/stabilize and
  its gradient with respect to one flat parameter vector), called through its C callback from a
  compiled loop (no Python per call);
* ``numba``: the same graph compiled by PyTensor in ``NUMBA`` mode, called from Python;
* ``c``: the same graph compiled by PyTensor's C backend (``CVM`` mode), called from Python.

The model is built as it is sampled: its likelihood is the fused kernel of
:mod:`bayescred.model.gaussian_kernel`. With ``--graph`` each backend is also timed on the same
model with its likelihood written as a PyTensor graph over the rows (same free variables; log
density checked equal to 1e-9 at the timed point).

With ``--fit`` it then fits the default spec on the paper preset at 50,000 workers x 20 periods
(1M input rows) with 2 chains and the spec's own draws, and prints the wall time (compilation
included), divergences, the largest R-hat, the smallest bulk and tail ESS over the population
parameters, the peak memory of the process and the average effect against the truth
(minutes: ``make bench BENCH_ARGS=--fit``).

With ``--dynamics L K`` the default spec gains ``[dynamics] leads = L, lags = K`` (event-time
effects, ``docs/design.md`` section 3.8): the gradient is timed for the static and the dynamic
model, and ``--fit`` fits both and prints the ratio of their wall times (``make bench-dynamics``:
``--dynamics 3 6 --sizes 1M --fit``).

With ``--types N`` the panel is the types preset with ``N`` credential types and the default
spec is timed without and with ``[credential_types] match = true`` (``docs/design.md`` 3.9) on
the same panel; ``--fit`` fits both and prints the ratio of their wall times (``make bench``
times the gradient at 1M rows and 200 types, ``make bench-types`` also the fits).

Run: ``make bench`` or
``PYTHONPATH=. .venv/bin/python benchmarks/bench_gradient.py [--sizes 10k 100k 1M] [--graph]
[--fit] [--fit-workers 50000]``.
"""

from __future__ import annotations

import argparse
import ctypes
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph import clone_replace, rewrite_graph

import bayescred as bc
from bayescred.data.simulate import simulate
from bayescred.model.build import build_model
from bayescred.model.design import ModelDesign
from bayescred.model.make import make_design
from bayescred.model.predictor import BuildOptions

N_PERIODS = 20
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
BACKENDS = ("nutpie", "numba", "c")


def parse_size(text: str) -> int:
    """``10k``, ``1M`` or a plain number of input rows."""
    if text in SIZES:
        return SIZES[text]
    mult = {"k": 1_000, "K": 1_000, "m": 1_000_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if mult > 1 else text) * mult)


def make_point(model: pm.Model, seed: int = 0) -> np.ndarray:
    """A fixed point on the sampler's (unconstrained) scale: initial point plus N(0, 0.3)."""
    ip = model.initial_point()
    rng = np.random.default_rng(seed)
    parts = []
    for rv in model.free_RVs:
        v = np.asarray(ip[model.rvs_to_values[rv].name], dtype=float).ravel()
        parts.append(v + rng.normal(0.0, 0.3, size=v.shape))
    return np.concatenate(parts)


def logp_dlogp_graph(model: pm.Model) -> tuple[Any, Any, Any]:
    """``(x, logp, grad)`` over one flat vector ``x``, built the way nutpie builds it."""
    value_vars = [model.rvs_to_values[rv] for rv in model.free_RVs]
    logp: Any = rewrite_graph(model.logp(), include=["canonicalize", "stabilize"])
    grads: Any = pt.grad(logp, value_vars)
    grad = pt.concatenate([pt.as_tensor(g).ravel() for g in grads])
    shapes = [tuple(np.shape(model.initial_point()[v.name])) for v in value_vars]
    sizes = [int(np.prod(s)) for s in shapes]
    x = pt.dvector("x")
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    repl = {
        v: x[int(a) : int(b)].reshape(s).astype(v.dtype)
        for v, s, a, b in zip(value_vars, shapes, offsets[:-1], offsets[1:], strict=True)
    }
    logp, grad = clone_replace([logp, grad], repl)
    return x, logp, grad


def pytensor_evaluator(model: pm.Model, mode: str) -> Callable[[np.ndarray], tuple[float, Any]]:
    """The compiled ``(logp, grad)`` function in PyTensor ``mode``, called from Python."""
    x, logp, grad = logp_dlogp_graph(model)
    with model:
        fn = pm.pytensorf.compile([x], [logp, grad], mode=mode)
    fn.trust_input = True
    return lambda v: fn(v)


def nutpie_evaluator(model: pm.Model) -> tuple[Callable[[np.ndarray], float], Callable[..., Any]]:
    """nutpie's compiled C callback, and a compiled loop that calls it ``n`` times."""
    import numba
    import nutpie

    compiled = nutpie.compile_pymc_model(model)
    cfunc = compiled.compiled_logp_func
    n_dim = compiled.n_dim
    user_data = compiled.user_data
    proto = ctypes.CFUNCTYPE(
        ctypes.c_int64,
        ctypes.c_uint64,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
    )
    fptr = proto(cfunc.address)
    ud = user_data.ctypes.data

    @numba.njit
    def loop(n: int, x: np.ndarray, out: np.ndarray, logp: np.ndarray) -> int:
        rc = 0
        for _ in range(n):
            rc |= fptr(n_dim, x.ctypes.data, out.ctypes.data, logp.ctypes.data, ud)
        return rc

    def once(x: np.ndarray) -> float:
        out = np.empty(n_dim)
        logp = np.empty(())
        rc = loop(1, x, out, logp)
        if rc != 0:
            raise RuntimeError(f"nutpie's logp function returned error code {rc}")
        return float(logp)

    def run(n: int, x: np.ndarray) -> None:
        out = np.empty(n_dim)
        logp = np.empty(())
        loop(n, x, out, logp)

    # keep the compiled model alive with the loop
    run.compiled = compiled  # type: ignore[attr-defined]
    return once, run


def make_batch(model: pm.Model, backend: str, x: np.ndarray) -> Callable[[int], float]:
    """Compile ``model`` for ``backend``; the result evaluates at ``x`` ``n`` times and returns
    the log density."""
    if backend == "nutpie":
        once, run = nutpie_evaluator(model)

        def nutpie_batch(n: int) -> float:
            if n > 1:
                run(n - 1, x)
            return once(x)

        return nutpie_batch
    f = pytensor_evaluator(model, "NUMBA" if backend == "numba" else "CVM")

    def pytensor_batch(n: int) -> float:
        for _ in range(n - 1):
            f(x)
        return float(f(x)[0])

    return pytensor_batch


def time_calls(run: Callable[[int], Any], repeats: int, min_time: float) -> tuple[float, float]:
    """Median and minimum seconds per call over ``repeats`` batches of at least ``min_time``
    seconds each (the machine may be shared: the minimum is the least disturbed batch)."""
    run(1)
    n = 1
    while True:
        t0 = time.perf_counter()
        run(n)
        dt = time.perf_counter() - t0
        if dt >= min_time / 4 or n >= 1 << 20:
            break
        n *= 4
    n = max(1, int(n * min_time / max(dt, 1e-9)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(n)
        times.append((time.perf_counter() - t0) / n)
    return float(np.median(times)), float(np.min(times))


def bench_spec(dynamics: tuple[int, int] | None = None, typed: bool = False) -> bc.ModelSpec:
    """The default spec, with ``[dynamics] leads, lags = dynamics`` when given, with
    ``[credential_types] match = true`` when ``typed``."""
    spec = bc.load_spec("default")
    if typed:
        return spec.with_changes(credential_types={"match": True})
    if dynamics is None:
        return spec
    return spec.with_changes(dynamics={"leads": dynamics[0], "lags": dynamics[1]})


def bench_panel(n_workers: int, seed: int, n_types: int | None) -> Any:
    """The paper preset (with ``n_types`` credential types when given: the types preset)."""
    if n_types is None:
        return simulate("paper", seed=seed, n_workers=n_workers, n_periods=N_PERIODS)
    from bayescred.data.presets import TypeSettings

    return simulate(
        "types",
        seed=seed,
        n_workers=n_workers,
        n_periods=N_PERIODS,
        types=TypeSettings(n_types=n_types),
    )


def design_for(
    input_rows: int,
    seed: int,
    dynamics: tuple[int, int] | None = None,
    n_types: int | None = None,
    typed: bool = False,
) -> tuple[ModelDesign, int]:
    """The default spec's design on the paper preset with about ``input_rows`` input rows (on
    the types preset with ``n_types``; the typed spec when ``typed``)."""
    n_workers = max(1, input_rows // N_PERIODS)
    sim = bench_panel(n_workers, seed, n_types)
    extra = (
        {} if n_types is None else {"events": sim.events, "credential_types": sim.credential_types}
    )
    return make_design(bench_spec(dynamics, typed), sim.frame, **extra), n_workers * N_PERIODS


def bench_size(
    input_rows: int,
    *,
    backends: tuple[str, ...],
    graph: bool,
    repeats: int,
    min_time: float,
    dynamics: tuple[int, int] | None = None,
    n_types: int | None = None,
    typed: bool = False,
) -> list[tuple[int, int, str, str, float, float]]:
    design, rows_in = design_for(
        input_rows, seed=1, dynamics=dynamics, n_types=n_types, typed=typed
    )
    rows_used = design.panel.n_rows
    if typed:
        sizes = design.credential_term.kernel_index(design.rows()).sizes
        print(f"  [credential_types] {n_types} types: {sizes['signatures']:,d} type signatures")
    if dynamics is not None:
        sig = design.credential_term.kernel_index(design.rows()).sizes["signatures"]
        print(f"  [dynamics] leads = {dynamics[0]}, lags = {dynamics[1]}: {sig:,d} signatures")
    variants = [("kernel", build_model(design))]  # the model as it is sampled
    if graph:
        variants.append(("graph", build_model(design, BuildOptions(kernel=False))))
    x = make_point(variants[0][1])
    results = []
    reference: float | None = None
    for label, model in variants:
        for backend in backends:
            t0 = time.perf_counter()
            batch = make_batch(model, backend, x)
            value = batch(1)

            compile_s = time.perf_counter() - t0
            if reference is None:
                reference = value
            elif abs(value - reference) > 1e-9 * abs(reference):
                raise AssertionError(
                    f"{label}/{backend}: log density {value!r} differs from {reference!r}"
                )
            sec, best = time_calls(batch, repeats, min_time)
            results.append((rows_in, rows_used, label, backend, sec, best))
            print(
                f"{rows_in:>9,d} {rows_used:>9,d}  {label:<7} {backend:<7} "
                f"{sec * 1e6:>10.1f} {sec * 1e9 / rows_used:>8.1f} {best * 1e9 / rows_used:>8.1f}"
                f"   (compile {compile_s:.0f} s)",
                flush=True,
            )
    return results


def fit_run(
    n_workers: int,
    seed: int,
    dynamics: tuple[int, int] | None = None,
    n_types: int | None = None,
    typed: bool = False,
) -> float:
    """Fit the default spec (2 chains, the spec's draws) on a paper-preset panel (types preset
    with ``n_types``; the typed spec when ``typed``) and print the figures of the issue's
    million-row criterion; returns the wall time."""
    import resource

    from bayescred.analysis.summary import group_level

    sim = bench_panel(n_workers, seed, n_types)
    spec = bench_spec(dynamics, typed)
    extra = (
        {} if n_types is None else {"events": sim.events, "credential_types": sim.credential_types}
    )
    start = time.perf_counter()
    fit = bc.CredentialModel(spec).fit(
        sim.frame, chains=2, random_seed=seed, progressbar=False, **extra
    )
    wall = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    table = fit.summary()
    population = table[~group_level(table)]
    divergences = int(fit.tree["sample_stats"]["diverging"].sum())
    used = ~np.isnan(sim.frame["log_project_value"].to_numpy())
    avg = fit.average_effect().table
    print(
        f"fit: {n_workers:,d} workers x {N_PERIODS} periods ({fit.design.panel.n_rows:,d} rows "
        f"used), 2 chains x {spec.sampling.draws} draws (+{spec.sampling.tune} tuning)\n"
        f"  wall {wall:.0f} s (compilation and pilot included; compile + sampling "
        f"{float(fit.tree.attrs['sampling_wall_time_s']):.0f} s), peak memory {peak_gb:.2f} GB\n"
        f"  divergences {divergences}, max R-hat {population['r_hat'].max():.3f}, "
        f"min bulk ESS {population['ess_bulk'].min():.0f}, "
        f"min tail ESS {population['ess_tail'].min():.0f} over {len(population)} population "
        f"parameters (slowest: {population.sort_values('ess_bulk')['parameter'].iloc[0]})\n"
        f"  average next-credential effect {float(avg['mean'].iloc[0]):.4f} "
        f"(truth {float(sim.next_effect[used].mean()):.4f}); verdict: {fit.verdict}"
        + (
            ""
            if dynamics is None
            else f"\n  [dynamics] leads = {dynamics[0]}, lags = {dynamics[1]}"
        )
        + (f"\n  [credential_types] match = true, {n_types} types" if typed else ""),
        flush=True,
    )
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["10k", "100k", "1M"], help="input rows: 10k 100k 1M or N"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed batches per measurement")
    parser.add_argument(
        "--min-time", type=float, default=0.3, help="seconds per timed batch (at least)"
    )
    parser.add_argument(
        "--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS, help="backends to time"
    )
    parser.add_argument(
        "--graph",
        action="store_true",
        help="also time the likelihood written as a graph over the rows (the reference)",
    )
    parser.add_argument(
        "--fit", action="store_true", help="then fit the default spec on 1M input rows"
    )
    parser.add_argument("--fit-workers", type=int, default=50_000, help="workers of that fit")
    parser.add_argument("--skip-gradient", action="store_true", help="only the --fit run")
    parser.add_argument(
        "--dynamics",
        nargs=2,
        type=int,
        metavar=("LEADS", "LAGS"),
        help="also time (and fit) the default spec with [dynamics] leads and lags",
    )
    parser.add_argument(
        "--types",
        type=int,
        metavar="N",
        help=(
            "time (and fit) the default spec and the spec with [credential_types] on the types "
            "preset with N credential types"
        ),
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    print(
        f"{'rows in':>9} {'rows used':>9}  {'graph':<7} {'backend':<7} "
        f"{'us/eval':>10} {'ns/row':>8} {'min':>8}   "
        f"(per evaluation and per used row: median and minimum of {args.repeats} batches)"
    )
    dynamics = None if args.dynamics is None else (args.dynamics[0], args.dynamics[1])
    if args.types is not None:
        for size in [] if args.skip_gradient else args.sizes:
            for typed in (False, True):
                bench_size(
                    parse_size(size),
                    backends=tuple(args.backends),
                    graph=args.graph,
                    repeats=args.repeats,
                    min_time=args.min_time,
                    n_types=args.types,
                    typed=typed,
                )
        if args.fit:
            walls = [
                fit_run(args.fit_workers, seed=1, n_types=args.types, typed=typed)
                for typed in (False, True)
            ]
            print(
                f"typed / static fit wall time on the same panel: {walls[1] / walls[0]:.2f} "
                f"({walls[1]:.0f} s / {walls[0]:.0f} s)",
                flush=True,
            )
        return
    variants = [None] if dynamics is None else [None, dynamics]
    for size in [] if args.skip_gradient else args.sizes:
        for variant in variants:
            bench_size(
                parse_size(size),
                backends=tuple(args.backends),
                graph=args.graph,
                repeats=args.repeats,
                min_time=args.min_time,
                dynamics=variant,
            )
    if args.fit:
        walls = [fit_run(args.fit_workers, seed=1, dynamics=variant) for variant in variants]
        if dynamics is not None:
            print(
                f"dynamic / static fit wall time: {walls[1] / walls[0]:.2f} "
                f"({walls[1]:.0f} s / {walls[0]:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
