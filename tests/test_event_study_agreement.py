"""The event-study model against pyfixest's TWFE event study on a binary absorbing treatment.

With one credential per worker at most (``max_credentials_gained=1``, none at entry), a
homogeneous effect (one group, ``modifier = "none"``, curve ``step``: ``S(1) = 1``), no dip
and no cohort variation, the model's credential term is the linear event-study regression
``y_it = alpha_i + tau_t + sum_e f(e) 1[bin(t - t_i) = e] + noise`` with ``f(-1) = 0``:
with the worker intercepts integrated out (``within``) and iid normal noise, the posterior
of ``f`` should be (nearly) the OLS event study with worker and period fixed effects and iid
standard errors, once the priors do not matter.

Rows are binned exactly as the model bins them: ``clip(t - t_i, -L, K - 1)``. Never-treated
workers have no event, so every row of theirs carries no credential term: they belong to the
reference category ``-1`` (``rel_time = -1``), as in the model (where a worker without events
contributes ``f(-1) = 0`` in every period).

Priors: the spec's defaults. The lag profile is linear in its parameters (``f(e) = beta +
d(e)``, ``d`` a centred random walk in the outcome's units), so with 3000 workers the default
priors move the posterior little: on seed 1, |posterior mean - OLS| <= 0.18 SE and posterior sd
/ SE in 0.95-1.02 for every coefficient. (An earlier multiplicative form ``f = beta * h`` with
steps in units of ``h`` missed this by up to 1 SE at ``beta = 0.12``: its unit-free step prior
was informative and flat priors on ``(beta, h)`` pull the lags towards 0.)
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import bayescred as bc
from bayescred.data.presets import GroupTruth, event_study_preset
from bayescred.data.simulate import SimulatedPanel, simulate

pf = pytest.importorskip("pyfixest")

LEADS, LAGS = 3, 4
#: A build-up profile (multipliers of beta), binned from e = 3 on.
BUILD_UP = (0.3, 0.7, 1.0, 1.0)
BETA = 0.12
SEED = 1


def binary_panel(seed: int, n_workers: int = 3000, n_periods: int = 12) -> SimulatedPanel:
    """A binary absorbing treatment with a homogeneous build-up effect and no anticipation."""
    settings = event_study_preset(
        n_workers=n_workers,
        n_periods=n_periods,
        curve="step",
        modifier="none",
        delta=(),
        max_credentials_gained=1,
        entry_credential_share=0.0,
        event_lags=BUILD_UP,
        event_leads=(0.0,) * (LEADS - 1),
    )
    return simulate(replace(settings, groups=(GroupTruth("A", 1.0, BETA),)), seed=seed)


def rel_time_frame(sim: SimulatedPanel, leads: int, lags: int) -> pd.DataFrame:
    """The panel's rows with ``rel_time`` binned as the model bins event time; never-treated
    rows in the reference category ``-1``."""
    first = sim.events.groupby("worker_id")["period"].min()
    out = sim.frame.copy()
    rel = out["period"] - out["worker_id"].map(first)
    out["rel_time"] = rel.clip(-leads, lags - 1).fillna(-1).astype(int)
    return out


def coef_table(fit: object) -> pd.DataFrame:
    """pyfixest's ``i(rel_time)`` coefficients and standard errors by event time."""
    coef, se = fit.coef(), fit.se()  # type: ignore[attr-defined]
    times = [int(re.search(r"(-?\d+)\]?$", name).group(1)) for name in coef.index]  # type: ignore[union-attr]
    return pd.DataFrame({"ols": coef.to_numpy(), "se": se.to_numpy()}, index=times)


def test_posterior_matches_twfe_event_study() -> None:
    sim = binary_panel(SEED)
    data = rel_time_frame(sim, LEADS, LAGS)
    ols = pf.feols(
        "log_project_value ~ i(rel_time, ref=-1) | worker_id + period", data=data, vcov="iid"
    )
    est = coef_table(ols)
    spec = bc.ModelSpec().with_changes(
        dynamics={"leads": LEADS, "lags": LAGS, "pooling": {"profile": "complete"}},
        effect={"curve": "step", "modifier": "none", "pooling": {"beta": "complete"}},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bc.CredentialModel(spec).fit(
            sim.frame, events=sim.events, draws=400, tune=400, chains=2, random_seed=SEED,
            progressbar=False,
        )  # fmt: skip
    table = fit.event_study().table.set_index("event_time")
    est["post_mean"] = table["mean"]
    est["post_sd"] = table["sd"]
    est["diff_se"] = (est["post_mean"] - est["ols"]) / est["se"]
    est["sd_ratio"] = est["post_sd"] / est["se"]
    print("\n" + est.round(4).to_string())
    assert sorted(est.index) == [-3, -2, 0, 1, 2, 3]
    assert np.all(np.abs(est["diff_se"]) <= 0.2), est
    assert np.all(np.abs(est["sd_ratio"] - 1) <= 0.15), est
