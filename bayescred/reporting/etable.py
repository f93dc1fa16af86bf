"""Tables for papers: several fits side by side, in the style of pyfixest's ``etable``.

:func:`etable` puts one column per model and groups the rows in panels: the average effect of
the next credential (``effects``, with hurdle margins), for fits with ``[dynamics]`` the
population event-time profile (``event_time``, one row per event time), for fits with
``[credential_types]`` the between-type and between-category sds, the match effect and the
effect by skill category (``credential_types``), the parameters of
:meth:`~bayescred.CredentialFit.summary` (``parameters``), the data used (``data``), the
convergence diagnostics (``diagnostics``) and each model's own leave-one-worker-out PSIS-LOO
(``loo``; :func:`bayescred.compare` compares them). An :class:`EstimatesTable` holds the display
strings (``.frame``) and the numbers (``.values``) and writes HTML, LaTeX (booktabs) and Markdown
without extra dependencies.

Examples
--------
>>> from pathlib import Path
>>> from bayescred.reporting.etable import etable
>>> table = etable({"geometric": fit_default, "linear FE": fit_linear})  # doctest: +SKIP
>>> table.frame.loc[("parameters", "mu_beta"), "geometric"]  # doctest: +SKIP
'0.122\\n[0.056, 0.174]'
>>> table.values.query("row == 'mu_beta'")  # the numbers behind the cells  # doctest: +SKIP
>>> _ = Path("table1.tex").write_text(table.to_latex(label="tab:credentials"))  # doctest: +SKIP
>>> etable([fit_default, fit_linear], parameters=["mu_beta", "sigma"], loo=False)  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from bayescred.analysis.diagnostics import MAX_RHAT, MIN_BFMI, MIN_ESS_PER_CHAIN
from bayescred.analysis.loo import check_same_data
from bayescred.analysis.summary import element_names, group_level
from bayescred.facade.credential_fit import CredentialFit
from bayescred.maths.event_time import EventWindow
from bayescred.reporting.template import esc

#: Panel keys (the first level of ``EstimatesTable.frame``'s index) and their titles, in order.
PANELS: dict[str, str] = {
    "effects": "Average effect of the next credential",
    "event_time": "Effect of the first credential by event time",
    "credential_types": "Credential types",
    "parameters": "Parameters",
    "data": "Data",
    "diagnostics": "Diagnostics",
    "loo": "LOO (leave one worker out)",
}

#: Row of each margin of ``average_effect`` (a single-part model's effect is the total).
EFFECT_ROWS: dict[str, str] = {
    "total": "next credential",
    "extensive": "extensive margin",
    "intensive": "intensive margin",
}

#: The stored event-time profiles of a spec with ``[dynamics]``: by default the parameters
#: panel leaves them out when the event-time panel shows the population profile.
EVENT_PROFILES: tuple[str, ...] = ("event_profile", "event_profile_group", "event_profile_cohort")

#: Rows of the credential-types panel from the summary's parameters of a spec with
#: ``[credential_types]`` (those the spec has), then one row per category of
#: ``category_effect`` (``"category <label>"``; only with ``pooling = "partial"``: without it
#: every category's is ``mu_beta``).
TYPE_ROWS: dict[str, str] = {
    "sigma_type": "sd between types",
    "sigma_category": "sd between categories",
    "match_effect": "match effect",
}
#: Summary parameters of a spec with ``[credential_types]`` the parameters panel leaves out by
#: default when the credential-types panel is shown: its rows, and ``type_effect`` (one row per
#: type; ``fit.type_effects()`` ranks them).
TYPE_PARAMETERS: tuple[str, ...] = (*TYPE_ROWS, "category_effect", "type_effect")

#: Inline styles of the HTML table (booktabs-like rules; no style sheet needed).
_TABLE = "border-collapse:collapse;border-top:2px solid #333;border-bottom:2px solid #333"
_PANEL = "text-align:left;font-style:italic;font-weight:normal;padding-top:0.5em"
_STUB = "text-align:left;font-weight:normal;padding:0 0.8em 0 1em"
_TD = "text-align:center;padding:0 0.8em;white-space:nowrap"
_NOTES = "border-top:1px solid #333;font-size:0.85em;text-align:left;padding-top:0.3em"

#: Columns of ``EstimatesTable.values``.
VALUE_COLUMNS = ["panel", "row", "model", "value", "hdi_low", "hdi_high", "se"]

HdiPosition = Literal["below", "beside"]
Fits = Sequence[CredentialFit] | Mapping[str, CredentialFit] | CredentialFit


@dataclass(frozen=True, eq=False)
class EstimatesTable:
    """Several fits side by side: display strings, numbers, caption and notes.

    Attributes
    ----------
    frame
        Display strings: rows a MultiIndex ``(panel, row)`` (panels as in :data:`PANELS`),
        one column per model. An estimate's cell is its mean with the HDI in brackets below it
        (``"0.122\\n[0.056, 0.174]"``) or beside it; a model lacking a row has ``""``.
    values
        The numbers behind the cells, one row per ``(panel, row, model)`` with a number:
        ``value`` (mean, count or elpd), ``hdi_low``, ``hdi_high`` (estimates) and ``se``
        (elpd); text rows (outcome, likelihood...) are only in ``frame``.
    caption
        Default caption of the rendered tables.
    notes
        Sentences printed under the table: HDI mass, the effect's units, what the rows mean.
    descriptions
        Description of each parameter row (HTML shows it on hover).
    hdi_prob
        Mass of the HDIs.
    """

    frame: pd.DataFrame
    values: pd.DataFrame
    caption: str
    notes: tuple[str, ...]
    descriptions: dict[str, str] = field(default_factory=dict)
    hdi_prob: float = 0.9

    @property
    def models(self) -> list[str]:
        """The column (model) names."""
        return [str(c) for c in self.frame.columns]

    # ------------------------------------------------------------------ layout
    def _panels(self) -> Iterator[tuple[str, list[tuple[str, list[str]]]]]:
        """Each panel's title and display lines ``(stub, cells)``; an estimate with its HDI
        below takes two lines, the second with an empty stub."""
        index = self.frame.index
        for panel in dict.fromkeys(index.get_level_values("panel")):
            block = self.frame.xs(panel, level="panel")
            lines: list[tuple[str, list[str]]] = []
            for row, cells in block.iterrows():
                split = [str(c).split("\n") for c in cells]
                height = max((len(s) for s in split), default=1)
                for i in range(height):
                    stub = str(row) if i == 0 else ""
                    lines.append((stub, [s[i] if i < len(s) else "" for s in split]))
            yield PANELS.get(str(panel), str(panel)), lines

    # ------------------------------------------------------------------ renderers
    def to_html(self, *, caption: str | None = None) -> str:
        """A self-contained HTML ``<table>``: caption, one ``<tbody>`` per panel, notes in the
        ``<tfoot>``; inline styles only, every text escaped."""
        n, rule = len(self.models) + 1, "border-bottom:1px solid #333"
        head = "".join(f'<th scope="col" style="{rule};{_TD}">{esc(m)}</th>' for m in self.models)
        parts = [
            f'<table class="bayescred-etable" style="{_TABLE}">',
            f'<caption style="text-align:left">{esc(caption or self.caption)}</caption>',
            f'<thead><tr><th style="{rule}"></th>{head}</tr></thead>',
        ]
        for title, lines in self._panels():
            parts.append(f'<tbody><tr><th colspan="{n}" style="{_PANEL}">{esc(title)}</th></tr>')
            for stub, cells in lines:
                td = _TD + (";font-size:0.85em;color:#555" if not stub else "")
                tip = self.descriptions.get(stub)
                title_attr = f' title="{esc(tip)}"' if tip else ""
                parts.append(
                    f'<tr><th scope="row" style="{_STUB}"{title_attr}>{esc(stub)}</th>'
                    + "".join(f'<td style="{td}">{esc(c)}</td>' for c in cells)
                    + "</tr>"
                )
            parts.append("</tbody>")
        notes = "<br>".join(esc(note) for note in self.notes)
        parts += [f'<tfoot><tr><td colspan="{n}" style="{_NOTES}">{notes}</td></tr></tfoot>']
        return "\n".join([*parts, "</table>"])

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_latex(self, *, caption: str | None = None, label: str | None = None) -> str:
        """A LaTeX ``table`` float with a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``):
        one column per model, panel titles in italics, the notes in a footnote-size block
        below; every text escaped."""
        n = len(self.models)
        lines = [
            r"\begin{table}[htbp]",
            r"\centering",
            rf"\caption{{{latex_escape(caption or self.caption)}}}",
        ]
        if label:
            lines.append(rf"\label{{{label}}}")
        lines += [
            r"\begin{tabular}{l" + "c" * n + "}",
            r"\toprule",
            " & ".join(["", *(latex_escape(m) for m in self.models)]) + r" \\",
        ]
        for title, rows in self._panels():
            lines.append(r"\midrule")
            lines.append(rf"\multicolumn{{{n + 1}}}{{l}}{{\textit{{{latex_escape(title)}}}}} \\")
            for stub, cells in rows:
                lines.append(" & ".join(latex_escape(c) for c in [stub, *cells]) + r" \\")
        lines += [
            r"\bottomrule",
            r"\end{tabular}",
            r"\par\smallskip",
            r"\begin{minipage}{\linewidth}\footnotesize",
            " ".join(latex_escape(note) for note in self.notes),
            r"\end{minipage}",
            r"\end{table}",
        ]
        return "\n".join(lines) + "\n"

    def to_markdown(self, *, caption: str | None = None) -> str:
        """A Markdown pipe table (caption above in bold, notes below), panel titles in bold."""
        n = len(self.models)

        def row(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |"

        lines = [f"**{caption or self.caption}**", "", row(["", *self.models])]
        lines.append("|:---|" + "---:|" * n)
        for title, rows in self._panels():
            lines.append(row([f"**{title}**", *[""] * n]))
            lines += [row([stub, *cells]) for stub, cells in rows]
        lines.append("")
        lines += [note + "  " for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"

    def __repr__(self) -> str:
        width = max([len(s) for _, rows in self._panels() for s, _ in rows] + [0]) + 2
        cols = [
            max([len(m)] + [len(cells[j]) for _, rows in self._panels() for _, cells in rows])
            for j, m in enumerate(self.models)
        ]
        total = width + sum(w + 2 for w in cols)
        out = [
            f"<EstimatesTable: {len(self.models)} models, {self.hdi_prob * 100:g}% HDI>",
            " " * width + "".join(m.rjust(w + 2) for m, w in zip(self.models, cols, strict=True)),
        ]
        for title, rows in self._panels():
            out += ["-" * total, title]
            for stub, cells in rows:
                text = "".join(c.rjust(w + 2) for c, w in zip(cells, cols, strict=True))
                out.append(("  " + stub).ljust(width) + text)
        out.append("-" * total)
        return "\n".join(out)


# ---------------------------------------------------------------------- helpers
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "~": r"\~{}",
    "^": r"\^{}",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
} | {c: "\\" + c for c in "&%$#_{}"}


def latex_escape(text: object) -> str:
    """``text`` with LaTeX's special characters escaped (``_`` -> ``\\_``, ``%`` -> ``\\%``...)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _number(x: float, decimals: int) -> str:
    """``x`` to ``decimals`` places, without a minus sign on zero; ``n/a`` when not finite."""
    if not np.isfinite(x):
        return "n/a"
    s = f"{x:,.{decimals}f}"
    return s.lstrip("-") if float(s.replace(",", "")) == 0 else s


def _merge_orders(orders: Sequence[Sequence[Any]]) -> list[Any]:
    """Keys of all ``orders`` in one list; a key new to the list goes right after the key that
    precedes it in its own order, so each model's order is kept where the models agree."""
    merged: list[Any] = []
    for order in orders:
        previous = None
        for key in order:
            if key not in merged:
                merged.insert(0 if previous is None else merged.index(previous) + 1, key)
            previous = key
    return merged


def _unique(names: list[str]) -> list[str]:
    """``names`` with repeated ones numbered in order: ``default (1)``, ``default (2)``."""
    out: list[str] = []
    for name in names:
        k, candidate = 0, name
        while names.count(name) > 1 and (candidate in out or candidate in names):
            k += 1
            candidate = f"{name} ({k})"
        out.append(candidate)
    return out


def _named_fits(fits: Fits, names: Sequence[str] | None) -> dict[str, CredentialFit]:
    """The fits under their column names, checked."""
    if isinstance(fits, CredentialFit):
        fits = [fits]
    if isinstance(fits, Mapping):
        if names is not None:
            raise ValueError("give the column names either as the dict's keys or as names=")
        keys, items = list(fits.keys()), list(fits.values())
        if not all(isinstance(k, str) and k for k in keys):
            raise TypeError("the dict's keys are the column names: non-empty strings")
    elif isinstance(fits, Sequence) and not isinstance(fits, str | bytes):
        items, keys = list(fits), []
    else:
        raise TypeError(
            f"etable takes a list (or dict name -> fit) of CredentialFit, not {type(fits).__name__}"
        )
    if not items:
        raise ValueError("etable needs at least one fit; got none")
    for i, item in enumerate(items):
        if not isinstance(item, CredentialFit):
            where = repr(keys[i]) if keys else f"number {i + 1}"
            raise TypeError(
                f"etable takes CredentialFit objects (from CredentialModel.fit or bc.load); "
                f"fit {where} is a {type(item).__name__}"
            )
    if keys:
        return dict(zip(keys, items, strict=True))
    if names is None:
        return dict(zip(_unique([f.spec.name for f in items]), items, strict=True))
    names = list(names)
    if len(names) != len(items) or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"names= needs {len(items)} non-empty strings, one per fit; got {names}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"column names must be unique; repeated: {', '.join(repeated)}")
    return dict(zip(names, items, strict=True))


def _effect_scale(fit: CredentialFit) -> str:
    """The unit of the fit's effects on its own scale."""
    family = fit.family
    if family.margins or family.log_scale(fit.spec.outcome.column):
        return "log points"
    return "log-odds" if family.link == "logit" else "outcome units"


def _data_sets(trees: Mapping[str, Any]) -> dict[str, str]:
    """A letter per model; models share one when they fit the same outcome of the same rows on
    the same likelihood scale (:func:`bayescred.analysis.loo.check_same_data`)."""
    groups: list[str] = []  # one representative model per letter
    out: dict[str, str] = {}
    for name, tree in trees.items():
        for rep in groups:
            try:
                check_same_data({rep: trees[rep], name: tree})
            except (ValueError, KeyError):
                continue
            out[name] = out[rep]
            break
        else:
            k = len(groups)
            groups.append(name)
            out[name] = chr(ord("A") + k) if k < 26 else str(k + 1)
    return out


class _Cells:
    """Cells and numbers of the table, filled model by model."""

    def __init__(self, digits: int, hdi: HdiPosition) -> None:
        self.digits, self.hdi = digits, hdi
        self.cells: dict[tuple[str, str], dict[str, str]] = {}
        self.numbers: dict[tuple[str, str, str], dict[str, float]] = {}
        self.orders: dict[str, list[tuple[str, str]]] = {}

    def text(self, model: str, panel: str, row: str, text: str) -> None:
        self.cells.setdefault((panel, row), {})[model] = text
        self.orders.setdefault(model, []).append((panel, row))

    def number(
        self, model: str, panel: str, row: str, text: str, value: float, **more: float
    ) -> None:
        self.text(model, panel, row, text)
        self.numbers[(panel, row, model)] = {"value": float(value), **more}

    def estimate(
        self,
        model: str,
        panel: str,
        row: str,
        r: pd.Series,
        prefix: str = "",
        places: int = -1,
    ) -> None:
        """Mean and HDI from ``r[prefix + "mean"]``, ``...hdi_low``, ``...hdi_high``."""
        mean, low, high = (float(r[prefix + k]) for k in ("mean", "hdi_low", "hdi_high"))
        places = self.digits if places < 0 else places
        sep = "\n" if self.hdi == "below" else " "
        text = f"{_number(mean, places)}{sep}[{_number(low, places)}, {_number(high, places)}]"
        self.number(model, panel, row, text, mean, hdi_low=low, hdi_high=high)


# ---------------------------------------------------------------------- panels
def _effects(cells: _Cells, model: str, fit: CredentialFit, hdi_prob: float) -> bool:
    """The average-effect rows of one fit; whether it split the effect into margins."""
    table = fit.average_effect(hdi_prob=hdi_prob).table
    margins = "margin" in table.columns
    for _, r in table.iterrows():
        margin = str(r["margin"]) if margins else "total"
        row = EFFECT_ROWS.get(margin, margin)
        cells.estimate(model, "effects", row, r)
        if "pct_mean" in table.columns and np.isfinite(r["pct_mean"]):
            cells.estimate(model, "effects", f"{row} (%)", r, "pct_", max(cells.digits - 2, 0))
    return margins


def event_time_row(event_time: int, window: EventWindow) -> str:
    """The row of an event time: ``"event time -3 (≤)"`` and ``"event time 5 (≥)"`` at the
    binned endpoints (every period that far or farther), ``"event time 0"`` otherwise."""
    e = int(event_time)
    if e == -window.n_leads:
        return f"event time {e} (≤)"
    if e == window.n_lags - 1:
        return f"event time {e} (≥)"
    return f"event time {e}"


def _event_times(
    cells: _Cells, model: str, fit: CredentialFit, hdi_prob: float, descriptions: dict[str, str]
) -> bool:
    """The population event-time profile's rows of one fit (spec with ``[dynamics]``); whether
    it has them. The reference period ``-1`` reads ``0 (ref.)``."""
    if fit.spec.dynamics is None:
        return False
    result = fit.event_study(hdi_prob=hdi_prob)
    for _, r in result.table.iterrows():
        row = event_time_row(int(r["event_time"]), result.window)
        e = int(r["event_time"])
        if r["period"] == "reference":
            descriptions.setdefault(row, "the reference period (0 by definition)")
            cells.number(model, "event_time", row, "0 (ref.)", 0.0, hdi_low=0.0, hdi_high=0.0)
            continue
        when = f"{e} period(s) {'after' if e >= 0 else 'before'} it is first held"
        if bool(r["binned"]):
            when += " or more"
        descriptions.setdefault(row, f"effect of the first credential {when}, population profile")
        cells.estimate(model, "event_time", row, r)
    return True


def _credential_types(
    cells: _Cells,
    model: str,
    fit: CredentialFit,
    summary: pd.DataFrame,
    descriptions: dict[str, str],
) -> bool:
    """The credential-types rows of one fit (spec with ``[credential_types]``), from its
    summary: :data:`TYPE_ROWS`, then ``category <label>`` per category of ``category_effect``
    with ``pooling = "partial"``; whether it has them."""
    types = fit.spec.credential_types
    if types is None:
        return False
    for name, row in TYPE_ROWS.items():
        for _, r in summary[summary["parameter"] == name].iterrows():
            descriptions.setdefault(row, f"{name}: {r['description']}")
            cells.estimate(model, "credential_types", row, r)
    if types.pooling == "partial":
        for _, r in summary[summary["parameter"] == "category_effect"].iterrows():
            row = f"category {r['label']}"
            descriptions.setdefault(
                row,
                f"category_effect[{r['label']}]: effect of a first credential of a typical type "
                f"of skill category {r['label']}, population (mu_beta + u_category)",
            )
            cells.estimate(model, "credential_types", row, r)
    return True


def _parameter_rows(
    summaries: Mapping[str, pd.DataFrame], parameters: Sequence[str] | Literal["all"] | None
) -> dict[str, pd.DataFrame]:
    """Each model's summary rows to show, keyed ``name`` or ``name[label]`` (``row`` column)."""
    keyed = {}
    for model, table in summaries.items():
        keyed[model] = table.assign(row=element_names(table))
    if parameters == "all":
        return keyed
    if parameters is None:
        return {m: t[~group_level(t)] for m, t in keyed.items()}
    wanted = [parameters] if isinstance(parameters, str) else list(parameters)
    if not all(isinstance(p, str) for p in wanted):
        raise TypeError("parameters= takes parameter names (strings), 'all' or None")
    known = {v for t in keyed.values() for v in [*t["parameter"], *t["row"]]}
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise ValueError(
            f"parameters {', '.join(map(repr, unknown))} are in none of the models; known: "
            + ", ".join(sorted({p for t in keyed.values() for p in t["parameter"]}))
        )
    return {m: t[t["parameter"].isin(wanted) | t["row"].isin(wanted)] for m, t in keyed.items()}


def _data(cells: _Cells, model: str, fit: CredentialFit) -> None:
    info = fit.design_info
    cells.text(model, "data", "outcome", str(info["outcome"]))
    cells.text(model, "data", "likelihood", fit.spec.outcome.likelihood)
    cells.text(model, "data", "worker effects", fit.spec.worker_effects)
    cells.text(model, "data", "effect scale", _effect_scale(fit))
    for row, n in [
        ("rows used", int(info["rows_used"])),
        ("rows not used", int(fit.rows_not_used()["rows"].sum())),
        ("workers", int(info["workers_used"])),
    ]:
        cells.number(model, "data", row, f"{n:,}", n)


def _diagnostics(cells: _Cells, model: str, fit: CredentialFit) -> None:
    d = fit.diagnostics().set_index("check")["value"].astype(float)
    divergences = int(d["divergences"])
    cells.number(model, "diagnostics", "divergences", f"{divergences:,}", divergences)
    cells.number(model, "diagnostics", "max R-hat", _number(d["max R-hat"], 3), d["max R-hat"])
    ess = d["min bulk ESS"]
    cells.number(model, "diagnostics", "min bulk ESS", _number(ess, 0), ess)
    post = fit.tree["posterior"]
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    cells.number(model, "diagnostics", "chains x draws", f"{chains} x {draws:,}", chains * draws)
    ok = fit.converged
    cells.number(model, "diagnostics", "converged", "yes" if ok else "no", float(ok))


def _loo(cells: _Cells, model: str, fit: CredentialFit) -> str | None:
    """The LOO rows of one fit; the reason when LOO cannot be computed (cells ``n/a``)."""
    try:
        with warnings.catch_warnings():  # the table reports the high Pareto k count itself
            warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
            result = fit.loo()
    except (ValueError, NotImplementedError) as err:
        for row in ("elpd (se)", "p_loo", "high Pareto k"):
            cells.text(model, "loo", row, "n/a")
        return str(err)
    elpd, se, p = float(result.elpd), float(result.se), float(result.p)
    high = int((np.asarray(result.pareto_k) > float(result.good_k)).sum())
    cells.number(model, "loo", "elpd (se)", f"{_number(elpd, 1)} ({_number(se, 1)})", elpd, se=se)
    cells.number(model, "loo", "p_loo", _number(p, 1), p)
    cells.number(model, "loo", "high Pareto k", f"{high:,}", high)
    return None


def _notes(
    hdi_prob: float,
    hdi: HdiPosition,
    effects: bool,
    margins: bool,
    dynamic: bool,
    typed: bool,
    parameters: Sequence[str] | Literal["all"] | None,
    loo_errors: Mapping[str, str] | None,
) -> tuple[str, ...]:
    pct = f"{hdi_prob * 100:g}%"
    notes = [
        f"Posterior means, with the {pct} highest-density interval (HDI) in brackets "
        f"{hdi} them; an empty cell: the model has no such parameter or effect."
    ]
    if effects:
        hurdle = (
            " Hurdle models split the change in the expected outcome into the extensive margin "
            "(any positive outcome in a period) and the intensive margin (the amount in such a "
            "period); in log points the margins' means add up to the total."
        )
        notes.append(
            "Average effect of the next credential: one more credential's effect for every row a "
            "model used, averaged over the rows per posterior draw; on the model's own scale "
            "(row 'effect scale'), and in the (%) rows as the average percentage change "
            "100 (exp(effect) - 1)." + (hurdle if margins else "")
        )
    if dynamic:
        notes.append(
            "Effect of the first credential by event time: the population profile of models "
            "with event-time dynamics ([dynamics]), on the model's own scale, at the reference "
            "track record; event time e is e periods after the credential is first held "
            "(before it for e < 0), -1 is the reference period (0 by definition), (≤) and (≥) "
            "mark the binned endpoints (every period that far or farther)."
        )
    if typed:
        notes.append(
            "Credential types: models with credential types ([credential_types]), on the "
            "model's own scale: sd between types (sigma_type, within a category) and between "
            "categories (sigma_category) of the first credential's effect, the match effect "
            "(match_effect, added to a credential's effect when its category is the worker's "
            "job category) and, by category, the population's first-credential effect of a "
            "typical type of the category (category_effect = mu_beta + u_category; "
            "fit.type_effects(by='category') averages the effect over groups by their rows "
            "instead, and fit.type_effects() ranks the types)."
        )
    if parameters is None:
        left_out = []
        if dynamic:
            left_out.append(
                "the stored event-time profiles event_profile... (the event-time rows above)"
            )
        if typed:
            left_out.append(
                "the credential-type parameters (the credential-type rows above, and "
                "type_effect, one row per type)"
            )
        profiles = (
            f", {left_out[0]} and {left_out[1]}"
            if len(left_out) > 1
            else "".join(f" and {words}" for words in left_out)
        )
        notes.append(
            "Parameters: population level (the by-group parameters, named ..._group"
            f"{profiles}, are left out; parameters='all' shows them); name[label] is one "
            "element of a parameter."
        )
    notes.append(
        "Diagnostics: divergent transitions after tuning; worst rank-normalised R-hat and "
        "bulk ESS over the parameters; converged: every check passes (no divergences, "
        f"R-hat <= {MAX_RHAT}, bulk and tail ESS >= {MIN_ESS_PER_CHAIN} per chain, "
        f"BFMI >= {MIN_BFMI})."
    )
    if loo_errors is not None:
        notes.append(
            "LOO: leave-one-worker-out PSIS-LOO of each model on its own data: elpd (standard "
            "error), higher is better; p_loo, the effective number of parameters; high Pareto k, "
            "workers whose k exceeds ArviZ's threshold (unreliable estimates). elpd values "
            "compare only between models with the same 'same data' letter (outcome, rows, "
            "likelihood scale); bayescred.compare gives differences with standard errors."
        )
        notes += [f"n/a: LOO of {m} not available: {why}" for m, why in loo_errors.items()]
    return tuple(notes)


# ---------------------------------------------------------------------- the table
def etable(
    fits: Fits,
    *,
    names: Sequence[str] | None = None,
    parameters: Sequence[str] | Literal["all"] | None = None,
    hdi_prob: float = 0.9,
    digits: int = 3,
    effects: bool = True,
    event_times: bool = True,
    credential_types: bool = True,
    loo: bool = True,
    hdi: HdiPosition = "below",
) -> EstimatesTable:
    """A table of several fits side by side, for papers (pyfixest's ``etable`` for bayescred).

    Parameters
    ----------
    fits
        The fits: a list (columns named after their specs, repeated names numbered
        ``default (1)``, ``default (2)``), a dict column name -> fit, or one fit.
    names
        Column names for a list of fits, one per fit, unique.
    parameters
        Which parameters of :meth:`~bayescred.CredentialFit.summary` to show: ``None`` (the
        default) the population-level ones (all but the ``*_group`` elements), ``"all"``
        every row, or a list of names: a parameter (``"mu_beta"``, ``"gamma"``: all its
        elements) or one element (``"beta_group[A]"``, ``"gamma[z]"``). Rows keep the
        summary's order.
    hdi_prob
        Mass of the highest-density intervals, in (0, 1).
    digits
        Decimals of the estimates (percentages get ``digits - 2``: 0.001 log points is about
        0.1%).
    effects
        Show the average effect of the next credential (computed over all rows each model used;
        the slowest part of the table for large fits).
    event_times
        For fits whose spec has ``[dynamics]``: show the population event-time profile, one row
        per event time (``"event time -3 (≤)"`` .. ``"event time 0"`` ..; the reference period
        ``-1`` reads ``0 (ref.)``), from :meth:`~bayescred.CredentialFit.event_study`. Static
        fits have no such rows (their cells are empty).
    credential_types
        For fits whose spec has ``[credential_types]``: show the between-type and
        between-category sds (``"sd between types"``, ``"sd between categories"``), the match
        effect (``"match effect"``, with ``match = true``) and the effect of a first credential
        of a typical type of each skill category (``"category <label>"``, the posterior's
        ``category_effect``; with ``pooling = "partial"``), and leave these parameters and
        ``type_effect`` out of the default parameters panel. Fits without types have no such
        rows (their cells are empty).
    loo
        Show each model's PSIS-LOO (leave one worker out; each model on its own data).
    hdi
        Put each HDI ``"below"`` its mean (a second line, as pyfixest puts standard errors) or
        ``"beside"`` it.

    Returns
    -------
    EstimatesTable
        ``.frame`` (display strings, rows ``(panel, row)``, one column per model), ``.values``
        (the numbers), ``.to_html()``, ``.to_latex()``, ``.to_markdown()``.

    Raises
    ------
    TypeError
        When ``fits`` is not a list or dict of :class:`~bayescred.CredentialFit`.
    ValueError
        When there are no fits, names repeat or do not match the fits, a requested parameter is
        in no model, or ``hdi_prob``/``digits``/``hdi`` are out of range.
    """
    named = _named_fits(fits, names)
    if not 0.0 < float(hdi_prob) < 1.0:
        raise ValueError(f"hdi_prob must be in (0, 1); got {hdi_prob}")
    if isinstance(digits, bool) or not isinstance(digits, int | np.integer) or digits < 0:
        raise ValueError(f"digits must be a non-negative integer; got {digits!r}")
    if hdi not in ("below", "beside"):
        raise ValueError(f"hdi must be 'below' or 'beside'; got {hdi!r}")
    cells = _Cells(int(digits), hdi)
    summaries = {m: f.summary(hdi_prob=hdi_prob) for m, f in named.items()}
    shown = _parameter_rows(summaries, parameters)
    if parameters is None and event_times:
        # the event-time panel shows the profiles; their summary rows would repeat it
        shown = {m: t[~t["parameter"].isin(EVENT_PROFILES)] for m, t in shown.items()}
    if parameters is None and credential_types:
        # the credential-types panel shows these; type_effect is one row per type
        shown = {m: t[~t["parameter"].isin(TYPE_PARAMETERS)] for m, t in shown.items()}
    descriptions: dict[str, str] = {}
    margins = dynamic = typed = False
    loo_errors: dict[str, str] = {}
    for model, fit in named.items():
        if effects:
            margins = _effects(cells, model, fit, hdi_prob) or margins
        if event_times:
            dynamic = _event_times(cells, model, fit, hdi_prob, descriptions) or dynamic
        if credential_types:
            typed = _credential_types(cells, model, fit, summaries[model], descriptions) or typed
        for _, r in shown[model].iterrows():
            row = str(r["row"])
            descriptions.setdefault(row, str(r["description"]))
            cells.estimate(model, "parameters", row, r)
        _data(cells, model, fit)
        _diagnostics(cells, model, fit)
        if loo:
            why = _loo(cells, model, fit)
            if why is not None:
                loo_errors[model] = why
    if loo and len(named) > 1:
        sets = _data_sets({m: f.tree for m, f in named.items()})
        for model in named:
            cells.text(model, "loo", "same data", sets[model])
    order = _merge_orders([cells.orders.get(m, []) for m in named])
    keys = [k for panel in PANELS for k in order if k[0] == panel]
    models = list(named)
    frame = pd.DataFrame(
        [[cells.cells[k].get(m, "") for m in models] for k in keys],
        index=pd.MultiIndex.from_tuples(keys, names=["panel", "row"]),
        columns=pd.Index(models, name="model"),
    )
    records = [
        {"panel": p, "row": r, "model": m, **cells.numbers[(p, r, m)]}
        for p, r in keys
        for m in models
        if (p, r, m) in cells.numbers
    ]
    values = pd.DataFrame(records).reindex(columns=VALUE_COLUMNS)
    return EstimatesTable(
        frame=frame,
        values=values,
        caption=f"Credential models: posterior means and {hdi_prob * 100:g}% HDIs",
        notes=_notes(
            hdi_prob,
            hdi,
            effects,
            margins,
            dynamic,
            typed,
            parameters,
            loo_errors if loo else None,
        ),
        descriptions=descriptions,
        hdi_prob=float(hdi_prob),
    )
