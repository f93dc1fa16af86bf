"""Repeated sampling of a spec with ``[dynamics]``: the event-time quantities and their truths
(:mod:`bayescred.calibration.study`); the 20-panel study itself is in the slow tier
(tests/test_event_study_recovery.py)."""

from __future__ import annotations

import numpy as np
import pytest

import bayescred as bc
from bayescred.calibration.study import (
    check_spec,
    event_effect_name,
    event_time_quantities,
    reference_factors,
    true_event_time_effects,
    truth_posterior,
)
from bayescred.data.presets import event_study_preset
from bayescred.data.simulate import SimulatedPanel, simulate
from bayescred.model.make import make_design


@pytest.fixture(scope="module")
def sim() -> SimulatedPanel:
    # the preset's window: leads 3 (two zero leads), lags 6; an anticipation lead at e = -2
    return simulate(event_study_preset(n_workers=150, n_periods=8, event_leads=(0.0, 0.05)), seed=2)


def _design(sim: SimulatedPanel, leads: int, lags: int) -> object:
    spec = bc.ModelSpec().with_changes(dynamics={"leads": leads, "lags": lags})
    return make_design(spec, sim.frame, events=sim.events)


def test_reference_factors_are_the_true_modifier_at_the_fits_reference(sim: SimulatedPanel) -> None:
    design = _design(sim, 3, 6)
    population, groups = reference_factors(sim.truth, design)
    # the simulator's own modifier at the fit's reference track record
    labels = [str(g) for g in design.panel.group_labels]
    reference = design.track_scale.reference
    np.testing.assert_allclose(groups, sim.truth.modifier_value(labels, reference), rtol=1e-12)
    z = sim.truth.scale.z(reference)
    expected = sim.truth.term.modifier_value(z, sim.truth.gamma[0], sim.truth.gamma[1])
    assert population == pytest.approx(float(expected), rel=1e-12)
    assert not np.allclose(groups, 1.0)  # the preset's modifier: a real rewrite
    post = truth_posterior(sim.truth, design)
    k = [sim.truth.groups.index(str(g)) for g in design.panel.group_labels]
    np.testing.assert_allclose(post["beta_group"].values[0, 0], sim.truth.beta[k] * groups)
    assert float(post["mu_beta"].values.item()) == pytest.approx(sim.truth.mu_beta * population)


def test_truth_on_a_wider_window_repeats_the_endpoints(sim: SimulatedPanel) -> None:
    design = _design(sim, 5, 9)
    truth = true_event_time_effects(sim, design)
    population, groups = reference_factors(sim.truth, design)
    pop = sim.truth.event_effects().set_index("event_time")["value"]
    labels = [str(g) for g in design.panel.group_labels]
    by_group = sim.truth.event_effects(by="group").set_index(["group", "event_time"])["value"]
    assert len(truth) == (1 + len(labels)) * 13  # event times -5 .. 8 without -1
    assert not np.isnan(list(truth.values())).any()
    # by hand: the simulator's window is -3 .. 5; earlier times share f(-3), later f(5)
    for e, at in [(-5, -3), (-4, -3), (-3, -3), (-2, -2), (0, 0), (5, 5), (6, 5), (8, 5)]:
        assert truth[event_effect_name(e)] == pytest.approx(pop[at] * population)
        for label, factor in zip(labels, groups, strict=True):
            expected = by_group[(label, at)] * factor
            assert truth[event_effect_name(e, label)] == pytest.approx(expected)
    # the whole profile, leads included, is scaled by the modifier (the simulator's sum)
    assert truth[event_effect_name(-2)] == pytest.approx(0.05 * population)
    assert event_effect_name(-1) not in truth


def test_truth_on_a_narrower_window_leaves_the_binned_ends_undefined(
    sim: SimulatedPanel,
) -> None:
    truth = true_event_time_effects(sim, _design(sim, 2, 4))
    assert np.isnan(truth[event_effect_name(-2)])  # bins e <= -2: f(-2) = 0.05, f(-3) = 0
    assert np.isnan(truth[event_effect_name(3)])  # bins e >= 3: lags 3, 4, 5 differ
    for e in (0, 1, 2):
        assert np.isfinite(truth[event_effect_name(e)])


def test_estimates_match_the_event_study(dynamic_fit: bc.CredentialFit) -> None:
    est = event_time_quantities(dynamic_fit.posterior, dynamic_fit.design)
    table = dynamic_fit.event_study(hdi_prob=0.9).table.set_index("event_time")
    groups = dynamic_fit.event_study(by="group", hdi_prob=0.9).table
    times = [e for e in table.index if e != -1]
    assert len(est) == len(times) * (1 + groups["group"].nunique())
    for e in times:
        q = est[event_effect_name(e)]
        assert (q["low"], q["high"]) == pytest.approx(
            (table.loc[e, "hdi_low"], table.loc[e, "hdi_high"])
        )
        assert q["low"] <= q["estimate"] <= q["high"]
    for row in groups[groups["event_time"] != -1].itertuples():
        q = est[event_effect_name(row.event_time, str(row.group))]
        assert (q["low"], q["high"]) == pytest.approx((row.hdi_low, row.hdi_high))


def test_dynamic_studies_need_log_project_value() -> None:
    spec = bc.ModelSpec().with_changes(
        dynamics={"leads": 2, "lags": 3}, outcome={"column": "log_earnings"}
    )
    with pytest.raises(bc.SpecError, match="event-time effects"):
        check_spec(spec)
    check_spec(bc.ModelSpec().with_changes(dynamics={"leads": 2, "lags": 3}))
