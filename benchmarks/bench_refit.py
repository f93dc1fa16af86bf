"""Benchmark: compile once, fit many. The overhead of a second fit of the same spec.

Fits one spec three times with one :class:`~bayescred.CredentialModel` (and its compiled-model
cache): on a panel of the paper preset, on new outcomes of the same panel, and on a new panel
of the same shape (other worker labels, groups, track records, covariates and outcomes, the
same number of workers, periods, groups and rows). For each fit it prints the wall time of
``model.fit``, the time nutpie spent sampling (the posterior's ``sampling_time``) and the
overhead ``wall - sampling``: validation, design, model build, cache lookup or compilation,
and assembling the fit. A fourth fit with ``cache=False`` on the new panel compiles afresh and
checks that the reused model's draws are the same for the same seed.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_refit.py [--workers 2000 --periods 20
--draws 200 --tune 200 --chains 2 --spec default]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import bayescred as bc
from bayescred.data.simulate import simulate


def new_outcomes(frame: pd.DataFrame, column: str, seed: int) -> pd.DataFrame:
    """The same panel with new outcomes of the same kind, support and zero pattern: 5% of a
    binary outcome flipped, counts redrawn as Poisson around the old ones (zeros stay zero),
    non-negative amounts times a log-normal factor, other real values plus N(0, 0.3) noise."""
    out = frame.copy()
    rng = np.random.default_rng(seed)
    seen = out[column].notna().to_numpy()
    y = out.loc[seen, column].to_numpy(dtype=float)
    if np.isin(y, (0.0, 1.0)).all():
        y = np.where(rng.random(len(y)) < 0.05, 1.0 - y, y)
    elif (y == np.round(y)).all() and (y >= 0).all():
        y = np.where(y > 0, np.maximum(rng.poisson(y), 1), 0).astype(float)
    elif (y >= 0).all():
        y = y * np.exp(rng.normal(0.0, 0.3, len(y)))
    else:
        y = y + rng.normal(0.0, 0.3, len(y))
    out.loc[seen, column] = y
    return out


def new_panel(frame: pd.DataFrame, column: str, seed: int) -> pd.DataFrame:
    """A different panel of the same shape: every worker's rows under a new label, with a new
    group, more credentials, a longer track record, other covariates and outcomes."""
    out = new_outcomes(frame, column, seed)
    rng = np.random.default_rng(seed + 1)
    workers = out["worker_id"].unique()
    labels = dict(zip(workers, [f"n{i:06d}" for i in rng.permutation(len(workers))], strict=True))
    groups = out.groupby("worker_id", sort=False)["group"].first()
    regroup = dict(zip(groups.index, rng.permutation(groups.to_numpy()), strict=True))
    out["group"] = out["worker_id"].map(regroup)
    out["worker_id"] = out["worker_id"].map(labels)
    out["credentials"] = out["credentials"] + 1
    out["track_record"] = 2 * out["track_record"] + 1
    for name in [c for c in out.columns if c.startswith("x")]:
        out[name] = out[name] + rng.normal(0.0, 0.5, len(out))
    return out.sort_values(["worker_id", "period"]).reset_index(drop=True)


def timed_fit(
    model: bc.CredentialModel, frame: pd.DataFrame, **kwargs: object
) -> tuple[bc.CredentialFit, float, float]:
    """The fit, its wall time and its sampling time."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        fit = model.fit(frame, **kwargs)  # type: ignore[arg-type]
    wall = time.perf_counter() - start
    return fit, wall, float(fit.tree["posterior"].attrs["sampling_time"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--periods", type=int, default=20)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--tune", type=int, default=200)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--spec", default="default")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    sim = simulate("paper", seed=args.seed, n_workers=args.workers, n_periods=args.periods)
    spec = bc.load_spec(args.spec)
    column = spec.outcome.column
    frames = {
        "first fit": sim.frame,
        "new outcomes": new_outcomes(sim.frame, column, seed=args.seed + 100),
        "new panel": new_panel(sim.frame, column, seed=args.seed + 200),
    }
    settings = {
        "draws": args.draws,
        "tune": args.tune,
        "chains": args.chains,
        "random_seed": 5,
        "progressbar": False,
    }
    cache = bc.CompiledModelCache()
    model = bc.CredentialModel(spec, cache=cache)
    print(
        f"spec {args.spec!r}, paper preset {args.workers} workers x {args.periods} periods "
        f"({args.chains} chains x {args.tune} tune + {args.draws} draws)"
    )
    print(f"{'fit':<14}{'rows':>8}{'wall s':>9}{'sampling s':>12}{'overhead s':>12}  compiled")

    def row(name: str, rows: object, wall: float, sampling: float, compiled: str) -> None:
        times = f"{wall:>9.2f}{sampling:>12.2f}{wall - sampling:>12.2f}"
        print(f"{name:<14}{rows!s:>8}{times}  {compiled}")

    fits = {}
    for name, frame in frames.items():
        before = cache.compilations
        fit, wall, sampling = timed_fit(model, frame, **settings)
        fits[name] = fit
        compiled = "yes" if cache.compilations > before else "no (reused)"
        row(name, fit.tree["observed_data"].sizes["obs"], wall, sampling, compiled)
    fresh_model = bc.CredentialModel(spec, cache=False)
    fresh, wall, sampling = timed_fit(fresh_model, frames["new panel"], **settings)
    row("fresh (check)", "", wall, sampling, "yes")
    posterior = fresh.tree["posterior"].to_dataset()
    same = posterior.equals(fits["new panel"].tree["posterior"].to_dataset())
    print(f"reused and fresh fits of the new panel have the same draws: {same}")


if __name__ == "__main__":
    main()
