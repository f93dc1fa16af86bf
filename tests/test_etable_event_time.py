"""etable rows of the event-time profile: one per event time for a fit with ``[dynamics]``
(the population profile of ``fit.event_study()``, the reference reading ``0 (ref.)``), none for
a static fit."""

from __future__ import annotations

import pandas as pd
import pytest

import bayescred as bc
from bayescred.reporting.etable import EstimatesTable, etable


@pytest.fixture(scope="module")
def table(dynamic_fit: bc.CredentialFit, tiny_fit: bc.CredentialFit) -> EstimatesTable:
    return etable({"dynamic": dynamic_fit, "static": tiny_fit}, effects=False, loo=False)


def test_one_row_per_event_time(table: EstimatesTable, dynamic_fit: bc.CredentialFit) -> None:
    rows = table.frame.xs("event_time", level="panel")
    assert rows.index.tolist() == [
        "event time -3 (≤)",
        "event time -2",
        "event time -1",
        "event time 0",
        "event time 1",
        "event time 2 (≥)",
    ]
    panels = list(dict.fromkeys(table.frame.index.get_level_values("panel")))
    assert panels[: panels.index("event_time") + 2][-2:] == ["event_time", "parameters"]
    assert (rows["static"] == "").all()
    assert rows.loc["event time -1", "dynamic"] == "0 (ref.)"
    es = dynamic_fit.event_study(hdi_prob=0.9).table.set_index("event_time")
    r = es.loc[0]
    assert rows.loc["event time 0", "dynamic"] == (
        f"{r['mean']:.3f}\n[{r['hdi_low']:.3f}, {r['hdi_high']:.3f}]"
    )
    values = table.values.query("panel == 'event_time'").set_index("row")
    assert values["model"].eq("dynamic").all()
    assert values["value"].tolist() == pytest.approx(es["mean"].tolist())
    assert values["hdi_high"].tolist() == pytest.approx(es["hdi_high"].tolist())
    assert "event time" in " ".join(table.notes)
    assert (
        "effect of the first credential 2 period(s) after" in table.descriptions["event time 2 (≥)"]
    )


def test_parameters_panel_leaves_the_profile_to_the_event_time_panel(
    table: EstimatesTable, dynamic_fit: bc.CredentialFit
) -> None:
    params = table.frame.xs("parameters", level="panel").index
    assert not any(row.startswith("event_profile") for row in params)
    assert "lead[-2]" in params and "mu_beta" in params
    plain = etable(dynamic_fit, effects=False, loo=False, event_times=False)
    assert "event_time" not in plain.frame.index.get_level_values("panel")
    assert "event_profile[0]" in plain.frame.xs("parameters", level="panel").index


def test_static_fit_has_no_event_time_rows(tiny_fit: bc.CredentialFit) -> None:
    static = etable(tiny_fit, effects=False, loo=False)
    assert "event_time" not in static.frame.index.get_level_values("panel")
    assert not any("event time" in note for note in static.notes)


def test_renderings(table: EstimatesTable) -> None:
    latex = table.to_latex()
    assert r"event time -3 ($\leq$)" in latex and r"event time 2 ($\geq$)" in latex
    assert "Effect of the first credential by event time" in table.to_html()
    markdown = table.to_markdown()
    assert "| event time -1 | 0 (ref.) |  |" in markdown
    assert isinstance(table.frame, pd.DataFrame)
