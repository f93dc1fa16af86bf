"""Benchmark: bayescred's default model against the plain PyMC formulation.

Both fit the same simulated panel (paper preset, 2,000 workers x 20 periods, negative
selection into credentials) with the same credential curve, modifier and pooling:

* ``bayescred``: the default spec: worker intercepts integrated out exactly (``within``);
* ``plain``: latent non-centred worker intercepts ``alpha_i ~ Normal(mu, sigma_alpha)`` in long
  format, the way the model is usually first written in PyMC.

Prints wall time (compile + sampling), the minimum bulk ESS over all the population parameters
the two share (between-group sds and ``sigma_tau`` included),
ESS per second, their ratio, and each estimate against the truth.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_within_vs_latent.py [--workers N]``.
"""

from __future__ import annotations

import argparse
import time

import arviz as az
import numpy as np
import pymc as pm

import bayescred as bc
from bayescred.data.simulate import simulate
from bayescred.inference.sampling import attach_design
from bayescred.model.design import ModelDesign
from bayescred.model.make import make_design
from bayescred.model.parts import PLAIN
from bayescred.model.predictor import PLAIN_FORM, linear_predictor, model_coords
from bayescred.model.priors import prior_distribution

#: Every population parameter the two models share, the between-group sds and the period
#: effects' sd (the slowest to sample) included.
POPULATION = ["mu_beta", "sigma_beta", "lambda", "sigma_log_lambda", "gamma", "sigma_tau", "sigma"]


def plain_model(design: ModelDesign) -> pm.Model:
    """Latent non-centred worker intercepts, long format (the usual first PyMC version)."""
    with pm.Model(coords=model_coords(design)) as model:
        # the terms, non-centred: credential effect and (centred) zero-sum period effects
        predictor = linear_predictor(
            design, PLAIN, pilot=lambda: None, noncentred_period_effects=False, options=PLAIN_FORM
        )
        data = predictor.data
        mu_alpha = prior_distribution("mu_alpha", design.priors["mu_alpha"])
        sigma_alpha = prior_distribution("sigma_alpha", design.priors["sigma_alpha"])
        offset = pm.Normal("alpha_offset", 0.0, 1.0, dims="worker")
        alpha = mu_alpha + sigma_alpha * offset
        mean = predictor.mean + alpha[data["worker_idx"]]
        sigma = prior_distribution("sigma", design.priors["sigma"])
        pm.Normal("outcome", mu=mean, sigma=sigma, observed=data["y"], dims="obs")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2000)
    parser.add_argument("--periods", type=int, default=20)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    sim = simulate("paper", seed=args.seed, n_workers=args.workers, n_periods=args.periods)
    truth = sim.truth
    spec = bc.load_spec("default").with_changes(
        track_record={
            "reference": truth.track_record_reference,
            "scale": truth.track_record_scale,
        },
    )
    used = ~np.isnan(sim.frame["log_project_value"].to_numpy())
    avg_true = float(sim.next_effect[used].mean())
    print(
        f"panel: {args.workers} workers x {args.periods} periods, "
        f"{int(used.sum())} rows with a project value; true average next-credential effect "
        f"{avg_true:+.4f}, mu_beta {truth.mu_beta:.4f}, lambda {truth.lambda_:.4f}, "
        f"gamma {truth.gamma}"
    )
    results = {}
    for name in ("bayescred", "plain"):
        start = time.perf_counter()
        if name == "bayescred":
            fit = bc.CredentialModel(spec).fit(
                sim.frame,
                draws=args.draws,
                tune=args.tune,
                chains=args.chains,
                random_seed=args.seed,
                progressbar=False,
            )
            post = fit.posterior
        else:
            design = make_design(spec.with_changes(worker_effects="random"), sim.frame)
            with plain_model(design):
                tree = pm.sample(
                    draws=args.draws,
                    tune=args.tune,
                    chains=args.chains,
                    random_seed=args.seed,
                    nuts_sampler="nutpie",
                    progressbar=False,
                    compute_convergence_checks=False,
                )
            post = attach_design(tree, design, sampler="nutpie", wall_time=0.0)[
                "posterior"
            ].to_dataset()
        wall = time.perf_counter() - start
        ess = az.ess(post[POPULATION])
        min_ess = min(float(np.min(ess[v].values)) for v in POPULATION)
        results[name] = (wall, min_ess)
        est = {v: post[v].mean(("chain", "draw")).values.round(4).tolist() for v in POPULATION}
        print(
            f"{name:>10}: wall {wall:7.1f} s  min bulk ESS {min_ess:7.1f}  "
            f"ESS/s {min_ess / wall:8.3f}  estimates {est}"
        )
    ratio = (results["bayescred"][1] / results["bayescred"][0]) / (
        results["plain"][1] / results["plain"][0]
    )
    print(f"ESS/s ratio bayescred / plain: {ratio:.1f}")


if __name__ == "__main__":
    main()
