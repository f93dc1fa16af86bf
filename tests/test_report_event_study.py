"""The report's "Event study" section: present (figure, table, sentence, pre-trend test) for a
fit whose spec has ``[dynamics]``, absent for a static fit (whose sections stay
:data:`~bayescred.reporting.html.SECTIONS`; ``tests/test_report.py`` checks that page)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import bayescred as bc
from bayescred.analysis.event_study import EventStudyResult
from bayescred.reporting import html as report_html
from bayescred.reporting.html import EVENT_STUDY_SECTION, SECTIONS, report, report_sections
from bayescred.reporting.template import esc


@pytest.fixture(scope="module")
def page(dynamic_fit: bc.CredentialFit, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = report(dynamic_fit, tmp_path_factory.mktemp("report") / "dynamic.html")
    return Path(path).read_text(encoding="utf-8")


def section(page: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
    assert match is not None, key
    return match.group(1)


def test_sections_of_static_and_dynamic_fits(
    tiny_fit: bc.CredentialFit, dynamic_fit: bc.CredentialFit
) -> None:
    assert report_sections(tiny_fit) == SECTIONS
    keys = [key for key, _ in report_sections(dynamic_fit)]
    assert keys == [
        *[k for k, _ in SECTIONS[: keys.index("event-study")]],
        "event-study",
        *[k for k, _ in SECTIONS[keys.index("event-study") :]],
    ]
    assert keys[keys.index("event-study") - 1] == "parameters"


def test_dynamic_report_has_the_event_study_section(
    page: str, dynamic_fit: bc.CredentialFit
) -> None:
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == [heading for _, heading in report_sections(dynamic_fit)]
    assert f'<a href="#{EVENT_STUDY_SECTION[0]}">Event study</a>' in page
    body = section(page, "event-study")
    result = dynamic_fit.event_study()
    assert body.count('<img src="data:image/png;base64,') == 1  # no cohorts: one figure
    assert esc(result.sentence()) in body
    for label in result.table["label"]:
        assert f"<td>{esc(label)}</td>" in body
    assert "<td>0 (ref.)</td>" in body
    assert "<th>mean (%)</th>" in body  # log-scale outcome: percent columns
    test = dynamic_fit.pretrend_test()
    assert "<h3>Pre-trend test</h3>" in body
    assert esc(test.sentence()) in body
    assert f"<td>{test.statistic:.3g}</td>" in body and f"<td>{test.threshold:.3g}</td>" in body
    verdict = "evidence of pre-trends" if test.flagged else "no evidence of pre-trends"
    assert f"<td>{verdict}</td>" in body
    assert f"<td>{test.sensitivity.breakdown_slope:+.3g}</td>" in body
    assert "By adoption cohort" not in body
    assert "event-time effects (3 leads, 3 lags)" in page  # the header's model line


def test_trace_and_rank_plots_leave_out_the_derived_profiles(
    tiny_fit: bc.CredentialFit, dynamic_fit: bc.CredentialFit
) -> None:
    assert report_html.diagnostic_parameters(tiny_fit) is None
    names = report_html.diagnostic_parameters(dynamic_fit)
    assert names is not None and "mu_beta" in names and "lead" in names
    assert not set(names) & set(report_html.DERIVED_PROFILES)


@dataclass
class _Variant:
    """The shared dynamic fit under another ``[dynamics]`` (cohorts or no leads), without
    fitting again: the cohort profiles are the group profiles relabelled."""

    fit: bc.CredentialFit
    dynamics: dict[str, Any]

    @property
    def spec(self) -> bc.ModelSpec:
        return self.fit.spec.with_changes(dynamics=self.dynamics)

    def event_study(self, by: str | None = None, *, hdi_prob: float = 0.9) -> EventStudyResult:
        if by != "cohort":
            return self.fit.event_study(by=by, hdi_prob=hdi_prob)  # type: ignore[arg-type]
        groups = self.fit.event_study(by="group", hdi_prob=hdi_prob)
        draws = groups.draws.rename(group="cohort")
        labels = [f"cohort {g}" for g in groups.scope_labels]
        return EventStudyResult(
            draws=draws.assign_coords(cohort=labels),
            window=groups.window,
            log_scale=groups.log_scale,
            hdi_prob=hdi_prob,
            outcome=groups.outcome,
            plotter=groups.plotter,
        )

    def pretrend_test(self, **kwargs: Any) -> Any:
        return self.fit.pretrend_test(**kwargs)


def test_cohorts_add_their_figure_and_table(dynamic_fit: bc.CredentialFit) -> None:
    variant = _Variant(dynamic_fit, {"leads": 3, "lags": 3, "cohort_width": 4})
    body = report_html._event_study(variant)  # type: ignore[arg-type]
    assert "<h3>By adoption cohort</h3>" in body
    assert body.count('<img src="data:image/png;base64,') == 2
    cohorts = variant.event_study(by="cohort")
    for label in cohorts.scope_labels:
        assert f"<li>{esc(cohorts.sentence(label))}</li>" in body
        assert f"<td>{esc(label)}</td>" in body
    assert "4 period(s) per cohort" in body


def test_without_leads_the_pretrend_test_is_explained(dynamic_fit: bc.CredentialFit) -> None:
    variant = _Variant(dynamic_fit, {"leads": 1, "lags": 3})
    body = report_html._event_study(variant)  # type: ignore[arg-type]
    assert "<h3>Pre-trend test</h3>" in body
    assert "Not available" in body and "leads &gt;= 2" in body
    assert "Mahalanobis" not in body
