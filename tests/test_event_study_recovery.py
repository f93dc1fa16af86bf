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
PERIODS_B = 14
SEED_B = 1


def _cohort_panel(seed: int) -> SimulatedPanel:
    """A binary absorbing treatment (at most one credential, none at entry, a balanced panel of
    14 periods) whose lags grow with the adoption cohort ``c``: ``0.5 h(e)`` times
    ``1 + 1.5 (c - 8) / 6``, from -0.5 times for ``c = 2`` to 2.5 times for ``c = 14``. The
    effect (beta 0.5) and the low noise (sd 0.3) put TWFE's bias at several standard errors."""
    settings = event_study_preset(
        n_workers=4000, n_periods=PERIODS_B, curve="step", modifier="none", delta=(),
        max_credentials_gained=1, entry_credential_share=0.0, first_period_share=1.0,
        exit_share=0.0, single_period_share=0.0, event_lags=LAGS_B, event_leads=(0.0,),
        cohort_slope=1.5, credential_rate=0.25, sigma=0.3,
    )  # fmt: skip
    group = replace(settings.groups[0], share=1.0, beta=0.5)
    return simulate(replace(settings, groups=(group,)), seed=seed)


def _cohort_rows(sim: SimulatedPanel) -> pd.DataFrame:
    """The rows with an observed outcome, with ``cohort`` (the period the credential is first
    held; None when it is not held within the panel), ``rel_time`` binned as the model bins
    event time (``clip(e, -L, K - 1)``, -1 for the never treated) and ``treat``."""
    first = sim.events.groupby("worker_id")["period"].min()
    data = sim.frame[sim.frame["log_project_value"].notna()].copy()
    start = data["worker_id"].map(first.where(first <= PERIODS_B))
    data["cohort"] = start.map(lambda v: None if pd.isna(v) else str(int(v)))
    data["rel_time"] = (data["period"] - start).clip(-L_B, K_B - 1).fillna(-1).astype(int)
    data["treat"] = (data["period"] >= start).fillna(False).astype(bool)
    return data


def _did2s_sample(data: pd.DataFrame) -> pd.DataFrame:
    """The workers with at least two untreated rows. did2s's first stage (on the untreated rows)
    drops singleton fixed effects, and pyfixest 0.60's ``_did2s_vcov`` then fails on the row
    mismatch (a broadcast error); with two untreated rows per worker there are none."""
    n_untreated = data[~data["treat"]].groupby("worker_id").size()
    keep = n_untreated.index[n_untreated >= 2]
    return data[data["worker_id"].isin(keep)].reset_index(drop=True)


def _att_by_event_time(sim: SimulatedPanel, data: pd.DataFrame) -> pd.Series:
    """The estimand: at each event time, the average of the treated rows' true effect
    (each row's cohort's truth), i.e. the cohort mix of the rows at that event time."""
    truth = sim.truth.event_effects(by="cohort")
    key = truth.set_index(["cohort", "event_time"])["value"]
    rows = data[data["cohort"].notna() & data["log_project_value"].notna()]
    value = key.reindex(pd.MultiIndex.from_arrays([rows["cohort"], rows["rel_time"]])).to_numpy()
    return pd.Series(value, index=rows.index).groupby(rows["rel_time"]).mean()


def _cohort_weights(data: pd.DataFrame) -> pd.Series:
    """Each cohort's share of the treated cohorts' rows at each event time (-1 left out): the
    weights of the estimand, indexed by ``(rel_time, cohort)``."""
    n = data[data["cohort"].notna()].groupby(["rel_time", "cohort"]).size()
    return (n / n.groupby(level="rel_time").transform("sum")).drop(-1, level="rel_time")


def _pyfixest_table(fit: object, att: pd.Series) -> pd.DataFrame:
    """Coefficients ``rel_time::e`` with 95% intervals against the estimand."""
    ci = fit.confint(alpha=0.05)  # type: ignore[attr-defined]
    out = pd.DataFrame(
        {"coef": fit.coef().to_numpy(), "lo": ci.iloc[:, 0].to_numpy(),  # type: ignore[attr-defined]
         "hi": ci.iloc[:, 1].to_numpy()}, index=[int(str(n).split("::")[-1]) for n in ci.index],
    )  # fmt: skip
    out["truth"] = att.reindex(out.index).fillna(0.0)
    out["inside"] = (out["lo"] <= out["truth"]) & (out["truth"] <= out["hi"])
    return out


def _pooled_over_cohorts(study: object, weights: pd.Series, att: pd.Series) -> pd.DataFrame:
    """bayescred's cohort profiles averaged with the estimand's weights, per posterior draw:
    mean and equal-tailed 95% interval at each event time, against the estimand."""
    draws = study.draws  # type: ignore[attr-defined]
    rows = {}
    for e, w in weights.groupby(level="rel_time"):
        w = w.droplevel("rel_time")
        cells = draws.sel(event_time=e, cohort=list(w.index)).transpose("draw", "cohort")
        pooled = cells.to_numpy() @ w.to_numpy()
        lo, hi = np.quantile(pooled, [0.025, 0.975])
        rows[int(e)] = {"coef": pooled.mean(), "lo": lo, "hi": hi}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["truth"] = att.reindex(out.index).fillna(0.0)
    out["inside"] = (out["lo"] <= out["truth"]) & (out["truth"] <= out["hi"])
    return out


def _cohort_cells(sim: SimulatedPanel, study: object, rows: pd.DataFrame) -> pd.DataFrame:
    """bayescred's per-cohort profile (90% HDIs) against each cohort's truth, in the cells
    (cohort, event time) with data: the others (late cohorts' later lags) are prior only."""
    seen = rows[rows["cohort"].notna()].groupby(["cohort", "rel_time"]).size()
    seen = seen.rename_axis(["cohort", "event_time"]).rename("n_rows").reset_index()
    truth = sim.truth.event_effects(by="cohort")
    both = study.table.merge(truth, on=["event_time", "cohort"]).merge(seen)  # type: ignore[attr-defined]
    both = both[both["event_time"] != -1].copy()
    both["inside"] = (both["hdi_low"] <= both["value"]) & (both["value"] <= both["hdi_high"])
    return both


def test_cohort_heterogeneity_twfe_vs_did2s_vs_cohort_model() -> None:
    """With cohort-varying effects, TWFE's event study is biased; did2s and bayescred's
    cohort-pooled model are not.

    The estimand at each event time ``e`` (-2, the binned ``e <= -2``, and the lags 0 .. 3,
    3 the binned ``e >= 3``) is the average of the true effect over the treated rows at ``e``,
    each row at its own cohort's effect (:func:`_att_by_event_time`). The true profile is
    constant per cohort within each binned endpoint (zero leads, ``h(e) = 1`` from ``e = 2``),
    so binning biases none of the three.

    - TWFE: ``y ~ i(rel_time, ref=-1) | worker + period``, one coefficient per event time
      shared by every cohort. With cohort-varying effects each coefficient is a weighted sum
      of the cohorts' effects at that *and at other* event times, with regression weights
      (some negative) rather than the cohorts' shares: workers treated earlier act as controls
      for later cohorts, so their still-changing effects enter the others' counterfactuals
      (Sun & Abraham, *J. Econometrics* 225(2), 2021). Here that shows as a spurious lead
      (a "pre-trend" at -2) and lags too large by several standard errors.
    - did2s (Gardner's two-stage estimator, ``pf.did2s``): worker and period effects from the
      untreated rows only, then the residualised outcome on event-time dummies, so each
      coefficient is the mean imputed effect of the treated rows at that event time: the
      estimand, whatever the cohorts' heterogeneity (the imputation estimator of Borusyak,
      Jaravel & Spiess, *Rev. Econ. Stud.* 91(6), 2024). Its GMM standard errors account for
      the first stage.
    - bayescred with ``cohort_width = 1``: each row's likelihood uses its own cohort's profile
      (partially pooled over cohorts); the cohort profiles are averaged, draw by draw, with
      the estimand's cohort shares at each event time. It is fitted on the whole panel; both
      pyfixest estimators on the workers with two untreated rows (:func:`_did2s_sample`),
      whose rows also define the estimand.
    """
    pf = pytest.importorskip("pyfixest")
    sim = _cohort_panel(seed=SEED_B)
    rows = _cohort_rows(sim)
    data = _did2s_sample(rows)
    att = _att_by_event_time(sim, data)

    twfe = pf.feols(
        "log_project_value ~ i(rel_time, ref=-1) | worker_id + period", data=data,
        vcov={"CRV1": "worker_id"},
    )  # fmt: skip
    d2s = pf.did2s(
        data, yname="log_project_value", first_stage="~ 0 | worker_id + period",
        second_stage="~ i(rel_time, ref=-1)", treatment="treat", cluster="worker_id",
    )  # fmt: skip
    # one group: its profile is the population's (complete pooling of beta and of the profile,
    # else the population's profile differs from the group's by prior-only deviations)
    dynamics = {"leads": L_B, "lags": K_B, "cohort_width": 1, "pooling": {"profile": "complete"}}
    fit = _fit(sim, dynamics, seed=SEED_B,
               effect={"curve": "step", "modifier": "none", "pooling": {"beta": "complete"}})  # fmt: skip
    study = fit.event_study(by="cohort", hdi_prob=0.9)
    tables = {
        "TWFE": _pyfixest_table(twfe, att),
        "did2s": _pyfixest_table(d2s, att),
        "bayescred, cohorts pooled": _pooled_over_cohorts(study, _cohort_weights(data), att),
    }
    error = {name: float((t["coef"] - t["truth"]).abs().mean()) for name, t in tables.items()}
    for name, t in tables.items():
        print(f"\n{name} (mean absolute error {error[name]:.4f})\n" + t.round(4).to_string())

    # TWFE: the truth outside its 95% interval at 3 or more of the 5 event times, and an
    # error at least 3 times did2s's and bayescred's
    assert (~tables["TWFE"]["inside"]).sum() >= 3
    assert error["TWFE"] >= 3 * max(error["did2s"], error["bayescred, cohorts pooled"])
    # did2s and bayescred: 95% intervals, at most one of the 5 event times missed
    assert (~tables["did2s"]["inside"]).sum() <= 1
    assert (~tables["bayescred, cohorts pooled"]["inside"]).sum() <= 1

    # bayescred's cohorts one by one, in the cells with data
    both = _cohort_cells(sim, study, rows)
    cols = ["cohort", "event_time", "n_rows", "value", "mean", "hdi_low", "hdi_high", "inside"]
    print(both[cols].round(3).to_string())
    print(f"cohort cells covered: {both['inside'].mean():.3f} of {len(both)}")
    assert both["cohort"].nunique() >= 10
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
