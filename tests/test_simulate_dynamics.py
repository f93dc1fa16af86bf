"""Tests of the simulator's event-time dynamics (issue #21, item 5): events, the event-time
outcome, the Ashenfelter dip, cohort-varying effects and the true event-study profiles."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bayescred.data.presets import (
    EVENT_STUDY_LAGS,
    SimulationSettings,
    event_study_preset,
    paper_preset,
    preset,
)
from bayescred.data.simulate import SimulatedPanel, simulate
from bayescred.maths.event_time import EventWindow

LAGS = (0.3, 0.7, 1.0, 0.8, 0.6, 0.5)

# Digests of frames simulated before the event-time features existed (same seeds and sizes).
BASELINE_DIGESTS = {
    "paper": "72fd55923b72498ea29fc9ef696848c2d479f83997be0f1847e474749c9ad088",
    "paper_poisson_t": "050cb94e252b0f61a563a468aa71f39e9fbbb686f9219cf17804f8e42c998d0d",
}
BASELINE_CASES: dict[str, dict[str, Any]] = {
    "paper": {"n_workers": 200, "n_periods": 8, "seed": 3},
    "paper_poisson_t": {
        "n_workers": 150,
        "n_periods": 5,
        "seed": 11,
        "count_model": "poisson",
        "noise_df": 4.0,
        "curve": "quadratic",
        "worker_effects": "none",
        "period_effects": False,
    },
}


def frame_digest(frame: pd.DataFrame) -> str:
    """A dtype-stable digest of a frame's column names and values."""
    h = hashlib.sha256()
    for name in frame.columns:
        col = frame[name]
        h.update(str(name).encode())
        if pd.api.types.is_numeric_dtype(col):
            h.update(col.to_numpy(dtype=np.float64).tobytes())
        else:
            h.update("\x00".join(col.astype(str)).encode())
    return h.hexdigest()


def small(**changes: Any) -> SimulationSettings:
    return dataclasses.replace(paper_preset(n_workers=400, n_periods=10), **changes)


def noise_free(**changes: Any) -> SimulationSettings:
    """Settings whose ``log_project_value`` is the credential effect plus known terms."""
    values: dict[str, Any] = {
        "sigma": 1e-12,
        "period_effects": False,
        "worker_effects": "none",
        "delta": (),
        "credential_rate": 0.25,
        "entry_credential_share": 0.3,
        "double_credential_share": 0.3,
    }
    values.update(changes)
    return small(**values)


def credential_effect(sim: SimulatedPanel) -> np.ndarray:
    """``log_project_value`` minus every term but the credential effect (rows with projects)."""
    f, truth = sim.frame, sim.truth
    rest = truth.intercept + truth.alpha.loc[f["worker_id"]].to_numpy()
    rest = rest + truth.tau.loc[f["period"]].to_numpy()
    xcols = list(truth.delta.index)
    if xcols:
        rest = rest + f[xcols].to_numpy() @ truth.delta.to_numpy()
    return np.asarray(f["log_project_value"].to_numpy() - rest)


def brute_force_effect(sim: SimulatedPanel) -> np.ndarray:
    """``sum_k dS(k) M(z) f(bin(t - t_k))`` by a loop over rows and each worker's events."""
    f, truth = sim.frame, sim.truth
    window = truth.event_window
    times = window.event_times
    events = {w: ev["period"].to_numpy() for w, ev in sim.events.groupby("worker_id")}
    shape = dict(zip(truth.groups, truth.shape, strict=True))
    out = np.empty(len(f))
    for i, (w, t, g, r) in enumerate(
        zip(f["worker_id"], f["period"], f["group"], f["track_record"], strict=True)
    ):
        cohort = truth.worker_cohort[w]
        prof = truth.profile(g, None if pd.isna(cohort) else cohort)[0]
        total = 0.0
        for k, tk in enumerate(events.get(w, np.array([])), start=1):
            e = window.n_lags - 1 if np.isnan(tk) else int(window.bin(np.array(t - tk)))
            ds = truth.term.curve_value(np.array([float(k), float(k - 1)]), shape[g])
            total += float(ds[0] - ds[1]) * prof[int(np.nonzero(times == e)[0][0])]
        out[i] = total * float(truth.modifier_value(g, r)[0])
    return out


# --------------------------------------------------------------------------------------------
# defaults unchanged
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(BASELINE_CASES))
def test_defaults_are_bit_identical_to_before(case: str) -> None:
    kwargs = dict(BASELINE_CASES[case])
    seed = kwargs.pop("seed")
    sim = simulate("paper", seed=seed, **kwargs)
    assert frame_digest(sim.frame) == BASELINE_DIGESTS[case]
    assert not sim.settings.has_dynamics
    assert not sim.truth.dynamic
    assert "event_profile" not in sim.truth.to_dataset()


def test_off_features_do_not_move_other_streams() -> None:
    base = simulate(small(), seed=5).frame
    capped_high = simulate(small(max_credentials_gained=10_000), seed=5).frame
    pd.testing.assert_frame_equal(base, capped_high)
    # the dip draws from its own stream: only the credential and downstream columns move
    # the dip draws from its own stream: without selection on it only the value columns move
    dipped = simulate(small(dip_sd=0.3, dip_selection=0.0), seed=5).frame
    value = ["log_project_value", "earnings", "log_earnings"]
    pd.testing.assert_frame_equal(base.drop(columns=value), dipped.drop(columns=value))
    shift = (dipped["log_project_value"] - base["log_project_value"]).dropna()
    assert 0.25 < shift.std() < 0.35


# --------------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------------


def test_settings_validate_the_new_fields() -> None:
    s = small(event_lags=[0.5, 1], event_leads=[0.0], max_credentials_gained=np.int64(2))
    assert s.event_lags == (0.5, 1.0) and s.event_leads == (0.0,)
    assert s.max_credentials_gained == 2 and type(s.max_credentials_gained) is int
    assert s.event_window == EventWindow(leads=2, lags=2)
    assert s.has_dynamics and not small().has_dynamics and small(cohort_slope=0.5).has_dynamics
    assert small().event_window == EventWindow(leads=1, lags=1)
    for bad in (
        {"dip_sd": -0.1},
        {"dip_selection": np.nan},
        {"cohort_slope": np.inf},
        {"event_lags": (1.0, np.nan)},
        {"event_leads": (np.inf,)},
        {"max_credentials_gained": -1},
        {"max_credentials_gained": 1.5},
        {"max_credentials_gained": True},
    ):
        with pytest.raises(ValueError, match="SimulationSettings"):
            small(**bad)


def test_event_study_preset() -> None:
    s = preset("event_study")
    assert s == event_study_preset()
    assert (s.n_workers, s.n_periods) == (1500, 16)
    assert s.event_lags == EVENT_STUDY_LAGS and s.event_leads == (0.0, 0.0)
    assert s.event_window == EventWindow(leads=3, lags=6) and s.dip_sd == 0.0
    sim = simulate("event_study", n_workers=300, n_periods=12, seed=1)
    gained = sim.events["period"].notna().groupby(sim.events["worker_id"]).any()
    assert gained.sum() > 0.4 * 300
    assert sim.truth.dynamic


# --------------------------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{}, {"event_lags": LAGS, "dip_sd": 0.3}, {"max_credentials_gained": 1}],
    ids=["static", "dynamic", "capped"],
)
def test_events_match_credentials(changes: dict[str, Any]) -> None:
    sim = simulate(small(credential_rate=0.2, double_credential_share=0.3, **changes), seed=7)
    f, ev = sim.frame, sim.events
    assert list(ev.columns) == ["worker_id", "period"]
    assert ev["period"].dtype == np.float64
    key = ev.assign(p=ev["period"].fillna(-np.inf))
    assert key.sort_values(["worker_id", "p"], kind="stable").index.equals(ev.index)
    by_worker = {w: e["period"].to_numpy() for w, e in ev.groupby("worker_id")}
    for w, t, n in zip(f["worker_id"], f["period"], f["credentials"], strict=True):
        p = by_worker.get(w, np.array([]))
        assert n == np.isnan(p).sum() + (p[~np.isnan(p)] <= t).sum()
    # every event is first held after the period it was earned in, inside or just past the
    # worker's window
    last = f.groupby("worker_id")["period"].max()
    first = f.groupby("worker_id")["period"].min()
    known = ev.dropna()
    assert (known["period"].to_numpy() >= first.loc[known["worker_id"]].to_numpy() + 1).all()
    assert (known["period"].to_numpy() <= last.loc[known["worker_id"]].to_numpy() + 1).all()
    assert (known["period"] > last.loc[known["worker_id"]].to_numpy()).any()


def test_max_one_credential_gives_at_most_one_event() -> None:
    sim = simulate(
        small(
            max_credentials_gained=1,
            entry_credential_share=0.0,
            credential_rate=0.3,
            double_credential_share=0.5,
        ),
        seed=2,
    )
    per_worker = sim.events.groupby("worker_id").size()
    assert per_worker.max() == 1 and sim.events["period"].notna().all()
    assert len(per_worker) > 100
    gained = sim.frame.groupby("worker_id")["credentials"].agg(lambda c: c.max() - c.min())
    assert gained.max() <= 1
    none = simulate(small(max_credentials_gained=0), seed=2)
    assert sim.frame["credentials"].max() == 1
    assert none.events["period"].isna().all()


def test_worker_cohort() -> None:
    sim = simulate(small(credential_rate=0.2), seed=3)
    cohort = sim.truth.worker_cohort
    assert cohort.index.equals(sim.truth.alpha.index)
    ev = sim.events
    entry = set(ev.loc[ev["period"].isna(), "worker_id"])
    first = ev.dropna().groupby("worker_id")["period"].min()
    first_of = {str(k): float(v) for k, v in first.items()}
    for w, c in cohort.items():
        if w in entry:
            assert c == "entry"
        elif str(w) in first_of:
            assert c == str(int(first_of[str(w)]))
        else:
            assert pd.isna(c)
    assert sim.truth.cohorts[0] == "entry"
    assert [int(c) for c in sim.truth.cohorts[1:]] == sorted(int(c) for c in sim.truth.cohorts[1:])


# --------------------------------------------------------------------------------------------
# the event-time outcome
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"event_lags": LAGS},
        {"event_lags": LAGS, "event_leads": (0.05, -0.03), "cohort_slope": 0.6},
        {"event_leads": (0.04,), "curve": "quadratic", "modifier": "log_linear"},
        {"cohort_slope": -0.5, "curve": "step"},
    ],
    ids=["lags", "leads_cohorts", "quadratic_leads", "step_cohorts"],
)
def test_outcome_is_the_event_time_sum(changes: dict[str, Any]) -> None:
    if changes.get("curve") == "quadratic":
        base = dataclasses.replace(noise_free(), curve="quadratic")
        base = dataclasses.replace(
            base, groups=tuple(dataclasses.replace(g, shape=-0.43) for g in base.groups)
        )
        settings = dataclasses.replace(base, **{k: v for k, v in changes.items() if k != "curve"})
    else:
        settings = noise_free(**changes)
    sim = simulate(dataclasses.replace(settings, n_workers=150), seed=4)
    has = sim.frame["n_projects"].to_numpy() > 0
    got = credential_effect(sim)[has]
    want = brute_force_effect(sim)[has]
    assert np.abs(want).max() > 0.05
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_static_profile_reproduces_the_static_effect() -> None:
    static = simulate(noise_free(), seed=6)
    flat = simulate(noise_free(event_lags=(1.0, 1.0, 1.0)), seed=6)
    pd.testing.assert_frame_equal(
        static.frame.drop(columns=["log_project_value", "earnings", "log_earnings"]),
        flat.frame.drop(columns=["log_project_value", "earnings", "log_earnings"]),
    )
    np.testing.assert_allclose(
        flat.frame["log_project_value"], static.frame["log_project_value"], atol=1e-12
    )


def test_cohort_multipliers() -> None:
    sim = simulate(small(cohort_slope=0.5), seed=1)
    truth = sim.truth
    t = sim.settings.n_periods  # cohorts 2..t, mid (2 + t) / 2, half-range (t - 2) / 2
    np.testing.assert_allclose(
        truth.cohort_multiplier(["entry", 2, "6", t, t + 1, np.nan]),
        [0.5, 0.5, 1.0, 1.5, 1.5, 0.5],
    )
    table = truth.event_effects(by="cohort")
    lag0 = table[table["event_time"] == 0].set_index("cohort")["value"]
    for c, v in lag0.items():
        np.testing.assert_allclose(v, truth.mu_beta * truth.cohort_multiplier(c)[0])
    assert simulate(small(cohort_slope=0.5, n_periods=2), seed=1).truth.cohort_multiplier(
        ["entry", 2]
    ).tolist() == [1.0, 1.0]


def test_dip_precedes_credentials() -> None:
    settings = small(
        n_workers=3000,
        n_periods=10,
        dip_sd=0.4,
        dip_selection=1.5,
        entry_credential_share=0.0,
        max_credentials_gained=1,
        credential_rate=0.1,
    )
    sim = simulate(settings, seed=8)
    truth, f = sim.truth, sim.frame
    beta = f["group"].map(dict(zip(truth.groups, truth.beta, strict=True))).to_numpy()
    shape = f["group"].map(dict(zip(truth.groups, truth.shape, strict=True))).to_numpy()
    static = (
        beta
        * truth.term.curve_value(f["credentials"].to_numpy(dtype=float), shape)
        * truth.modifier_value(f["group"].to_numpy(), f["track_record"].to_numpy())
    )
    resid = pd.Series(credential_effect(sim) - static, index=f.index)
    first = sim.events.groupby("worker_id")["period"].min()
    e = f["period"] - f["worker_id"].map(first)
    by_e = resid.groupby(e).mean()
    assert by_e[-1.0] < by_e[-3.0] - 0.1
    assert truth.dip_sd == 0.4 and truth.to_dataset()["dip_sd"].item() == 0.4
    # without the dip, no such pattern
    plain = simulate(dataclasses.replace(settings, dip_sd=0.0), seed=8)
    assert plain.truth.dip_selection == 0.0


# --------------------------------------------------------------------------------------------
# the true event-study profiles
# --------------------------------------------------------------------------------------------


def test_event_effects_tables() -> None:
    sim = simulate(
        small(event_lags=LAGS, event_leads=(0.02, 0.0), cohort_slope=0.4, credential_rate=0.2),
        seed=9,
    )
    truth = sim.truth
    times = list(range(-3, 6))
    pop = truth.event_effects()
    assert list(pop.columns) == ["event_time", "value"]
    assert pop["event_time"].tolist() == times
    np.testing.assert_allclose(pop["value"], [0.02, 0.0, 0.0, *(truth.mu_beta * np.array(LAGS))])
    by_group = truth.event_effects(by="group")
    assert list(by_group.columns) == ["event_time", "group", "value"]
    assert len(by_group) == len(truth.groups) * len(times)
    for g, beta in zip(truth.groups, truth.beta, strict=True):
        sub = by_group[by_group["group"] == g]
        assert sub["event_time"].tolist() == times
        np.testing.assert_allclose(sub["value"], [0.02, 0.0, 0.0, *(beta * np.array(LAGS))])
    by_cohort = truth.event_effects(by="cohort")
    assert list(by_cohort.columns) == ["event_time", "cohort", "value"]
    assert list(dict.fromkeys(by_cohort["cohort"])) == list(truth.cohorts)
    assert len(by_cohort) == len(truth.cohorts) * len(times)
    assert (by_cohort.loc[by_cohort["event_time"] == -1, "value"] == 0).all()
    with pytest.raises(ValueError, match="by must be"):
        truth.event_effects(by="worker")  # type: ignore[arg-type]
    ds = truth.to_dataset()
    assert ds.sizes["event_time"] == 9
    np.testing.assert_allclose(ds["mu_event_profile"], pop["value"])
    np.testing.assert_allclose(
        ds["event_profile"].sel(group="D"), by_group[by_group["group"] == "D"]["value"]
    )
    assert ds.attrs["event_leads"] == 3 and ds.attrs["event_lags"] == 6
    assert ds["worker_cohort"].sizes["worker"] == len(truth.alpha)


def test_static_event_effects_equal_beta() -> None:
    truth = simulate(small(), seed=1).truth
    assert truth.event_window == EventWindow(leads=1, lags=1)
    pop = truth.event_effects()
    assert pop["event_time"].tolist() == [-1, 0]
    np.testing.assert_allclose(pop["value"], [0.0, truth.mu_beta])
    by_group = truth.event_effects(by="group")
    np.testing.assert_allclose(by_group.loc[by_group["event_time"] == 0, "value"], truth.beta)
    quad = dataclasses.replace(small(), curve="quadratic")
    quad = dataclasses.replace(
        quad, groups=tuple(dataclasses.replace(g, shape=-0.43) for g in quad.groups)
    )
    qt = simulate(quad, seed=1).truth
    np.testing.assert_allclose(
        qt.event_effects(by="group").query("event_time == 0")["value"], qt.beta * (1 - 0.043)
    )
