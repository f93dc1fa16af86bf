"""How a fit shows itself in Jupyter (``_repr_html_``) and as text (``repr``).

Both say the same: the spec's name and description, the data used, the convergence verdict,
the headline average effect of one more credential and the population parameters.

The views read a fit through :class:`ShownFit`, the part of :class:`bayescred.CredentialFit`
they need, so that this module needs no import of :mod:`bayescred.facade.credential_fit` (which
imports it).
"""

from __future__ import annotations

import html
from typing import Any, Protocol

import pandas as pd
import xarray as xr

from bayescred.analysis.average_effects import AverageEffect
from bayescred.analysis.summary import element_names, group_level
from bayescred.spec import ModelSpec

#: Summary columns shown for the population parameters.
PARAMETER_COLUMNS: tuple[str, ...] = ("mean", "sd", "hdi_low", "hdi_high", "ess_bulk", "r_hat")


class ShownFit(Protocol):
    """What the views read of a fit (:class:`bayescred.CredentialFit` has it all)."""

    @property
    def spec(self) -> ModelSpec:
        """The model specification."""
        ...

    @property
    def design_info(self) -> dict[str, Any]:
        """Data-derived constants recorded at build time (rows used, outcome...)."""
        ...

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior draws."""
        ...

    @property
    def converged(self) -> bool:
        """Whether every diagnostic passes its threshold."""
        ...

    @property
    def verdict(self) -> str:
        """One-sentence convergence verdict."""
        ...

    def rows_not_used(self) -> pd.DataFrame:
        """Input rows the model could not use, counted by reason."""
        ...

    def average_effect(self) -> AverageEffect:
        """The average effect of one more credential over the rows used."""
        ...

    def summary(self) -> pd.DataFrame:
        """Posterior summary of the parameters."""
        ...


def data_rows(fit: ShownFit) -> list[tuple[str, str]]:
    """(label, value) rows describing the model and the data it used."""
    info = fit.design_info
    spec = fit.spec
    aside = int(fit.rows_not_used()["rows"].sum())
    post = fit.posterior
    return [
        ("outcome", f"{info['outcome']} ({spec.outcome.likelihood} likelihood)"),
        ("worker effects", spec.worker_effects),
        ("credential curve", f"{spec.effect.curve}, modifier {spec.effect.modifier}"),
        ("rows used", f"{int(info['rows_used']):,} rows of {int(info['workers_used']):,} workers"),
        ("rows set aside", f"{aside:,}"),
        ("draws", f"{post.sizes['chain']} chains x {post.sizes['draw']} draws"),
    ]


def headline(fit: ShownFit) -> list[str]:
    """Sentences on the average effect of one more credential over the observed profiles."""
    table = fit.average_effect().table
    pct = round(float(table.attrs.get("hdi_prob", 0.9)) * 100)
    rows = table if "margin" in table else table.iloc[:1]
    out = []
    for _, r in rows.iterrows():
        where = f" ({r['margin']} margin)" if "margin" in table else ""
        if "pct_median" in r and pd.notna(r["pct_median"]):
            change = (
                f"{r['pct_median']:+.1f}% ({pct}% HDI {r['pct_hdi_low']:+.1f}% to "
                f"{r['pct_hdi_high']:+.1f}%)"
            )
        else:
            change = f"{r['median']:+.3g} ({pct}% HDI {r['hdi_low']:+.3g} to {r['hdi_high']:+.3g})"
        out.append(
            f"One more credential{where}: {change}, P(> 0) = {r['prob_positive']:.2f}, "
            f"averaged over {int(r['rows']):,} observed worker-periods."
        )
    return out


def population_parameters(fit: ShownFit) -> pd.DataFrame:
    """The summary's population-level rows (no per-group elements)."""
    table = fit.summary()
    table = table[~group_level(table)].reset_index(drop=True)
    return table.assign(name=element_names(table))[["name", *PARAMETER_COLUMNS]]


def fit_text(fit: ShownFit) -> str:
    """The plain-text view of a fit (its ``repr``)."""
    spec = fit.spec
    lines = [f"CredentialFit {spec.name!r}" + (f": {spec.description}" if spec.description else "")]
    lines += [f"  {label}: {value}" for label, value in data_rows(fit)]
    lines.append(f"  verdict: {fit.verdict}")
    lines += [f"  {sentence}" for sentence in headline(fit)]
    params = population_parameters(fit)
    lines.append("  population parameters (mean, sd, HDI, bulk ESS, R-hat):")
    for _, r in params.iterrows():
        lines.append(
            f"    {r['name']:<28} {r['mean']:+.4g}  {r['sd']:.3g}  "
            f"[{r['hdi_low']:+.4g}, {r['hdi_high']:+.4g}]  {r['ess_bulk']:.0f}  {r['r_hat']:.3f}"
        )
    return "\n".join(lines)


def fit_html(fit: ShownFit) -> str:
    """The HTML view of a fit (its ``_repr_html_``): self-contained, no scripts."""
    spec = fit.spec
    e = html.escape
    ok = fit.converged
    colour = "#1b7837" if ok else "#b2182b"
    rows = "".join(
        f"<tr><th style='text-align:left'>{e(label)}</th><td>{e(value)}</td></tr>"
        for label, value in data_rows(fit)
    )
    sentences = "".join(f"<li>{e(s)}</li>" for s in headline(fit))
    params = population_parameters(fit)
    head = "".join(f"<th>{e(c)}</th>" for c in ("parameter", *PARAMETER_COLUMNS))
    body = "".join(
        "<tr>"
        + f"<td style='text-align:left'>{e(r['name'])}</td>"
        + "".join(
            f"<td>{r[c]:.4g}</td>" if c != "ess_bulk" else f"<td>{r[c]:.0f}</td>"
            for c in PARAMETER_COLUMNS
        )
        + "</tr>"
        for _, r in params.iterrows()
    )
    description = f"<p>{e(spec.description)}</p>" if spec.description else ""
    return (
        "<div class='bayescred-fit'>"
        f"<h3>CredentialFit <code>{e(spec.name)}</code></h3>{description}"
        f"<table>{rows}</table>"
        f"<p style='color:{colour}'><strong>{e(fit.verdict)}</strong></p>"
        f"<ul>{sentences}</ul>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "</div>"
    )
