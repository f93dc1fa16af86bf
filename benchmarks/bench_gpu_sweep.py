"""Benchmark: the JAX route on one accelerator, 10k to 10M input rows, in under 8 minutes.

For each size it simulates a paper-preset panel (20 periods; about half the rows have a project
value and are used), builds the default spec's model and prints one table row per sampler:

* ``compile``: seconds to jit the log density and gradient (JAX's ``value_and_grad`` of the
  model's PyTensor log density, data passed as device arrays, as ``nutpie-jax`` runs it) and
  run it once, on JAX's default device (printed first: ``gpu: NVIDIA H200 x 1`` on a GPU box);
* ``eval``: one log density + gradient evaluation, waited for (``block_until_ready``), in
  microseconds and in nanoseconds per used row (median of ``--repeats`` timed batches);
* a short sampling run of each ``--samplers`` (``numpyro``: the NUTS loop on the device, chains
  vectorized on one accelerator; ``nutpie-jax``: nutpie on the host, one device call per
  gradient): wall seconds (NumPyro's include its jit), mean leapfrog steps per draw, the
  smallest bulk ESS over the population parameters and that ESS per second of wall time.

At the first size the JAX log density is checked against PyTensor's own compiled log density
(relative difference below 1e-9). ``--max-seconds`` bounds the whole run: a size is skipped,
with a message, when its setup (host work scaled by rows from the last size, plus the last
jit time) would end past the budget, and a sampler when its run (its wall time at the last
size scaled by the ratio of evaluation times) would; a size whose panel would not fit in the
host's available memory is skipped likewise.

GPU box (CUDA 12)::

    pip install -e ".[jax]" "jax[cuda12]"
    make bench-gpu          # = python benchmarks/bench_gpu_sweep.py (10k 100k 1M 10M, 450 s)

CPU smoke test (seconds): ``PYTHONPATH=. .venv/bin/python benchmarks/bench_gpu_sweep.py
--smoke``. Other options: ``--sizes 10k 1M``, ``--samplers numpyro nutpie-jax``, ``--chains``,
``--draws``, ``--tune``, ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from arviz_stats import ess
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph import Variable, clone_replace, graph_inputs

import bayescred as bc
from bayescred.data.simulate import simulate
from bayescred.inference.jax_sampling import jax_device
from bayescred.inference.sampling import run_sampler
from bayescred.model.build import build_model
from bayescred.model.design import ModelDesign
from bayescred.model.make import make_design
from bayescred.model.predictor import BuildOptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_gradient import make_point, parse_size, time_calls

N_PERIODS = 20
SIZES = ("10k", "100k", "1M", "10M")
SAMPLERS = ("numpyro", "nutpie-jax")
#: Population parameters whose smallest bulk ESS is reported.
POPULATION = ("mu_beta", "sigma_beta", "lambda", "sigma_log_lambda", "gamma", "sigma", "sigma_tau")
#: Peak host memory per input row while simulating and building (measured: 0.5 GB at 1M rows,
#: with headroom).
BYTES_PER_ROW = 1_500
#: Settings of the full sweep and of ``--smoke`` (each option given on the command line wins).
FULL: dict[str, Any] = {
    "sizes": list(SIZES),
    "samplers": ["numpyro"],
    "chains": 4,
    "draws": 200,
    "tune": 200,
    "repeats": 5,
    "min_time": 0.3,
}
SMOKE: dict[str, Any] = {
    "sizes": ["2k"],
    "samplers": list(SAMPLERS),
    "chains": 2,
    "draws": 30,
    "tune": 30,
    "repeats": 2,
    "min_time": 0.05,
}


@dataclass
class SizeTimes:
    """What one size took: host work (simulate, design, model), the log density's jit, one
    evaluation, and each sampler's wall time."""

    rows: int
    host: float = 0.0
    compile: float = 0.0
    eval: float = 0.0
    sampling: dict[str, float] = field(default_factory=dict)

    def predict_setup(self, rows: int) -> float:
        """Seconds to simulate, build, jit and time a size of ``rows`` input rows: the host
        work scaled by rows (it is linear in them), the jit as measured."""
        return self.host * rows / self.rows + self.compile

    def predict_sampling(self, sampler: str, eval_seconds: float) -> float:
        """Seconds ``sampler`` will take where one evaluation takes ``eval_seconds``: this
        size's wall time scaled by the ratio of evaluation times (never below 1)."""
        return self.sampling[sampler] * max(1.0, eval_seconds / self.eval)


def available_memory() -> float:
    """Bytes of host memory available now (``MemAvailable``), or infinity if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float("inf")


def design_for(input_rows: int, seed: int) -> ModelDesign:
    """The default spec's design on the paper preset with about ``input_rows`` input rows."""
    n_workers = max(1, input_rows // N_PERIODS)
    sim = simulate("paper", seed=seed, n_workers=n_workers, n_periods=N_PERIODS)
    return make_design(bc.load_spec("default"), sim.frame)


def jax_logp_grad(model: pm.Model) -> tuple[Callable[..., Any], list[Any], Callable[..., Any]]:
    """``(f, data, flat_logp)``: ``f(x, *data)`` is the jitted ``(logp, grad)`` over one flat
    vector ``x`` on the unconstrained scale, with the model's data as device arrays ``data``;
    ``flat_logp`` is PyTensor's own compiled log density of ``x`` (for the check)."""
    import jax
    from pymc.sampling.jax import get_jaxified_graph

    value_vars = [model.rvs_to_values[rv] for rv in model.free_RVs]
    ip = model.initial_point()
    shapes = [tuple(np.shape(ip[v.name])) for v in value_vars]
    offsets = np.concatenate([[0], np.cumsum([int(np.prod(s)) for s in shapes])])
    x = pt.dvector("x")
    logp = clone_replace(
        model.logp(),
        {
            v: x[int(a) : int(b)].reshape(s).astype(v.dtype)
            for v, s, a, b in zip(value_vars, shapes, offsets[:-1], offsets[1:], strict=True)
        },
    )
    shared = [v for v in graph_inputs([logp]) if isinstance(v, SharedVariable)]
    inputs: dict[Variable, Any] = {s: s.type(name=s.name) for s in shared}
    fn = get_jaxified_graph(inputs=[x, *inputs.values()], outputs=[clone_replace(logp, inputs)])
    f = jax.jit(jax.value_and_grad(lambda v, *d: fn(v, *d)[0]))
    data = [jax.device_put(np.asarray(s.get_value(borrow=True))) for s in shared]
    flat = pytensor.function([x], logp)
    return f, data, flat


def population_ess(tree: Any) -> float:
    """Smallest bulk ESS over the population parameters in ``tree``'s posterior."""
    post = tree["posterior"].to_dataset()
    names = [n for n in POPULATION if n in post]
    values = ess(post[names], method="bulk")
    return float(min(np.min(values[n].values) for n in names))


def bench_size(
    input_rows: int,
    *,
    last: SizeTimes | None,
    deadline: float,
    samplers: Sequence[str],
    chains: int,
    draws: int,
    tune: int,
    repeats: int,
    min_time: float,
    check: bool,
) -> SizeTimes:
    """Time one size, print its rows; a sampler predicted to end after ``deadline``
    (``time.perf_counter()`` seconds) from ``last``'s times is skipped."""
    import jax

    times = SizeTimes(rows=input_rows)
    t0 = time.perf_counter()
    design = design_for(input_rows, seed=1)
    # the JAX log density: the likelihood as a graph (no numba loop)
    model = build_model(design, BuildOptions(kernel=False))
    rows_used = design.panel.n_rows
    times.host = time.perf_counter() - t0

    t0 = time.perf_counter()
    f, data, flat = jax_logp_grad(model)
    x = make_point(model)
    xd = jax.device_put(x)
    value, _ = jax.block_until_ready(f(xd, *data))
    times.compile = time.perf_counter() - t0
    if check:
        reference = float(flat(x))
        if abs(float(value) - reference) > 1e-9 * abs(reference):
            raise AssertionError(f"JAX log density {float(value)!r} != PyTensor's {reference!r}")

    def batch(n: int) -> None:
        for _ in range(n):
            jax.block_until_ready(f(xd, *data))

    times.eval, _ = time_calls(batch, repeats, min_time)
    head = (
        f"{input_rows:>10,d} {rows_used:>10,d} {times.compile:>8.1f} {times.eval * 1e6:>10.1f} "
        f"{times.eval * 1e9 / rows_used:>7.2f}"
    )
    if not samplers:
        print(head, flush=True)
    for sampler in samplers:
        if last is not None and sampler in last.sampling:
            predicted = last.predict_sampling(sampler, times.eval)
            if time.perf_counter() + predicted > deadline:
                print(f"{head}  {sampler:<10} skipped: predicted {predicted:.0f} s", flush=True)
                times.sampling[sampler] = predicted  # what the next size scales from
                continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            tree = run_sampler(
                model,
                design,
                draws=draws,
                tune=tune,
                chains=chains,
                random_seed=1,
                sampler=sampler,  # type: ignore[arg-type]
                progressbar=False,
                target_accept=0.95,
            )
            wall = time.perf_counter() - t0
        times.sampling[sampler] = wall
        steps = float(tree["sample_stats"]["n_steps"].mean())
        min_ess = population_ess(tree)
        rate = min_ess / wall
        print(
            f"{head}  {sampler:<10} {wall:>7.1f} {steps:>6.1f} {min_ess:>7.1f} {rate:>7.2f}",
            flush=True,
        )
    return times


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", nargs="+", help="input rows: 10k 100k 1M 10M or N")
    parser.add_argument("--samplers", nargs="*", choices=SAMPLERS, help="samplers to run")
    parser.add_argument("--chains", type=int, help="chains per sampling run")
    parser.add_argument("--draws", type=int, help="kept draws per chain")
    parser.add_argument("--tune", type=int, help="tuning steps per chain")
    parser.add_argument("--repeats", type=int, help="timed batches per evaluation")
    parser.add_argument("--min-time", type=float, help="seconds per timed batch (at least)")
    parser.add_argument(
        "--max-seconds", type=float, default=450.0, help="skip sizes predicted to pass this"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="CPU smoke test: " + ", ".join(f"{k} {v}" for k, v in SMOKE.items()),
    )
    args = parser.parse_args(argv)
    for key, value in (SMOKE if args.smoke else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    import jax

    start = time.perf_counter()
    print(
        f"device: {jax_device()}; jax {jax.__version__}; "
        f"{args.chains} chains x {args.draws} draws after {args.tune} tuning steps",
        flush=True,
    )
    print(
        f"{'rows in':>10} {'rows used':>10} {'compile':>8} {'us/eval':>10} {'ns/row':>7}  "
        f"{'sampler':<10} {'wall s':>7} {'steps':>6} {'min ESS':>7} {'ESS/s':>7}",
        flush=True,
    )
    deadline = start + args.max_seconds
    last: SizeTimes | None = None
    for i, size in enumerate(args.sizes):
        rows = parse_size(size)
        need, have = rows * BYTES_PER_ROW, available_memory()
        if need > have:
            print(
                f"{rows:>10,d}  skipped: needs about {need / 1e9:.0f} GB of host memory, "
                f"{have / 1e9:.0f} GB available",
                flush=True,
            )
            continue
        predicted = last.predict_setup(rows) if last is not None else 0.0
        if time.perf_counter() + predicted > deadline:
            print(
                f"{rows:>10,d}  skipped: predicted {predicted:.0f} s to set up after "
                f"{time.perf_counter() - start:.0f} s; --max-seconds {args.max_seconds:.0f}",
                flush=True,
            )
            continue
        times = bench_size(
            rows,
            last=last,
            deadline=deadline,
            samplers=args.samplers,
            chains=args.chains,
            draws=args.draws,
            tune=args.tune,
            repeats=args.repeats,
            min_time=args.min_time,
            check=i == 0,
        )
        last = times
    print(f"total {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
