"""The HTML report: every section, embedded PNGs only, no network references, escaped text,
and a real render in headless Chromium (skipped when Chromium is not installed)."""

from __future__ import annotations

import base64
import html
import importlib
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
import pytest
from browser import drawn_share, dump_dom, grey_levels, screenshot

import bayescred as bc
from bayescred.reporting.html import SECTIONS, default_profiles, report

# the module itself, even once ``bayescred.reporting.html`` is also exported as the function
report_module = importlib.import_module("bayescred.reporting.html")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_PNG = "data:image/png;base64,"


class ReportParser(HTMLParser):
    """Collects headings, images, every attribute value, tags and <pre> text."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: dict[str, list[str]] = {"h1": [], "h2": [], "h3": [], "title": []}
        self.images: list[dict[str, str | None]] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.pre: list[str] = []
        self.list_items: list[str] = []
        self._open: list[str] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))
        if tag == "img":
            self.images.append(dict(attrs))
        if tag in (*self.headings, "pre", "li"):
            self._open.append(tag)
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()
            text = "".join(self._text).strip()
            if tag == "pre":
                self.pre.append(text)
            elif tag == "li":
                self.list_items.append(text)
            else:
                self.headings[tag].append(text)

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)


def parse(path: Path) -> ReportParser:
    parser = ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


@pytest.fixture(scope="module")
def report_path(tiny_fit: bc.CredentialFit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "sub" / "report.html"
    written = report(tiny_fit, out, title='Credentials <&> "quotes" report')
    assert written == out
    return out


@pytest.fixture(scope="module")
def parsed(report_path: Path) -> ReportParser:
    return parse(report_path)


def test_every_section_is_present_in_order(parsed: ReportParser) -> None:
    assert parsed.headings["h2"] == [heading for _, heading in SECTIONS]
    assert parsed.headings["h1"] == ['Credentials <&> "quotes" report']
    assert parsed.headings["title"] == ['Credentials <&> "quotes" report']
    anchors = {v for tag, name, v in parsed.attributes if tag == "section" and name == "id"}
    assert anchors == {key for key, _ in SECTIONS}
    assert {"Population parameters", "Group parameters", "Saturation point"} <= set(
        parsed.headings["h3"]
    )


def test_text_is_escaped(report_path: Path) -> None:
    text = report_path.read_text(encoding="utf-8")
    assert "Credentials <&>" not in text
    assert "Credentials &lt;&amp;&gt; &quot;quotes&quot; report" in text


def test_images_are_embedded_valid_pngs(parsed: ReportParser) -> None:
    # trace, rank, groups, effect curve, track record, ppc
    assert len(parsed.images) == 6
    for img in parsed.images:
        src = img["src"] or ""
        assert src.startswith(DATA_PNG)
        assert img.get("alt")
        raw = base64.b64decode(src[len(DATA_PNG) :], validate=True)
        assert raw.startswith(PNG_SIGNATURE)
        pixels = mpimg.imread(io.BytesIO(raw), format="png")
        assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 500
        assert float(pixels.std()) > 0.01, "a figure must not be blank"


def test_no_external_references(report_path: Path, parsed: ReportParser) -> None:
    text = report_path.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert not parsed.tags & {"script", "link", "iframe", "object", "embed", "base"}
    for tag, name, value in parsed.attributes:
        if name in ("src", "href", "srcset", "data", "poster", "action"):
            assert value.startswith((DATA_PNG, "#")), f"<{tag} {name}={value[:60]!r}>"
    assert "url(" not in text and "@import" not in text


def test_content_matches_the_fit(
    tiny_fit: bc.CredentialFit, report_path: Path, parsed: ReportParser
) -> None:
    text = report_path.read_text(encoding="utf-8")
    avg = tiny_fit.average_effect().table.iloc[0]
    lead = re.search(r'<p class="lead">(.*?)</p>', text)
    assert lead is not None
    assert f"{avg['pct_median']:+.1f}%" in lead.group(1)
    assert f"{int(avg['rows']):,} worker-periods" in lead.group(1)
    # the spec, as TOML, round-trips to the fit's spec
    assert len(parsed.pre) == 1
    assert bc.ModelSpec.from_toml_string(parsed.pre[0]) == tiny_fit.spec
    # rows not used, by reason, and the convergence verdict in words
    for reason in tiny_fit.rows_not_used()["reason"]:
        assert reason in text
    assert html.escape(tiny_fit.verdict, quote=True) in text
    # one sentence per default profile (each group at 0, 1, 3 credentials)
    effect = tiny_fit.effect(profiles=default_profiles(tiny_fit))
    sentences = [effect.sentence(i) for i in range(len(effect.table))]
    assert len(sentences) == 3 * len(tiny_fit.posterior["group"])
    assert set(sentences) <= set(parsed.list_items)
    for statement in tiny_fit.peak_track_record()["statement"]:
        assert statement in parsed.list_items
    assert "Posterior predictive check" in parsed.headings["h2"]
    assert "p-value" in text


def test_custom_profiles_and_unseen_groups(tiny_fit: bc.CredentialFit) -> None:
    profiles = pd.DataFrame({"group": ["B", "Z"], "credentials": [2, 0], "track_record": [5, 50]})
    html_part = report_module._profiles(tiny_fit, profiles)
    assert html_part.count("<li>") == 2
    assert "population distribution" in html_part


def test_missing_checks_leave_a_note(
    tiny_fit: bc.CredentialFit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bayescred.analysis import checks

    def unavailable(*args: object, **kwargs: object) -> None:
        raise NotImplementedError("no checks for this likelihood")

    monkeypatch.setattr(checks, "check", unavailable)
    monkeypatch.setattr(type(tiny_fit), "check", unavailable, raising=False)
    note = report_module._run_check(tiny_fit)
    assert isinstance(note, str) and "not available" in note


# ------------------------------------------------------------------ headless Chromium
IMAGE_PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var out = document.createElement("pre");
  out.id = "image-status";
  out.textContent = JSON.stringify(images.map(function (img) {
    return {complete: img.complete, width: img.naturalWidth, height: img.naturalHeight};
  }));
  document.body.appendChild(out);
});
</script>"""


def test_report_renders_in_headless_chromium(
    report_path: Path, parsed: ReportParser, tmp_path: Path
) -> None:
    shot = tmp_path / "report.png"
    pixels = screenshot(
        report_path,
        shot,
        tmp_path / "profile-shot",
        window=(1280, 4000),
        flags=("--force-device-scale-factor=1", "--hide-scrollbars"),
    )
    assert shot.read_bytes().startswith(PNG_SIGNATURE)
    assert pixels.shape[:2] == (4000, 1280)
    assert float(grey_levels(pixels).var()) > 0.0
    assert drawn_share(pixels) > 0.02, "the page must not render blank"

    # every image loads: a copy of the report reports each image's natural size into the DOM
    probe = tmp_path / "probe.html"
    probe.write_text(
        report_path.read_text(encoding="utf-8").replace("</body>", IMAGE_PROBE + "</body>"),
        encoding="utf-8",
    )
    dom = dump_dom(probe, tmp_path / "profile-dom", flags=("--virtual-time-budget=10000",))
    found = re.search(r'<pre id="image-status">(.*?)</pre>', dom, re.S)
    assert found is not None, "the probe script did not run"
    status = json.loads(found.group(1))
    assert len(status) == len(parsed.images)
    assert all(s["complete"] and s["width"] > 0 and s["height"] > 0 for s in status), status
