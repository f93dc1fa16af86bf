"""Tables for papers (:func:`bayescred.reporting.etable.etable`): every number in the table is
the fit's own (summary, average effect, diagnostics, LOO), and the HTML, LaTeX and Markdown
renderings are well formed."""

from __future__ import annotations

import copy
import re
import warnings
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayescred as bc
from bayescred.reporting.etable import EstimatesTable, etable, latex_escape


@pytest.fixture(scope="module")
def linear_fit(small_frame: pd.DataFrame) -> bc.CredentialFit:
    """A second tiny real fit of another spec (fewer parameters than the default)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        return bc.CredentialModel("linear_fe").fit(
            small_frame, draws=40, tune=60, chains=2, random_seed=2, progressbar=False
        )


@pytest.fixture(scope="module")
def table(tiny_fit: bc.CredentialFit, linear_fit: bc.CredentialFit) -> EstimatesTable:
    return etable([tiny_fit, linear_fit])


def quiet_loo(fit: bc.CredentialFit) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pareto k warnings of tiny fits
        return fit.loo()


def number(t: EstimatesTable, panel: str, row: str, model: str) -> pd.Series:
    v = t.values
    hit = v[(v["panel"] == panel) & (v["row"] == row) & (v["model"] == model)]
    assert len(hit) == 1, (panel, row, model)
    return hit.iloc[0]


def cell(mean: float, low: float, high: float, places: int = 3, sep: str = "\n") -> str:
    return f"{mean:.{places}f}{sep}[{low:.{places}f}, {high:.{places}f}]"


def summary_rows(fit: bc.CredentialFit, hdi_prob: float = 0.9) -> pd.DataFrame:
    s = fit.summary(hdi_prob=hdi_prob)
    s["row"] = [
        p if not lab else f"{p}[{lab}]" for p, lab in zip(s["parameter"], s["label"], strict=True)
    ]
    return s[~s["parameter"].str.endswith("_group")]


# ------------------------------------------------------------------------------ numbers
def test_parameter_cells_are_the_summaries_numbers(
    table: EstimatesTable, tiny_fit: bc.CredentialFit, linear_fit: bc.CredentialFit
) -> None:
    assert table.models == ["default", "linear_fe"]
    assert table.frame.index.names == ["panel", "row"]
    shown = list(table.frame.loc["parameters"].index)
    default_rows = summary_rows(tiny_fit)
    # the default model has every parameter of linear_fe: its summary order is the table's
    assert shown == list(default_rows["row"])
    assert "beta_group[A]" not in shown and "gamma[z]" in shown
    for model, fit in [("default", tiny_fit), ("linear_fe", linear_fit)]:
        rows = summary_rows(fit)
        for _, r in rows.iterrows():
            got = number(table, "parameters", r["row"], model)
            assert got["value"] == r["mean"]
            assert got["hdi_low"] == r["hdi_low"] and got["hdi_high"] == r["hdi_high"]
            assert table.frame.loc[("parameters", r["row"]), model] == cell(
                r["mean"], r["hdi_low"], r["hdi_high"]
            )
        missing = set(shown) - set(rows["row"])
        for row in missing:  # a model without the parameter: empty cell, no number
            assert table.frame.loc[("parameters", row), model] == ""
            v = table.values
            assert v[(v["row"] == row) & (v["model"] == model)].empty
    assert set(shown) - set(summary_rows(linear_fit)["row"]) == {
        "sigma_beta",
        "lambda",
        "sigma_log_lambda",
        "gamma[z]",
        "gamma[z_squared]",
        "sigma_tau",
    }
    assert table.descriptions["mu_beta"] == "effect of the first credential, population mean"


def test_effect_cells_are_the_average_effect(
    table: EstimatesTable, tiny_fit: bc.CredentialFit, linear_fit: bc.CredentialFit
) -> None:
    assert list(table.frame.loc["effects"].index) == ["next credential", "next credential (%)"]
    for model, fit in [("default", tiny_fit), ("linear_fe", linear_fit)]:
        a = fit.average_effect(hdi_prob=0.9).table.iloc[0]
        got = number(table, "effects", "next credential", model)
        assert (got["value"], got["hdi_low"], got["hdi_high"]) == (
            a["mean"],
            a["hdi_low"],
            a["hdi_high"],
        )
        assert table.frame.loc[("effects", "next credential"), model] == cell(
            a["mean"], a["hdi_low"], a["hdi_high"]
        )
        pct = number(table, "effects", "next credential (%)", model)
        assert (pct["value"], pct["hdi_low"], pct["hdi_high"]) == (
            a["pct_mean"],
            a["pct_hdi_low"],
            a["pct_hdi_high"],
        )
        # percentages to digits - 2 places
        assert table.frame.loc[("effects", "next credential (%)"), model] == cell(
            a["pct_mean"], a["pct_hdi_low"], a["pct_hdi_high"], places=1
        )


def test_data_and_diagnostics_rows_are_the_fits(
    table: EstimatesTable, tiny_fit: bc.CredentialFit, linear_fit: bc.CredentialFit
) -> None:
    f = table.frame
    for model, fit in [("default", tiny_fit), ("linear_fe", linear_fit)]:
        info = fit.design_info
        assert f.loc[("data", "outcome"), model] == info["outcome"] == "log_project_value"
        assert f.loc[("data", "likelihood"), model] == "normal"
        assert f.loc[("data", "worker effects"), model] == fit.spec.worker_effects == "within"
        assert f.loc[("data", "effect scale"), model] == "log points"
        assert number(table, "data", "rows used", model)["value"] == info["rows_used"]
        assert f.loc[("data", "rows used"), model] == f"{info['rows_used']:,}"
        assert number(table, "data", "workers", model)["value"] == info["workers_used"]
        not_used = int(fit.rows_not_used()["rows"].sum())
        assert not_used > 0 and number(table, "data", "rows not used", model)["value"] == not_used
        d = fit.diagnostics().set_index("check")["value"]
        assert number(table, "diagnostics", "divergences", model)["value"] == d["divergences"]
        assert f.loc[("diagnostics", "divergences"), model] == str(int(d["divergences"]))
        assert number(table, "diagnostics", "max R-hat", model)["value"] == d["max R-hat"]
        assert f.loc[("diagnostics", "max R-hat"), model] == f"{d['max R-hat']:.3f}"
        assert number(table, "diagnostics", "min bulk ESS", model)["value"] == d["min bulk ESS"]
        assert f.loc[("diagnostics", "min bulk ESS"), model] == f"{d['min bulk ESS']:,.0f}"
        assert f.loc[("diagnostics", "converged"), model] == ("yes" if fit.converged else "no")
        post = fit.tree["posterior"]
        chains, draws = post.sizes["chain"], post.sizes["draw"]
        assert f.loc[("diagnostics", "chains x draws"), model] == f"{chains} x {draws}"
    assert list(f.index.get_level_values("panel").unique()) == [
        "effects",
        "parameters",
        "data",
        "diagnostics",
        "loo",
    ]


def test_loo_rows_are_each_fits_own_loo(
    table: EstimatesTable, tiny_fit: bc.CredentialFit, linear_fit: bc.CredentialFit
) -> None:
    for model, fit in [("default", tiny_fit), ("linear_fe", linear_fit)]:
        ref = quiet_loo(fit)
        got = number(table, "loo", "elpd (se)", model)
        assert got["value"] == ref.elpd and got["se"] == ref.se
        assert table.frame.loc[("loo", "elpd (se)"), model] == f"{ref.elpd:.1f} ({ref.se:.1f})"
        assert number(table, "loo", "p_loo", model)["value"] == ref.p
        high = int((np.asarray(ref.pareto_k) > ref.good_k).sum())
        assert number(table, "loo", "high Pareto k", model)["value"] == high
    # same outcome, rows and within likelihood: the elpds compare
    assert list(table.frame.loc[("loo", "same data")]) == ["A", "A"]


def _other_data(fit: bc.CredentialFit) -> bc.CredentialFit:
    """The fit with its outcome values shifted: the same model of other data."""
    tree = fit.tree.copy(deep=True)
    obs = tree["observed_data"].to_dataset()
    tree["observed_data"] = xr.DataTree(obs.assign(y=obs["y"] + 1.0))
    return bc.CredentialFit(tree)


def test_fits_of_other_data_get_their_own_elpd_and_letter(
    tiny_fit: bc.CredentialFit, linear_fit: bc.CredentialFit
) -> None:
    other = _other_data(linear_fit)
    t = etable({"a": tiny_fit, "b": other, "c": linear_fit}, effects=False)
    assert list(t.frame.loc[("loo", "same data")]) == ["A", "B", "A"]
    for model in ("a", "b", "c"):
        assert np.isfinite(number(t, "loo", "elpd (se)", model)["value"])
    assert any("same 'same data' letter" in note for note in t.notes)


def test_loo_that_cannot_be_computed_reads_n_a(tiny_fit: bc.CredentialFit) -> None:
    broken = copy.copy(tiny_fit)

    def fail() -> Any:
        raise ValueError("no log-likelihood for this fit")

    broken.loo = fail  # type: ignore[method-assign]
    t = etable({"ok": tiny_fit, "broken": broken}, effects=False)
    assert t.frame.loc[("loo", "elpd (se)"), "broken"] == "n/a"
    assert t.frame.loc[("loo", "p_loo"), "broken"] == "n/a"
    assert number(t, "loo", "elpd (se)", "ok")["value"] == quiet_loo(tiny_fit).elpd
    assert "n/a: LOO of broken not available: no log-likelihood for this fit" in t.notes


def test_hurdle_margins_each_get_a_row(tiny_fit: bc.CredentialFit) -> None:
    """A fit whose average_effect has one row per margin (the hurdle layout) shows each."""
    base = tiny_fit.average_effect().table
    margins = pd.concat(
        [
            base.assign(margin=m, mean=base["mean"] * k)
            for m, k in [("total", 1.0), ("extensive", 0.25), ("intensive", 0.75)]
        ],
        ignore_index=True,
    )
    hurdle = copy.copy(tiny_fit)
    hurdle.average_effect = lambda **_: SimpleNamespace(table=margins)  # type: ignore[method-assign]
    t = etable({"plain": tiny_fit, "hurdle": hurdle}, parameters=["mu_beta"], loo=False)
    assert list(t.frame.loc["effects"].index) == [
        "next credential",
        "next credential (%)",
        "extensive margin",
        "extensive margin (%)",
        "intensive margin",
        "intensive margin (%)",
    ]
    for margin, row in [("extensive", "extensive margin"), ("intensive", "intensive margin")]:
        r = margins.set_index("margin").loc[margin]
        assert number(t, "effects", row, "hurdle")["value"] == r["mean"]
        assert t.frame.loc[("effects", row), "hurdle"] == cell(
            r["mean"], r["hdi_low"], r["hdi_high"]
        )
        assert t.frame.loc[("effects", row), "plain"] == ""
    assert number(t, "effects", "next credential", "hurdle")["value"] == base["mean"].iloc[0]
    assert any("extensive margin" in note for note in t.notes)


@pytest.mark.slow
def test_a_real_hurdle_fit_shows_its_margins(
    small_frame: pd.DataFrame, tiny_fit: bc.CredentialFit
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        hurdle = bc.CredentialModel("hurdle_earnings").fit(
            small_frame, draws=40, tune=60, chains=2, random_seed=3, progressbar=False
        )
    t = etable([tiny_fit, hurdle])
    effect = hurdle.average_effect().table.set_index("margin")
    for margin, row in [("total", "next credential"), ("extensive", "extensive margin")]:
        got = number(t, "effects", row, "hurdle_earnings")
        assert got["value"] == effect.loc[margin, "mean"]
        pct = number(t, "effects", f"{row} (%)", "hurdle_earnings")
        assert pct["value"] == effect.loc[margin, "pct_mean"]
    assert t.frame.loc[("data", "effect scale"), "hurdle_earnings"] == "log points"
    assert "ext_mu_beta" in t.frame.loc["parameters"].index
    assert t.frame.loc[("parameters", "ext_mu_beta"), "default"] == ""
    # other outcome and rows: the elpds do not compare
    assert list(t.frame.loc[("loo", "same data")]) == ["A", "B"]


# ------------------------------------------------------------------------------ options
def test_column_names_are_unique(tiny_fit: bc.CredentialFit, linear_fit: bc.CredentialFit) -> None:
    t = etable([tiny_fit, linear_fit, tiny_fit], effects=False, loo=False)
    assert t.models == ["default (1)", "linear_fe", "default (2)"]
    assert t.frame.columns.is_unique and set(t.values["model"]) == set(t.models)
    assert etable([tiny_fit], names=["(1)"], loo=False, effects=False).models == ["(1)"]
    assert etable({"A": linear_fit}, loo=False, effects=False).models == ["A"]
    assert etable(linear_fit, loo=False, effects=False).models == ["linear_fe"]


def test_parameters_can_be_chosen(tiny_fit: bc.CredentialFit, linear_fit: bc.CredentialFit) -> None:
    fits = [tiny_fit, linear_fit]
    t = etable(fits, parameters=["sigma", "gamma[z]", "mu_beta"], effects=False, loo=False)
    assert list(t.frame.loc["parameters"].index) == [
        "mu_beta",
        "gamma[z]",
        "sigma",
    ]  # summary order
    t = etable(fits, parameters="beta_group", effects=False, loo=False)
    rows = list(t.frame.loc["parameters"].index)
    assert rows == [f"beta_group[{g}]" for g in "ABCD"]
    assert list(t.frame.loc[("parameters", "beta_group[A]")]) == [
        cell(
            *tiny_fit.summary()
            .set_index(["parameter", "label"])
            .loc[("beta_group", "A"), ["mean", "hdi_low", "hdi_high"]]
        ),
        "",
    ]
    every = etable(fits, parameters="all", effects=False, loo=False)
    assert len(every.frame.loc["parameters"]) == len(tiny_fit.summary())
    assert not any("by-group" in n for n in every.notes)


def test_hdi_options(tiny_fit: bc.CredentialFit) -> None:
    t = etable(tiny_fit, hdi_prob=0.8, digits=2, hdi="beside", loo=False)
    r = summary_rows(tiny_fit, hdi_prob=0.8).set_index("row").loc["mu_beta"]
    assert t.frame.loc[("parameters", "mu_beta"), "default"] == cell(
        r["mean"], r["hdi_low"], r["hdi_high"], places=2, sep=" "
    )
    assert number(t, "parameters", "mu_beta", "default")["hdi_low"] == r["hdi_low"]
    a = tiny_fit.average_effect(hdi_prob=0.8).table.iloc[0]
    assert t.frame.loc[("effects", "next credential (%)"), "default"] == cell(
        a["pct_mean"], a["pct_hdi_low"], a["pct_hdi_high"], places=0, sep=" "
    )
    assert "80% highest-density interval" in t.notes[0] and "beside" in t.notes[0]
    assert "80% HDI" in t.caption
    bare = etable(tiny_fit, effects=False, loo=False)
    assert set(bare.frame.index.get_level_values("panel")) == {"parameters", "data", "diagnostics"}


def test_bad_input_is_refused(tiny_fit: bc.CredentialFit) -> None:
    with pytest.raises(ValueError, match="at least one fit"):
        etable([])
    with pytest.raises(ValueError, match="at least one fit"):
        etable({})
    with pytest.raises(TypeError, match="fit number 2 is a str"):
        etable([tiny_fit, "default"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="fit 'b' is a DataFrame"):
        etable({"a": tiny_fit, "b": pd.DataFrame()})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="not str"):
        etable("default")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unique; repeated: m"):
        etable([tiny_fit, tiny_fit], names=["m", "m"])
    with pytest.raises(ValueError, match="2 non-empty strings"):
        etable([tiny_fit, tiny_fit], names=["m"])
    with pytest.raises(ValueError, match="dict's keys or as names="):
        etable({"a": tiny_fit}, names=["b"])
    with pytest.raises(ValueError, match="'nope' are in none of the models; known: .*mu_beta"):
        etable(tiny_fit, parameters=["mu_beta", "nope"])
    with pytest.raises(ValueError, match="hdi_prob"):
        etable(tiny_fit, hdi_prob=1.5)
    with pytest.raises(ValueError, match="digits"):
        etable(tiny_fit, digits=-1)
    with pytest.raises(ValueError, match="hdi must be"):
        etable(tiny_fit, hdi="left")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ renderers
class _TableParser(HTMLParser):
    """Checks that tags nest and records each row's cells."""

    VOID = frozenset({"br"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.rows: list[list[tuple[str, dict[str, str | None]]]] = []
        self.text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        self.stack.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("th", "td"):
            self.rows[-1].append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.text.setdefault(self.stack[-1], []).append(data)


def test_html_is_one_well_formed_table(
    tiny_fit: bc.CredentialFit, linear_fit: bc.CredentialFit
) -> None:
    t = etable({"<geometric & co>": tiny_fit, "linear": linear_fit})
    html = t.to_html()
    assert t._repr_html_() == html
    assert html.startswith("<table") and html.endswith("</table>")
    assert "<geometric" not in html and "&lt;geometric &amp; co&gt;" in html
    parser = _TableParser()
    parser.feed(html)
    parser.close()
    assert parser.stack == []
    assert parser.text["caption"] == [t.caption]
    for row in parser.rows:
        if len(row) == 1:  # a panel title or the notes: one cell spanning every column
            assert row[0][1]["colspan"] == "3"
        else:
            assert len(row) == 3 and row[0][0] == "th" and all(c[0] in ("th", "td") for c in row)
    assert "mu_beta" in parser.text["th"]
    assert "90% highest-density interval" in "".join(parser.text["td"])
    assert "log points" in "".join(parser.text["td"])


def test_latex_is_booktabs_balanced_and_escaped(table: EstimatesTable) -> None:
    tex = table.to_latex(label="tab:credentials")
    stack: list[str] = []
    for kind, env in re.findall(r"\\(begin|end)\{(\w+)\}", tex):
        if kind == "begin":
            stack.append(env)
        else:
            assert stack.pop() == env
    assert stack == []
    assert [ln for ln in tex.splitlines() if ln in (r"\toprule", r"\bottomrule")] == [
        r"\toprule",
        r"\bottomrule",
    ]
    assert tex.count(r"\midrule") == 5  # one before each panel
    assert r"\label{tab:credentials}" in tex
    body = tex.split(r"\begin{tabular}")[1].split(r"\end{tabular}")[0]
    assert r"mu\_beta" in body and r"linear\_fe" in body and r"log\_project\_value" in body
    for line in tex.splitlines():
        line = line.replace(r"\label{tab:credentials}", "")
        assert not re.search(r"(?<!\\)[_%#$]", line), line
        if line.endswith(r"\\") and r"\multicolumn" not in line:
            assert len(re.findall(r"(?<!\\)&", line)) == 2, line
    assert r"90\% HDIs" in tex
    assert latex_escape("a_b & 5% {x} #1 $") == r"a\_b \& 5\% \{x\} \#1 \$"


def test_markdown_rows_have_one_cell_per_column(table: EstimatesTable) -> None:
    md = table.to_markdown()
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert lines[0] == "|  | default | linear_fe |" and lines[1] == "|:---|---:|---:|"
    assert len(lines) == 2 + 5 + len(table.frame) + int(
        (table.frame.map(lambda c: "\n" in c)).any(axis=1).sum()
    )
    for line in lines:
        assert len(re.findall(r"(?<!\\)\|", line)) == 4, line
    assert "| **Parameters** |  |  |" in lines
    assert md.startswith(f"**{table.caption}**")
    assert table.notes[0] in md


def test_repr_is_readable(table: EstimatesTable) -> None:
    text = repr(table)
    lines = text.splitlines()
    assert lines[0] == "<EstimatesTable: 2 models, 90% HDI>"
    assert "default" in lines[1] and "linear_fe" in lines[1]
    assert "Average effect of the next credential" in lines and "Parameters" in lines
    mu = next(ln for ln in lines if ln.strip().startswith("mu_beta"))
    assert table.frame.loc[("parameters", "mu_beta"), "default"].split("\n")[0] in mu
