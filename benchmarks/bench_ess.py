"""Sampling efficiency of a spec on the paper preset: min bulk ESS per draw and max R-hat over
the population parameters (issue #11's criterion), divergences and wall time.

Examples
--------
``.venv/bin/python benchmarks/bench_ess.py --spec hurdle_earnings --workers 2000 --draws 1000``
``.venv/bin/python benchmarks/bench_ess.py --spec hurdle_earnings --two-groups``

Population parameters are the posterior variables without per-worker, per-row or per-period
dims (group-level values and the sampler's own ``*_whitened`` / ``*_offset`` coordinates are
left out; ``gamma`` with its term dim is kept). The six worst are printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings

import arviz_stats as azs
import numpy as np

import bayescred as bc
from bayescred.data.presets import paper_preset
from bayescred.data.simulate import simulate


def population_variables(posterior: object) -> list[str]:
    """Scalar parameters and those indexed only by a modifier term."""
    out = []
    for name, da in posterior.data_vars.items():  # type: ignore[attr-defined]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        if str(name).endswith(("_offset", "_whitened")):
            continue
        if not extra or all("gamma_term" in str(d) for d in extra):
            out.append(str(name))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="default", help="bundled spec name or TOML path")
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--periods", type=int, default=20)
    parser.add_argument("--draws", type=int, default=1000, help="draws and tuning per chain")
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--two-groups", action="store_true", help="groups A and D only, half the workers each"
    )
    args = parser.parse_args()
    settings = paper_preset(n_workers=args.workers, n_periods=args.periods)
    if args.two_groups:
        groups = tuple(
            dataclasses.replace(g, share=0.5) for g in settings.groups if g.name in ("A", "D")
        )
        settings = dataclasses.replace(settings, groups=groups)
    sim = simulate(settings, seed=args.seed)
    spec = bc.load_spec(args.spec)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bc.CredentialModel(spec).fit(
            sim.frame,
            draws=args.draws,
            tune=args.draws,
            chains=args.chains,
            random_seed=args.seed,
            progressbar=False,
        )
    wall = time.perf_counter() - start
    post = fit.posterior
    names = population_variables(post)
    ess = azs.ess(post[names], method="bulk")
    rhat = azs.rhat(post[names])
    n = post.sizes["chain"] * post.sizes["draw"]
    rows = sorted(
        (float(np.min(ess[v].values)) / n, v, float(np.max(rhat[v].values))) for v in names
    )
    divergences = int(fit.tree["sample_stats"]["diverging"].sum())
    print(
        f"{args.spec} on the paper preset, {args.workers} workers x {args.periods} periods"
        f"{' (groups A and D)' if args.two_groups else ''}, seed {args.seed}, "
        f"{args.chains} x ({args.draws} + {args.draws}): {wall:.0f} s, {divergences} divergences"
    )
    print(f"min bulk ESS per draw {rows[0][0]:.3f} ({rows[0][1]}), max R-hat "
          f"{max(r for _, _, r in rows):.3f}")  # fmt: skip
    for per_draw, name, r in rows[:6]:
        print(f"  {name:<24} ESS/draw {per_draw:.3f}  R-hat {r:.3f}")
    every = azs.rhat(post)
    worst = max(
        ((float(np.nanmax(every[v].values)), str(v)) for v in every.data_vars if every[v].size),
        default=(float("nan"), "-"),
    )
    print(f"max R-hat over every stored variable {worst[0]:.3f} ({worst[1]})")
    print(f"verdict: {fit.verdict}")


if __name__ == "__main__":
    main()
