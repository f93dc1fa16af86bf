"""SBC of a spec with ``[dynamics]``, build only (no MCMC): the event-time priors are fixed
in the fitted spec, and the skeleton's credential events reach the prior model, the
replicator and the refit's panel (the slow study is ``tests/test_sbc_dynamics.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import bayescred as bc
import bayescred.calibration.api as api
from bayescred.calibration.sbc import (
    fixed_elements,
    fixed_prior_spec,
    prepare_sbc,
    ranked_variables,
    with_outcome,
)
from bayescred.data.presets import event_study_preset
from bayescred.data.simulate import SimulatedPanel, simulate
from bayescred.model.build import build_prior_model
from bayescred.model.make import make_design

#: The event-time term's priors (``EventTimeCredentialTerm.parameters``).
DYNAMIC_PRIORS = (
    "lag_step",
    "sigma_lag_step",
    "lead",
    "sigma_lead",
    "sigma_cohort_lag",
    "sigma_cohort_lead",
)


@pytest.fixture(scope="module")
def sim() -> SimulatedPanel:
    return simulate(event_study_preset(n_workers=60, n_periods=6), seed=2)


@pytest.fixture(scope="module")
def spec() -> bc.ModelSpec:
    return bc.ModelSpec(dynamics={"leads": 2, "lags": 3, "cohort_width": 3})


def _counts(model: Any) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.asarray(model["event_signature"].get_value()),
        np.asarray(model["event_signature_counts"].get_value()),
    )


def test_fixed_prior_spec_keeps_the_dynamic_priors(sim: SimulatedPanel, spec: bc.ModelSpec) -> None:
    """The event-time priors resolved on the skeleton are written into the spec and read back,
    so that a simulated outcome (another scale) does not rescale them."""
    design = make_design(spec, sim.frame, events=sim.events)
    fixed = fixed_prior_spec(spec, sim.frame, events=sim.events)
    assert set(DYNAMIC_PRIORS) <= set(fixed.priors)
    for name in DYNAMIC_PRIORS:
        assert fixed.priors[name] == design.priors[name], name
    assert make_design(fixed, sim.frame, events=sim.events).priors == design.priors
    # the point of fixing them: an outcome 10 times as spread keeps the same priors
    wide = sim.frame.assign(log_project_value=10 * sim.frame["log_project_value"])
    assert (
        make_design(spec, wide, events=sim.events).priors["lag_step"] != design.priors["lag_step"]
    )
    assert make_design(fixed, wide, events=sim.events).priors == design.priors
    # and a static spec gets none of them
    assert not set(DYNAMIC_PRIORS) & set(fixed_prior_spec(bc.ModelSpec(), sim.frame).priors)


def test_sbc_models_use_the_skeletons_events(sim: SimulatedPanel, spec: bc.ModelSpec) -> None:
    """The prior model a simulation draws from and the panel each refit gets carry the given
    events, not those derived from the credentials column (they differ on this skeleton)."""
    job = prepare_sbc(spec, sim.frame, fit={}, seed=0, events=sim.events)
    assert job.panel.events is not None and not job.panel.events.derived
    given = make_design(spec, sim.frame, events=sim.events)
    derived = make_design(spec, sim.frame)
    expected = given.rows().event_counts
    assert expected is not None and derived.rows().event_counts is not None
    assert (expected != derived.rows().event_counts).any()  # the test has teeth
    sim_design = make_design(job.simulation_spec, job.panel)
    np.testing.assert_array_equal(sim_design.rows().event_counts, expected)
    model = build_prior_model(sim_design)
    for mine, theirs in zip(_counts(model), _counts(build_prior_model(given)), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(_counts(model), _counts(build_prior_model(derived)), strict=True)
    )
    # the refit's panel (simulated outcome) keeps them
    y = np.zeros(job.panel.n_rows)
    assert with_outcome(job.panel, y).events is job.panel.events
    names = ranked_variables(model)
    for name in [*DYNAMIC_PRIORS, "cohort_lag", "cohort_lead", "event_profile"]:
        assert name in names, name
    assert "event_profile_group" in names and "event_profile_cohort" in names
    assert not any(n.endswith("_offset") for n in names)


def test_profile_reference_is_not_ranked() -> None:
    """``event_profile[-1] = 0`` in the truth and every draw: its rank would always be L/2."""
    truth = {"event_profile[-1]": 0.0, "event_profile[0]": 0.0, "lead[-2]": 0.3}
    draws = {
        "event_profile[-1]": np.zeros(5),
        "event_profile[0]": np.array([0.0, 0.1, -0.2, 0.0, 0.3]),
        "lead[-2]": np.full(5, 0.3 + 1e-12),
    }
    assert fixed_elements(truth, draws) == ["event_profile[-1]"]


def test_calibrate_passes_the_events_on(
    sim: SimulatedPanel, spec: bc.ModelSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``calibrate(frame, events=)`` and ``calibrate(panel with events)`` give the job the
    same skeleton with its events, and the events enter the study's settings (a results file
    of other events is refused); a static spec's settings are as before."""
    seen: list[tuple[Any, dict[str, Any]]] = []

    def run_study(runner: Any, job: Any, n: int, settings: dict[str, Any], **kw: Any) -> Any:
        seen.append((job, settings))
        return pd.DataFrame(), pd.DataFrame(), None

    monkeypatch.setattr(api, "_run_study", run_study)
    bc.calibrate(spec, sim.frame, events=sim.events, progressbar=False)
    panel = bc.validate(
        sim.frame, outcome="log_project_value", missing_outcome="exclude", events=sim.events
    )
    bc.calibrate(spec, panel, progressbar=False)
    bc.calibrate(spec, sim.frame, progressbar=False)
    bc.calibrate(bc.ModelSpec(), sim.frame, events=sim.events, progressbar=False)
    (by_frame, s1), (by_panel, s2), (derived, s3), (_, s4) = seen
    for job in (by_frame, by_panel):
        assert job.panel.events is not None and not job.panel.events.derived
        np.testing.assert_array_equal(job.panel.events.time, by_frame.panel.events.time)
    assert s1 == s2 and "events" in s1
    assert derived.panel.events is None and "events" not in s3
    assert "events" not in s4 and set(s4) == {
        "kind", "spec_name", "spec", "simulation_spec", "skeleton", "fit", "seed",
    }  # fmt: skip
    with pytest.raises(bc.DataError, match="already validated Panel"):
        bc.calibrate(spec, panel, events=sim.events, progressbar=False)
