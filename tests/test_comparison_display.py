"""``bc.compare``'s table: still a DataFrame for its callers, with an HTML view and a plain repr
that say the same, rendered in headless Chromium."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from browser import drawn_share, screenshot
from test_checks import retarget
from test_display import _parse

import bayescred as bc
from bayescred.analysis.comparison import CLEAR_DIFFERENCE, HEADERS, ComparisonTable


@pytest.fixture(scope="module")
def table(tiny_fit: bc.CredentialFit) -> ComparisonTable:
    post = tiny_fit.posterior
    fits = {
        "fit": tiny_fit,
        "slightly_wide": retarget(tiny_fit.tree, posterior=post.assign(sigma=post["sigma"] * 1.02)),
        "too_wide": retarget(tiny_fit.tree, posterior=post.assign(sigma=post["sigma"] * 1.5)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k of a tiny fit
        return bc.compare(fits)


def test_still_a_dataframe_for_its_callers(table: ComparisonTable) -> None:
    assert isinstance(table, pd.DataFrame)
    assert set(table.index) == {"fit", "slightly_wide", "too_wide"}
    assert table.index[-1] == "too_wide" and table.loc["too_wide", "elpd_diff"] < 0
    raw = table.to_string()  # what the CLI prints: ArviZ's raw columns
    assert "diag_elpd" in raw and "n_high_pareto_k" in raw
    for derived in (table.round(1), table[["elpd", "se"]], table.copy(), table.sort_index()):
        assert type(derived) is pd.DataFrame
        assert repr(derived) == repr(pd.DataFrame(derived))
    assert table.attrs["unit"] == "worker"
    assert table.attrs["log_likelihood"] == dict.fromkeys(table.index, "computed")


def test_html_and_text_say_the_same(table: ComparisonTable, tiny_fit: bc.CredentialFit) -> None:
    markup = table._repr_html_()
    assert markup is not None
    parsed = _parse(markup)
    assert "script" not in parsed.tags and "table" in parsed.tags
    shown = " ".join(parsed.text)
    text = repr(table)
    workers = table.attrs["n_units"]
    assert workers == tiny_fit.tree["constant_data"].sizes["worker"]
    for view in (shown, text):
        assert "leaving one worker out" in view and f"{workers:,} workers" in view
        for header in HEADERS:
            assert header in view
        for name, r in table.iterrows():
            assert str(name) in view
            assert f"{r['elpd']:.1f} ({r['se']:.1f})" in view
            assert f"{r['elpd_diff']:.1f} ({r['dse']:.1f})" in view
            assert f"{r['weight']:.2f}" in view
            assert f"{int(r['n_high_pareto_k']):,}" in view
    # one sentence per model against the best, with the verdict the numbers give
    best = str(table.index[0])
    for name in table.index[1:]:
        r = table.loc[name]
        ratio = abs(r["elpd_diff"]) / r["dse"]
        verdict = "a clear preference" if ratio > CLEAR_DIFFERENCE else "not a clear preference"
        sentence = (
            f"{name!r} is {abs(r['elpd_diff']):.1f} below {best!r} in elpd, {ratio:.1f} "
            f"standard errors of the difference: {verdict} for {best!r}"
        )
        assert sentence in text and sentence in shown
    # 1.5 times the noise sd is far off: a clear preference against it
    assert "'too_wide' is" in text
    assert abs(table.loc["too_wide", "elpd_diff"]) > CLEAR_DIFFERENCE * table.loc["too_wide", "dse"]
    warned = [name for name in table.index if table.loc[name, "n_high_pareto_k"] > 0]
    for name in warned:
        assert f"{name!r}: {int(table.loc[name, 'n_high_pareto_k']):,} worker(s)" in text


def test_html_renders_in_headless_chromium(table: ComparisonTable, tmp_path: Path) -> None:
    page = tmp_path / "compare.html"
    page.write_text(
        f"<!doctype html><html><body>{table._repr_html_()}</body></html>", encoding="utf-8"
    )
    pixels = screenshot(page, tmp_path / "compare.png", tmp_path / "profile", window=(1000, 500))
    assert drawn_share(pixels) > 0.005, "the display must not render blank"


def test_copies_of_one_fit_give_no_preference(tiny_fit: bc.CredentialFit) -> None:
    """Two copies of one fit: difference and its standard error both 0, so no preference (the
    sentence used to read "infinitely many standard errors ...: a clear preference")."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k of a tiny fit
        same = bc.compare({"copy1": tiny_fit, "copy2": retarget(tiny_fit.tree)})
    text = repr(same)
    assert "no preference for either" in text
    assert "infinitely many" not in text and "a clear preference" not in text
