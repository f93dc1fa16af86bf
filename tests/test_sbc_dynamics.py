"""SBC of specs with ``[dynamics]`` on the skeleton of a small simulated panel with credential
events (120 workers x 8 periods): the event-time parameters and profiles are calibrated, and a
deliberately wrong event-time prior is flagged (the study has power). Build-only checks (no
MCMC) are in ``tests/test_sbc_dynamics_build.py``."""

from __future__ import annotations

import time

import pytest

import bayescred as bc
from bayescred.calibration.sbc import fixed_prior_spec
from bayescred.data.presets import event_study_preset
from bayescred.data.simulate import SimulatedPanel, simulate
from bayescred.spec import PriorSpec

pytestmark = pytest.mark.slow

#: Sampler settings of each fit (thinned to about the bulk ESS: 50 to 200 kept draws).
FIT = {"draws": 100, "tune": 200, "chains": 2}
N_SIMS = 50
#: The event-time term's ranked variables (element names start with one of them).
EVENT_TIME = (
    "lag_step",
    "sigma_lag_step",
    "lead",
    "sigma_lead",
    "sigma_cohort_lag",
    "sigma_cohort_lead",
    "cohort_lag",
    "cohort_lead",
    "event_profile",
    "event_profile_group",
    "event_profile_cohort",
)


@pytest.fixture(scope="module")
def sim() -> SimulatedPanel:
    return simulate(event_study_preset(n_workers=120, n_periods=8), seed=3)


@pytest.fixture(scope="module")
def cohort_spec() -> bc.ModelSpec:
    return bc.ModelSpec(
        name="dynamic_cohorts",
        effect={"curve": "linear", "modifier": "none"},
        dynamics={"leads": 2, "lags": 3, "cohort_width": 4},
    )


def _event_time(result: bc.CalibrationResult) -> list[str]:
    return [p for p in result.tests["parameter"] if p.split("[")[0] in EVENT_TIME]


def _check(result: bc.CalibrationResult, expected: set[str], wall: float) -> None:
    print(f"\n{result.settings['spec_name']}: {N_SIMS} simulations in {wall:.0f} s")
    print(result)  # the figures for the record (pytest -s)
    assert result.failed == 0
    ranked = _event_time(result)
    assert expected <= {p.split("[")[0] for p in ranked}
    # the reference entries f(-1) = 0 are constants, not ranked
    assert not any(p.endswith(",-1]") or p.endswith("[-1]") for p in ranked)
    tests = result.tests.set_index("parameter").loc[ranked]
    assert tests["uniform"].all(), result.verdict


def test_sbc_of_a_dynamic_spec_is_calibrated(client: object, sim: SimulatedPanel) -> None:
    """The default effect with two leads and three lags (frame and events=)."""
    spec = bc.ModelSpec(name="dynamic", dynamics={"leads": 2, "lags": 3})
    start = time.perf_counter()
    result = bc.calibrate(
        spec, sim.frame, events=sim.events, n_sims=N_SIMS, client=client, progressbar=False,
        seed=1, **FIT,
    )  # fmt: skip
    expected = {"lag_step", "sigma_lag_step", "lead", "sigma_lead", "event_profile"}
    _check(result, expected | {"event_profile_group"}, time.perf_counter() - start)


def test_sbc_of_a_dynamic_spec_with_cohorts_is_calibrated(
    client: object, sim: SimulatedPanel, cohort_spec: bc.ModelSpec
) -> None:
    """Adoption cohorts of 4 periods, a linear effect (a Panel validated with the events)."""
    panel = bc.validate(
        sim.frame, outcome="log_project_value", missing_outcome="exclude", events=sim.events
    )
    start = time.perf_counter()
    result = bc.calibrate(
        cohort_spec, panel, n_sims=N_SIMS, client=client, progressbar=False, seed=1, **FIT
    )
    _check(result, set(EVENT_TIME), time.perf_counter() - start)


def test_a_wrong_event_time_prior_is_flagged(
    client: object, sim: SimulatedPanel, cohort_spec: bc.ModelSpec
) -> None:
    """Truths of sigma_lead drawn from a prior 10 times wider than the model's (what a fitted
    prior rescaled on each simulated outcome would do): the ranks of sigma_lead depart from
    uniform, so the study above can see a wrong event-time prior."""
    s = fixed_prior_spec(cohort_spec, sim.frame, events=sim.events).priors["sigma_lead"].sigma
    assert s is not None
    result = bc.calibrate(
        cohort_spec, sim.frame, events=sim.events, n_sims=30, client=client, progressbar=False,
        seed=2, simulation_priors={"sigma_lead": PriorSpec(dist="half_normal", sigma=10 * s)},
        **FIT,
    )  # fmt: skip
    tests = result.tests.set_index("parameter")
    print(f"\nwrong sigma_lead prior: p = {tests.loc['sigma_lead', 'p_value']:.3g}")
    assert not tests.loc["sigma_lead", "uniform"], result.verdict
