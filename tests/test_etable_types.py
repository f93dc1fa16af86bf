"""etable rows of credential types: for a fit with ``[credential_types]`` the between-type and
between-category sds, the match effect and one row per skill category (the posterior's
``category_effect``), none for a fit without types (whose table is what it was)."""

from __future__ import annotations

import types as pytypes

import arviz as az
import numpy as np
import pytest

import bayescred as bc
from bayescred.reporting import etable as etable_module
from bayescred.reporting.etable import EstimatesTable, etable


@pytest.fixture(scope="module")
def table(types_fit: bc.CredentialFit, tiny_fit: bc.CredentialFit) -> EstimatesTable:
    return etable({"types": types_fit, "plain": tiny_fit}, effects=False, loo=False)


def categories(fit: bc.CredentialFit) -> list[str]:
    return [str(c) for c in fit.posterior["category"].values]


def cell(draws: np.ndarray) -> str:
    low, high = az.hdi(np.asarray(draws).ravel(), prob=0.9)
    return f"{draws.mean():.3f}\n[{low:.3f}, {high:.3f}]".replace("-0.000", "0.000")


def test_rows_of_the_credential_types_panel(
    table: EstimatesTable, types_fit: bc.CredentialFit
) -> None:
    rows = table.frame.xs("credential_types", level="panel")
    labels = categories(types_fit)
    assert rows.index.tolist() == [
        "sd between types",
        "sd between categories",
        "match effect",
        *[f"category {c}" for c in labels],
    ]
    panels = list(dict.fromkeys(table.frame.index.get_level_values("panel")))
    assert panels[:2] == ["credential_types", "parameters"]
    assert (rows["plain"] == "").all()
    post = types_fit.posterior
    for row, name in [
        ("sd between types", "sigma_type"),
        ("sd between categories", "sigma_category"),
        ("match effect", "match_effect"),
    ]:
        assert rows.loc[row, "types"] == cell(post[name].values)
    effect = post["category_effect"]
    for c in labels:
        assert rows.loc[f"category {c}", "types"] == cell(effect.sel(category=c).values)
    values = table.values.query("panel == 'credential_types'").set_index("row")
    assert values["model"].eq("types").all()
    means = [float(effect.sel(category=c).mean()) for c in labels]
    assert values["value"].tolist()[3:] == pytest.approx(means)
    assert values.loc["match effect", "value"] == pytest.approx(float(post["match_effect"].mean()))
    assert "Credential types:" in " ".join(table.notes)
    assert table.descriptions["sd between types"].startswith("sigma_type: ")
    assert table.descriptions[f"category {labels[0]}"].startswith(f"category_effect[{labels[0]}]: ")


def test_parameters_panel_leaves_the_type_parameters_to_their_panel(
    table: EstimatesTable, types_fit: bc.CredentialFit
) -> None:
    params = table.frame.xs("parameters", level="panel").index
    assert "mu_beta" in params and "sigma" in params
    assert not any(
        row.startswith(("sigma_type", "sigma_category", "match_effect", "category_effect"))
        or row.startswith("type_effect")
        for row in params
    )
    assert "type_effect, one row per type" in " ".join(table.notes)
    plain = etable(types_fit, effects=False, loo=False, credential_types=False)
    assert "credential_types" not in plain.frame.index.get_level_values("panel")
    rows = plain.frame.xs("parameters", level="panel").index
    assert {"sigma_type", "match_effect", "category_effect[c1]", "type_effect[t001]"} <= set(rows)
    assert not any("Credential types" in note for note in plain.notes)
    chosen = etable(types_fit, effects=False, loo=False, parameters=["type_effect"])
    chosen_rows = chosen.frame.xs("parameters", level="panel").index
    assert chosen_rows.tolist() == [
        f"type_effect[{t}]" for t in types_fit.posterior["credential_type"].values
    ]


def test_a_fit_without_types_has_no_such_rows(tiny_fit: bc.CredentialFit) -> None:
    on = etable(tiny_fit, effects=False, loo=False)
    off = etable(tiny_fit, effects=False, loo=False, credential_types=False)
    assert "credential_types" not in on.frame.index.get_level_values("panel")
    assert not any("Credential types" in note or "credential-type" in note for note in on.notes)
    assert on.to_markdown() == off.to_markdown() and on.to_html() == off.to_html()
    assert on.values.equals(off.values) and on.descriptions == off.descriptions


def test_no_category_rows_without_pooling(types_fit: bc.CredentialFit) -> None:
    """``pooling = "none"`` has no category level (every category's effect is ``mu_beta``):
    no category rows; the sds are not in such a summary, the match effect is."""
    spec = types_fit.spec.with_changes(credential_types={"pooling": "none"})
    fit = pytypes.SimpleNamespace(spec=spec)
    summary = types_fit.summary()
    summary = summary[~summary["parameter"].isin(["sigma_type", "sigma_category"])]
    cells = etable_module._Cells(3, "below")
    descriptions: dict[str, str] = {}
    assert etable_module._credential_types(cells, "m", fit, summary, descriptions)  # type: ignore[arg-type]
    assert [row for _, row in cells.orders["m"]] == ["match effect"]


def test_renderings(table: EstimatesTable) -> None:
    latex = table.to_latex()
    assert r"\textit{Credential types}" in latex and "sd between types" in latex
    html = table.to_html()
    assert "Credential types" in html and 'title="sigma_type: ' in html
    markdown = table.to_markdown()
    assert "| **Credential types** |  |  |" in markdown
    assert "| match effect |" in markdown and "|  |" in markdown
