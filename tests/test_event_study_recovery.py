"""Slow tier: recovery of event-time profiles, cohort heterogeneity against pyfixest's TWFE and
DID2S event studies, and a repeated-sampling study of the event-time coefficients.

The repeated-sampling check runs ``bc.repeated_sampling`` on a dynamic spec (fitted with each
panel's events; the quantities are the event-time effects).
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import bayescred as bc
from bayescred.data.presets import event_study_preset
from bayescred.data.simulate import SimulatedPanel, simulate

pytestmark = pytest.mark.slow


def _fit(sim: SimulatedPanel, dynamics: dict, seed: int, draws: int = 400, **changes: object):
    spec = bc.ModelSpec().with_changes(dynamics=dynamics, **changes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bc.CredentialModel(spec).fit(
            sim.frame, events=sim.events, draws=draws, tune=400, chains=2, random_seed=seed,
            progressbar=False,
        )  # fmt: skip


def _window(sim: SimulatedPanel) -> dict[str, int]:
    w = sim.truth.event_window
    return {"leads": w.n_leads, "lags": w.n_lags}


def _covered(sim: SimulatedPanel, fit: object, hdi_prob: float = 0.9) -> pd.DataFrame:
    table = fit.event_study(hdi_prob=hdi_prob).table  # type: ignore[attr-defined]
    out = table.merge(sim.truth.event_effects(), on="event_time")
    out["inside"] = (out["hdi_low"] <= out["value"]) & (out["value"] <= out["hdi_high"])
    print("\n" + out[["event_time", "value", "mean", "hdi_low", "hdi_high", "inside"]].to_string())
    return out


# ------------------------------------------------------------------ (a) recovery
@pytest.mark.parametrize("leads", [(0.0, 0.0), (0.0, 0.06)], ids=["preset", "anticipation"])
def test_event_profile_is_recovered(leads: tuple[float, ...]) -> None:
    settings = event_study_preset(n_workers=1500, n_periods=14, event_leads=leads)
    sim = simulate(settings, seed=11)
    fit = _fit(sim, _window(sim), seed=11)
    out = _covered(sim, fit)
    assert out["inside"].all()


# ------------------------------------------------------------------ (b) cohorts
L_B, K_B = 2, 4
LAGS_B = (0.4, 0.8, 1.0, 1.0)


def _cohort_panel(seed: int) -> SimulatedPanel:
    settings = event_study_preset(
        n_workers=4000, n_periods=10, curve="step", modifier="none", delta=(),
        max_credentials_gained=1, entry_credential_share=0.0, first_period_share=1.0,
        exit_share=0.0, single_period_share=0.0, event_lags=LAGS_B, event_leads=(0.0,),
        cohort_slope=1.5, credential_rate=0.1,
    )  # fmt: skip
    return simulate(replace(settings, groups=(replace(settings.groups[0], share=1.0),)), seed=seed)


def _att_by_event_time(sim: SimulatedPanel, data: pd.DataFrame) -> pd.Series:
    """The estimand: at each event time, the average of the treated rows' true effect
    (each row's cohort's truth), i.e. the cohort mix of the rows at that event time."""
    truth = sim.truth.event_effects(by="cohort")
    key = truth.set_index(["cohort", "event_time"])["value"]
    rows = data[data["cohort"].notna() & data["log_project_value"].notna()]
    value = key.reindex(pd.MultiIndex.from_arrays([rows["cohort"], rows["rel_time"]])).to_numpy()
    return pd.Series(value, index=rows.index).groupby(rows["rel_time"]).mean()


def test_cohort_heterogeneity_twfe_vs_did2s_vs_cohort_model() -> None:
    pf = pytest.importorskip("pyfixest")
    sim = _cohort_panel(seed=5)
    first = sim.events.groupby("worker_id")["period"].min()
    data = sim.frame.copy()
    start = data["worker_id"].map(first)
    data["cohort"] = start.map(lambda v: None if pd.isna(v) else str(int(v)))
    data["rel_time"] = (data["period"] - start).clip(-L_B, K_B - 1).fillna(-1).astype(int)
    data["treat"] = (data["period"] >= start).fillna(False).astype(bool)
    data = data[data["log_project_value"].notna()]
    # did2s's first stage needs every worker's fixed effect: keep workers with an untreated
    # observed row (pyfixest 0.60's did2s raises a shape error otherwise)
    untreated = data.loc[~data["treat"], "worker_id"].unique()
    data = data[data["worker_id"].isin(untreated)].reset_index(drop=True)
    att = _att_by_event_time(sim, data)

    twfe = pf.feols(
        "log_project_value ~ i(rel_time, ref=-1) | worker_id + period", data=data,
        vcov={"CRV1": "worker_id"},
    )  # fmt: skip
    d2s = pf.did2s(
        data, yname="log_project_value", first_stage="~ 0 | worker_id + period",
        second_stage="~ i(rel_time, ref=-1)", treatment="treat", cluster="worker_id",
    )  # fmt: skip

    def table(fit: object) -> pd.DataFrame:
        ci = fit.confint(alpha=0.05)  # type: ignore[attr-defined]
        times = [int(str(n).split("::")[-1].rstrip("]").split(".")[-1]) if "::" in str(n)
                 else int(str(n).rsplit("T.", 1)[-1].rstrip("]")) for n in ci.index]  # fmt: skip
        out = pd.DataFrame(
            {"coef": fit.coef().to_numpy(), "lo": ci.iloc[:, 0].to_numpy(),  # type: ignore[attr-defined]
             "hi": ci.iloc[:, 1].to_numpy()}, index=times,
        )  # fmt: skip
        out["truth"] = att.reindex(out.index).fillna(0.0)
        out["inside"] = (out["lo"] <= out["truth"]) & (out["truth"] <= out["hi"])
        return out

    t_twfe, t_d2s = table(twfe), table(d2s)
    print("\nTWFE\n" + t_twfe.round(4).to_string() + "\nDID2S\n" + t_d2s.round(4).to_string())
    assert not t_twfe["inside"].all()  # TWFE with heterogeneous cohorts: biased
    assert t_d2s["inside"].all()

    fit = _fit(sim, {"leads": L_B, "lags": K_B, "cohort_width": 1}, seed=5,
               effect={"curve": "step", "modifier": "none", "pooling": {"beta": "complete"}})  # fmt: skip
    est = fit.event_study(by="cohort", hdi_prob=0.9).table
    truth = sim.truth.event_effects(by="cohort")
    both = est.merge(truth, on=["event_time", "cohort"])
    both = both[both["event_time"] != -1]
    both["inside"] = (both["hdi_low"] <= both["value"]) & (both["value"] <= both["hdi_high"])
    print(
        both[["cohort", "event_time", "value", "mean", "hdi_low", "hdi_high", "inside"]].to_string()
    )
    print(f"cohort cells covered: {both['inside'].mean():.3f} of {len(both)}")
    assert both["cohort"].nunique() >= 5
    # 90% HDIs: a binomial(n, 0.9) share, at least 0.8 of the cells
    assert both["inside"].mean() >= 0.8
    # the cohort gradient of the lags is recovered (cohort means of the lags)
    lag = both[both["event_time"] >= 0].groupby("cohort")[["value", "mean"]].mean()
    slope = np.polyfit(lag["value"], lag["mean"], 1)[0]
    print(f"slope of the cohorts' mean lag, estimated on true: {slope:.3f}")
    assert 0.7 < slope < 1.3


# ------------------------------------------------------------------ (c) repeated sampling
N_PANELS = 20


def test_repeated_sampling_event_time_coefficients() -> None:
    """``bc.repeated_sampling`` of a dynamic spec on 20 panels of one truth (a built-up
    profile, one group): each event-time coefficient's bias within 2 MCSE, coverage of the
    90% HDIs 0.85-0.95 pooled over the coefficients and at least 0.75 for each (20 panels: a
    binomial(20, 0.9) count is below 15 with probability 0.04)."""
    settings = event_study_preset(
        n_workers=500, n_periods=10, curve="step", modifier="none", delta=(),
        event_lags=(0.4, 0.8, 1.0), event_leads=(0.0,),
    )  # fmt: skip
    settings = replace(settings, groups=(replace(settings.groups[0], share=1.0, beta=0.3),))
    spec = bc.ModelSpec().with_changes(
        dynamics={"leads": 2, "lags": 3},
        effect={"curve": "step", "modifier": "none", "pooling": {"beta": "complete"}},
    )
    study = bc.repeated_sampling(
        spec, settings, n_panels=N_PANELS, draws=300, tune=400, chains=2, seed=7,
        progressbar=False,
    )  # fmt: skip
    print("\n" + repr(study))
    assert (study.simulations["status"] == "ok").all()
    table = study.table.set_index("quantity")
    population = table.loc[[q for q in table.index if ", group=" not in q]]
    assert len(population) == 4  # event times -2, 0, 1, 2
    assert (population["simulations"] == N_PANELS).all()
    assert np.all(np.abs(table["bias"]) <= 2 * table["bias_mcse"])
    records = study.records
    hit = (records["low"] <= records["truth"]) & (records["truth"] <= records["high"])
    pooled = float(hit.mean())
    print(f"pooled coverage {pooled:.3f} ({len(records)} intervals)")
    assert 0.85 <= pooled <= 0.95
    assert (table["coverage"] >= 0.75).all()


# ------------------------------------------------------------------ pre-trend test rates
def test_pretrend_flag_rates_reduced() -> None:
    """A reduced run of ``scripts/pretrend_rates.py`` (6 panels per arm)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "scripts" / "pretrend_rates.py"
    module_spec = importlib.util.spec_from_file_location("pretrend_rates", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    rates = module.main(["--n-panels", "6"])
    assert rates["dip"] >= 5 / 6
    assert rates["no_dip"] <= 1 / 6
