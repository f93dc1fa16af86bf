"""Jupyter's rich display and the plain repr of a fit and a spec say the same things, and the
HTML renders in a browser."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from browser import drawn_share, screenshot

import bayescred as bc


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(markup: str) -> _Text:
    parser = _Text()
    parser.feed(markup)
    return parser


def test_fit_html_and_text_say_the_same(tiny_fit: bc.CredentialFit) -> None:
    markup = tiny_fit._repr_html_()
    text = repr(tiny_fit)
    parsed = " ".join(_parse(markup).text)
    assert "script" not in _parse(markup).tags
    avg = tiny_fit.average_effect().table.iloc[0]
    headline = f"{avg['pct_median']:+.1f}%"
    summary = tiny_fit.summary()
    population = summary[~summary["parameter"].str.endswith("_group")]
    for shown in (parsed, text):
        assert tiny_fit.spec.name in shown and tiny_fit.verdict in shown
        assert headline in shown
        assert f"{int(tiny_fit.design_info['rows_used']):,}" in shown
        for name in population["parameter"]:
            assert name in shown
        assert "beta_group" not in shown
    assert f"{population['mean'].iloc[0]:.4g}" in parsed


def test_spec_html_and_text_say_the_same() -> None:
    spec = bc.load_spec("hurdle_earnings")
    parsed = " ".join(_parse(spec._repr_html_()).text)
    text = repr(spec)
    for label, value in spec.describe():
        assert label in parsed and value in parsed
        assert f"{label}: {value}" in text
    assert "extensive part" in text and "hurdle_lognormal" in text


def test_fit_html_renders_in_headless_chromium(tiny_fit: bc.CredentialFit, tmp_path: Path) -> None:
    page = tmp_path / "fit.html"
    page.write_text(
        "<!doctype html><html><body>"
        + tiny_fit._repr_html_()
        + bc.load_spec("default")._repr_html_()
        + "</body></html>",
        encoding="utf-8",
    )
    pixels = screenshot(page, tmp_path / "fit.png", tmp_path / "profile", window=(1000, 1400))
    assert drawn_share(pixels) > 0.005, "the display must not render blank"
