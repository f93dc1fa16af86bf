"""The report's "Which credentials pay" section: present (sentence, caterpillar and shrinkage
figures, highest and lowest types, categories, sds and match effect) for a fit whose spec has
``[credential_types]``, absent for a fit without types (whose page is otherwise what it was:
sections, header line and trace-plot parameters unchanged)."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

import bayescred as bc
from bayescred.analysis.type_effects import TypeEffectsResult
from bayescred.reporting import html as report_html
from bayescred.reporting.html import SECTIONS, TYPES_SECTION, report, report_sections
from bayescred.reporting.template import esc, fmt_cell

DATA_PNG = "data:image/png;base64,"
VOID = {"meta", "img", "br", "hr", "input", "link", "col", "area", "base", "wbr", "source"}


class BalanceChecker(HTMLParser):
    """Every non-void element closed, in order; collects problems instead of raising."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


@pytest.fixture(scope="module")
def page(types_fit: bc.CredentialFit, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = report(types_fit, tmp_path_factory.mktemp("report") / "types.html")
    return Path(path).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def body(page: str) -> str:
    return section(page, TYPES_SECTION[0])


@pytest.fixture(scope="module")
def effects(types_fit: bc.CredentialFit) -> TypeEffectsResult:
    return types_fit.type_effects()


def section(page: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', page, re.S)
    assert match is not None, key
    return match.group(1)


def table_rows(html_part: str, caption_start: str) -> list[list[str]]:
    """The body cells of the table whose caption starts with ``caption_start``."""
    match = re.search(
        rf"<caption>{re.escape(esc(caption_start))}.*?</caption>.*?<tbody>(.*?)</tbody>",
        html_part,
        re.S,
    )
    assert match is not None, caption_start
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", match.group(1))
    ]


def expected_row(r: pd.Series, rank: int, dim: str, raw: bool) -> list[str]:
    cells = [rank, r[dim], *([r["category"]] if dim == "credential_type" else []), r["holders"]]
    cells += [r["mean"], r["hdi_low"], r["hdi_high"]]
    cells += [r["percent"], r["percent_hdi_low"], r["percent_hdi_high"], r["p_above_average"]]
    if raw:
        cells += [r["raw_mean"], r["raw_se"]]
    return [fmt_cell(v.item() if isinstance(v, np.generic) else v) for v in cells]


def test_sections_of_fits_with_and_without_types(
    tiny_fit: bc.CredentialFit, types_fit: bc.CredentialFit, page: str
) -> None:
    assert report_sections(tiny_fit) == SECTIONS
    keys = [key for key, _ in report_sections(types_fit)]
    at = keys.index(TYPES_SECTION[0])
    assert keys[at - 1] == "parameters"
    assert [*keys[:at], *keys[at + 1 :]] == [k for k, _ in SECTIONS]
    assert re.findall(r"<h2>(.*?)</h2>", page) == [h for _, h in report_sections(types_fit)]
    assert '<a href="#credential-types">Which credentials pay</a>' in page
    line = re.search(r'<p class="meta">(.*?)</p>', page)
    assert line is not None
    assert "credential types (partially pooled within categories, match effect)" in line.group(1)


def test_page_is_well_formed_and_self_contained(page: str) -> None:
    checker = BalanceChecker()
    checker.feed(page)
    checker.close()
    assert checker.problems == [] and checker.stack == []
    assert "http://" not in page and "https://" not in page
    for src in re.findall(r'src="([^"]*)"', page):
        assert src.startswith(DATA_PNG)


def test_figures_are_embedded(body: str) -> None:
    images = re.findall(r'<img src="([^"]*)" alt="([^"]*)">', body)
    assert [alt for _, alt in images] == [
        "caterpillar plot of the effect by credential type",
        "shrinkage plot of raw and pooled type effects",
    ]
    for src, _ in images:
        raw = base64.b64decode(src[len(DATA_PNG) :], validate=True)
        pixels = mpimg.imread(io.BytesIO(raw), format="png")
        assert pixels.ndim == 3 and pixels.shape[0] > 200 and float(pixels.std()) > 0.01
    assert "all 16 types" in body  # fewer than FIGURE_TYPES: every type in the caterpillar


def test_sentence_and_uncertainty(body: str, effects: TypeEffectsResult) -> None:
    t = effects.table
    assert f'<p class="lead">{esc(effects.sentence())}</p>' in body
    above = int((t["p_above_average"] >= 0.95).sum())
    below = int((t["p_above_average"] <= 0.05).sum())
    few = int((t["holders"] < effects.min_raw_holders).sum())
    assert esc(f"{above} of 16 types are credibly above the average type and {below}") in body
    assert f"the other {16 - above - below} cannot be told apart" in body
    assert f"{few} of 16 have fewer than {effects.min_raw_holders}" in body
    assert esc("a type with few holders is shrunk towards its category") in body
    assert esc("for a worker whose own job category is not the type's") in body


def test_highest_and_lowest_types(body: str, effects: TypeEffectsResult) -> None:
    t = effects.table
    assert t["raw_mean"].notna().any()  # types with >= 20 holders have a raw within estimate
    top = table_rows(body, "The 10 highest of 16 types")
    assert top == [expected_row(t.iloc[i], i + 1, "credential_type", True) for i in range(10)]
    bottom = table_rows(body, "The 5 lowest of 16 types")
    assert bottom == [
        expected_row(t.iloc[i], i + 1, "credential_type", True) for i in range(11, 16)
    ]
    assert "The other 1 type is in fit.type_effects().table." in body
    assert "<th>P(&gt; average)</th>" in body and "<th>raw within</th>" in body
    assert "<th>mean (%)</th>" in body  # log-scale outcome: percent columns
    missing = t[t["raw_mean"].isna()].index[0]
    if missing < 10:
        assert top[missing][-2:] == ["–", "–"]  # below the holders threshold: no raw estimate


def test_category_table(body: str, types_fit: bc.CredentialFit) -> None:
    by_category = types_fit.type_effects(by="category")
    assert "<h3>By skill category</h3>" in body
    assert esc(by_category.sentence()) in body
    rows = table_rows(body, "Effect of a first credential of a typical type")
    t = by_category.table
    assert rows == [expected_row(t.iloc[i], i + 1, "category", False) for i in range(len(t))]
    assert {r[1] for r in rows} == {str(c) for c in types_fit.posterior["category"].values}


def test_spreads_and_match_effect(body: str, types_fit: bc.CredentialFit) -> None:
    post = types_fit.posterior
    summary = types_fit.summary().set_index("parameter")
    rows = table_rows(body, "Posterior summaries (90% HDI; model scale)")
    assert [r[0] for r in rows] == ["sigma_type", "sigma_category", "match_effect"]
    for r in rows:
        draws = post[r[0]].values.ravel()
        low, high = summary.loc[r[0], ["hdi_low", "hdi_high"]].astype(float)
        assert r[2:] == [
            fmt_cell(float(draws.mean())),
            fmt_cell(float(draws.std(ddof=1))),
            fmt_cell(low),
            fmt_cell(high),
        ]
    assert "<h3>Spread between types and categories and the match effect</h3>" in body
    m = summary.loc["match_effect"]
    assert esc(f"adds {m['mean']:+.3g} (90% HDI {m['hdi_low']:+.3g} to {m['hdi_high']:+.3g}") in (
        body
    )
    pct = 100 * np.expm1(post["match_effect"].values.ravel())
    assert f"by {pct.mean():+.1f}%" in body
    p = float((post["match_effect"].values > 0).mean())
    assert f"matching adds to it is {p:.2f}." in body
    sd = summary.loc["sigma_type"]
    assert f"between-type sd of {sd['mean']:.3g}" in body


def test_trace_and_rank_plots_leave_out_the_derived_type_effects(
    tiny_fit: bc.CredentialFit, types_fit: bc.CredentialFit
) -> None:
    assert report_html.diagnostic_parameters(tiny_fit) is None
    names = report_html.diagnostic_parameters(types_fit)
    assert names is not None
    assert {"mu_beta", "sigma_type", "sigma_category", "match_effect"} <= set(names)
    assert not set(names) & {"type_effect", "category_effect"}


def test_a_fit_without_types_gets_no_section(
    tiny_fit: bc.CredentialFit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page of a fit without types: the types builder is never called, the sections and
    the header line are those of before (the sections' own content is covered by
    tests/test_report.py; the builders are stubbed here to keep this fast)."""

    def never(fit: Any) -> str:
        raise AssertionError("the credential-types section was built for a fit without types")

    monkeypatch.setattr(report_html, "_credential_types", never)
    for name in ("_summary", "_data", "_specification", "_software"):
        monkeypatch.setattr(report_html, name, lambda fit, name=name: f"<p>{name}</p>")
    for name in ("_diagnostics", "_parameters", "_credential_curve", "_track_record"):
        monkeypatch.setattr(report_html, name, lambda fit, plots, name=name: f"<p>{name}</p>")
    monkeypatch.setattr(report_html, "_predictive_check", lambda fit, plots: "<p>ppc</p>")
    monkeypatch.setattr(report_html, "_profiles", lambda fit, profiles: "<p>profiles</p>")
    text = report(tiny_fit, tmp_path / "static.html").read_text(encoding="utf-8")
    assert re.findall(r'<section id="([^"]+)">', text) == [k for k, _ in SECTIONS]
    assert "Which credentials pay" not in text and "credential types" not in text
    meta = re.search(r'<p class="meta">(.*?)</p>', text)
    assert meta is not None
    assert meta.group(1) == (
        "normal likelihood, within worker effects, geometric credential curve, log_quadratic "
        "track-record modifier; 2 chains × 150 draws."
    )


@dataclasses.dataclass
class _Variant:
    """The shared types fit under another ``[credential_types]`` or worker-effects setting,
    without fitting again: the summary drops the parameters such a spec would not have, and
    ``raw=False`` drops the raw within estimates (as for a fit without within worker
    effects)."""

    fit: bc.CredentialFit
    changes: dict[str, Any]
    raw: bool = True

    @property
    def spec(self) -> bc.ModelSpec:
        return self.fit.spec.with_changes(**self.changes)

    @property
    def posterior(self) -> Any:
        return self.fit.posterior

    def type_effects(self, by: str = "type", **kwargs: Any) -> TypeEffectsResult:
        result = self.fit.type_effects(by, **kwargs)  # type: ignore[arg-type]
        return result if self.raw else dataclasses.replace(result, raw=None)

    def summary(self, **kwargs: Any) -> pd.DataFrame:
        table = self.fit.summary(**kwargs)
        types = self.spec.credential_types
        assert types is not None
        drop = [] if types.match else ["match_effect"]
        if types.pooling == "none":
            drop += ["sigma_type", "sigma_category"]
        return table[~table["parameter"].isin(drop)]


def test_without_pooling_or_match(types_fit: bc.CredentialFit) -> None:
    variant = _Variant(types_fit, {"credential_types": {"pooling": "none", "match": False}})
    body = report_html._credential_types(variant)  # type: ignore[arg-type]
    assert "Types are not pooled" in body and "shrunk towards" not in body
    assert "job category is not the type" not in body
    assert "<h3>By skill category</h3>" in body and "no category level" in body
    assert "Effect of a first credential of a typical type" not in body
    assert "<h3>Spread" not in body and "Match effect" not in body


def test_match_effect_without_pooling(types_fit: bc.CredentialFit) -> None:
    variant = _Variant(types_fit, {"credential_types": {"pooling": "none", "match": True}})
    body = report_html._credential_types(variant)  # type: ignore[arg-type]
    assert "<h3>Match effect</h3>" in body
    assert table_rows(body, "Posterior summaries")[0][0] == "match_effect"


def test_without_raw_estimates_the_shrinkage_figure_is_explained(
    types_fit: bc.CredentialFit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_html, "TOP_TYPES", 12)  # 12 + 5 >= 16: one table of every type
    variant = _Variant(
        types_fit, {"worker_effects": "random", "credential_types": {"match": True}}, raw=False
    )
    body = report_html._credential_types(variant)  # type: ignore[arg-type]
    assert body.count(f'<img src="{DATA_PNG}') == 1  # the caterpillar only
    assert "No shrinkage figure" in body and "random worker effects" in body
    assert "<h3>Every type, ranked</h3>" in body and "<th>raw within</th>" not in body
    rows = table_rows(body, "All 16 credential types")
    t = types_fit.type_effects().table
    assert rows == [expected_row(t.iloc[i], i + 1, "credential_type", False) for i in range(16)]


def test_without_the_types_table_the_section_says_so(types_fit: bc.CredentialFit) -> None:
    """A fit whose design lacks the types table (a fit loaded from a file): a note, and the
    sds and match effect, which need the posterior only."""

    class _Loaded(_Variant):
        def type_effects(self, by: str = "type", **kwargs: Any) -> TypeEffectsResult:
            raise bc.DataError("[credential_types] needs the credential events")

    body = report_html._credential_types(_Loaded(types_fit, {}))  # type: ignore[arg-type]
    assert body.startswith('<p class="note">The effects by credential type are not available')
    assert "<img" not in body
    assert [r[0] for r in table_rows(body, "Posterior summaries")] == [
        "sigma_type",
        "sigma_category",
        "match_effect",
    ]
