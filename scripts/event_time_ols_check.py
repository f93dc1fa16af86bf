"""The distributed-lag OLS of Schmidheiny & Siegloch (2023) on the panels of an event-time
repeated-sampling study (``scripts/event_time_repeated_sampling.py``), as an independent check of
its bias: the same panels (regenerated from the study's seed), the same binned window, the
regressors built here from the events alone, worker and period fixed effects (pyfixest
``feols``). OLS is unbiased under the simulator (the noise is independent of the credential
events given the worker effects), so its mean error over the panels is the panels' own noise,
and the paired difference Bayes - OLS, panel by panel, measures what the model's prior adds.

Usage::

    .venv/bin/python scripts/event_time_ols_check.py --study /tmp/rs.nc --n-panels 100 --seed 11

``--study`` is the study's ``--out`` file (already complete: nothing is refitted); without it
only the OLS columns are printed.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pyfixest as pf

from bayescred.calibration.study import panel_seeds
from bayescred.data.simulate import SimulatedPanel, simulate
from scripts.event_time_repeated_sampling import main as study_main
from scripts.event_time_repeated_sampling import study_settings

LEADS, LAGS = 2, 3  # the study's spec: [dynamics] leads = 2, lags = 3


def bin_label(e: int) -> str:
    """The regressor's name for event time ``e`` (``m2`` for -2, ``p0`` for 0)."""
    return f"m{-e}" if e < 0 else f"p{e}"


def distributed_lag_regressors(
    frame: pd.DataFrame, events: pd.DataFrame, leads: int, lags: int
) -> pd.DataFrame:
    """Per row, the number of the worker's *first* credentials (the step curve: only the first
    one moves the outcome) at each binned event time ``clip(t - t_1, -L, K - 1)``, the
    reference ``-1`` left out. A worker whose first credential predates the panel (a NaN
    event) has none: its constant long-run effect is in the worker's fixed effect."""
    ev = events.sort_values("period", na_position="first")
    first = ev.groupby("worker_id", sort=False).head(1).set_index("worker_id")["period"]
    first_known = first.dropna()  # NaN: held at entry (groupby.first would skip it)
    t1 = frame["worker_id"].map(first_known)
    e = (frame["period"] - t1).clip(lower=-leads, upper=lags - 1)
    out = pd.DataFrame(index=frame.index)
    for m in [*range(-leads, -1), *range(0, lags)]:
        out[bin_label(m)] = (e == m).astype(float).fillna(0.0)
    return out


def ols_profile(sim: SimulatedPanel) -> pd.DataFrame:
    """OLS estimates and worker-clustered standard errors of the profile ``f(e)``."""
    frame = sim.frame.dropna(subset=["log_project_value"]).copy()
    regs = distributed_lag_regressors(frame, sim.events, LEADS, LAGS)
    data = pd.concat([frame[["worker_id", "period", "log_project_value"]], regs], axis=1)
    fml = f"log_project_value ~ {' + '.join(regs.columns)} | worker_id + period"
    fit = pf.feols(fml, data=data, vcov={"CRV1": "worker_id"})
    return pd.DataFrame({"ols": fit.coef(), "ols_se": fit.se()})


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-panels", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--study", default=None, help="the study's --out file")
    parser.add_argument("--lag-step-sd", default=None, help="the study's --lag-step-sd")
    parser.add_argument("--wide-sd", default=None, help="the study's --wide-sd")
    args = parser.parse_args(argv)
    settings = study_settings()
    rows = []
    for index in range(args.n_panels):
        sim = simulate(settings, seed=panel_seeds(args.seed, index)[0])
        true = sim.truth.event_effects()  # the simulator's window is the fit's: exact truths
        truth = dict(zip(map(bin_label, true["event_time"]), true["value"], strict=True))
        est = ols_profile(sim)
        for name, r in est.iterrows():
            rows.append({"panel": index, "term": name, "ols": r.ols, "ols_se": r.ols_se,
                         "truth": truth[str(name)]})  # fmt: skip
    ols = pd.DataFrame(rows)
    if args.study is not None:
        study_args = ["--n-panels", str(args.n_panels), "--seed", str(args.seed),
                      "--out", args.study]  # fmt: skip
        if args.lag_step_sd is not None:
            study_args += ["--lag-step-sd", str(args.lag_step_sd)]
        if args.wide_sd is not None:
            study_args += ["--wide-sd", str(args.wide_sd)]
        study = study_main(study_args)
        rec = study.records
        rec = rec[~rec["name"].str.contains("group=")].copy()
        rec["term"] = [bin_label(int(q.split("e=")[1].rstrip("]"))) for q in rec["name"]]
        rec = rec.rename(columns={"index": "panel", "estimate": "bayes"})
        ols = ols.merge(rec[["panel", "term", "bayes"]], on=["panel", "term"])
    lines = []
    for term, d in ols.groupby("term", sort=False):
        n = len(d)
        err = d["ols"] - d["truth"]
        cover = ((d["ols"] - 1.645 * d["ols_se"] <= d["truth"])
                 & (d["truth"] <= d["ols"] + 1.645 * d["ols_se"])).mean()  # fmt: skip
        line = (f"{term:>3} truth {d['truth'].iloc[0]:+.2f}  OLS bias {err.mean():+.4f} "
                f"(MCSE {err.std() / np.sqrt(n):.4f}), 90% CI coverage {cover:.2f}")  # fmt: skip
        if "bayes" in d:
            berr = d["bayes"] - d["truth"]
            diff = d["bayes"] - d["ols"]
            line += (f"  | Bayes bias {berr.mean():+.4f} (MCSE {berr.std() / np.sqrt(n):.4f})"
                     f"  Bayes-OLS {diff.mean():+.4f} (MCSE {diff.std() / np.sqrt(n):.4f})"
                     f"  corr {np.corrcoef(d['bayes'], d['ols'])[0, 1]:.2f}")  # fmt: skip
        lines.append(line)
    print("\n".join(lines))
    return ols


if __name__ == "__main__":
    main()
