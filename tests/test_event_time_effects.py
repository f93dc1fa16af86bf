"""``fit.effect``, ``fit.average_effect`` and ``fit.hypothesis`` at an event time (models with
``[dynamics]``), checked against the static effects they rescale: the effect at event time
``e`` is the static effect with each group's ``beta`` replaced by its profile ``f_g(bin(e))``,
so per draw it is the static one times ``f_g(bin(e)) / beta_g``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayescred as bc
from bayescred.terms.base import stack_draws


def _ratio(fit: bc.CredentialFit, group: str, event_time: int) -> np.ndarray:
    post = fit.posterior
    window = fit.design.credential_term.window  # type: ignore[attr-defined]
    e = int(window.bin(np.asarray(event_time)))
    f = stack_draws(post["event_profile_group"].sel(group=group, event_time=e))
    return f / stack_draws(post["beta_group"].sel(group=group))


def _flat(da: object) -> np.ndarray:
    values = np.asarray(getattr(da, "values", da))
    return values.reshape(-1, *values.shape[2:])


@pytest.mark.parametrize("event_time", [-3, 0, 2, 40])
def test_effect_at_event_time_rescales_the_static_effect(
    dynamic_fit: bc.CredentialFit, event_time: int
) -> None:
    group = str(dynamic_fit.posterior["group"].values[0])
    static = dynamic_fit.effect(group=group, credentials=1, track_record=3.0)
    timed = dynamic_fit.effect(group=group, credentials=1, track_record=3.0, event_time=event_time)
    assert timed.table["event_time"].tolist() == [event_time]
    expected = _flat(static.draws)[:, 0] * _ratio(dynamic_fit, group, event_time)
    np.testing.assert_allclose(_flat(timed.draws)[:, 0], expected, rtol=1e-10, atol=1e-14)


def test_effect_at_the_reference_period_is_zero(dynamic_fit: bc.CredentialFit) -> None:
    group = str(dynamic_fit.posterior["group"].values[0])
    timed = dynamic_fit.effect(group=group, credentials=0, track_record=0.0, event_time=-1)
    np.testing.assert_array_equal(_flat(timed.draws), 0.0)


def test_average_effect_by_group_at_event_time(dynamic_fit: bc.CredentialFit) -> None:
    static = dynamic_fit.average_effect(by="group")
    timed = dynamic_fit.average_effect(by="group", event_time=2)
    assert timed.table["event_time"].tolist() == [2] * len(static.table)
    assert timed.table["group"].tolist() == static.table["group"].tolist()
    assert timed.table["rows"].tolist() == static.table["rows"].tolist()
    for i, group in enumerate(static.table["group"]):
        expected = _flat(static.draws)[:, i] * _ratio(dynamic_fit, str(group), 2)
        np.testing.assert_allclose(_flat(timed.draws)[:, i], expected, rtol=1e-10)
    assert "2 periods after it is first held" in timed.sentence(0)
    lead = dynamic_fit.average_effect(event_time=-2)
    assert "2 periods before it is first held" in lead.sentence(0)
    assert "first period it is held" in dynamic_fit.average_effect(event_time=0).sentence()


def test_average_effect_over_newdata_at_event_time(dynamic_fit: bc.CredentialFit) -> None:
    group = str(dynamic_fit.posterior["group"].values[-1])
    newdata = pd.DataFrame({"group": [group] * 2, "credentials": [0, 2], "track_record": [1, 9]})
    static = dynamic_fit.average_effect(newdata=newdata)
    timed = dynamic_fit.average_effect(newdata=newdata, event_time=1)
    expected = _flat(static.draws)[:, 0] * _ratio(dynamic_fit, group, 1)
    np.testing.assert_allclose(_flat(timed.draws)[:, 0], expected, rtol=1e-10)
    unseen = newdata.assign(group="no such group")
    with pytest.raises(ValueError, match="groups the model has seen"):
        dynamic_fit.average_effect(newdata=unseen, new_group="population", event_time=1)


def test_event_time_needs_dynamics(tiny_fit: bc.CredentialFit) -> None:
    with pytest.raises(ValueError, match=r"\[dynamics\]"):
        tiny_fit.average_effect(event_time=1)
    group = str(tiny_fit.posterior["group"].values[0])
    with pytest.raises(ValueError, match=r"\[dynamics\]"):
        tiny_fit.effect(group=group, credentials=1, track_record=1.0, event_time=1)


def test_hypothesis_reads_event_times(dynamic_fit: bc.CredentialFit) -> None:
    post = dynamic_fit.posterior
    build_up = dynamic_fit.hypothesis("event_profile[2] > event_profile[0]")
    f = post["event_profile"]
    expected = float((f.sel(event_time=2) > f.sel(event_time=0)).mean())
    assert build_up.probability == pytest.approx(expected)
    dip = dynamic_fit.hypothesis("event_profile[-2] < 0")
    assert dip.probability == pytest.approx(float((f.sel(event_time=-2) < 0).mean()))
    group = str(post["group"].values[0])
    one = dynamic_fit.hypothesis(f"event_profile_group[{group}, 1] > 0")
    g = post["event_profile_group"].sel(group=group, event_time=1)
    assert one.probability == pytest.approx(float((g > 0).mean()))
    with pytest.raises(ValueError, match="no event_time '7'"):
        dynamic_fit.hypothesis("event_profile[7] > 0")
