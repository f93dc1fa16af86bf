"""The HTML skeleton, inline stylesheet and escaping helpers of the report
(:func:`bayescred.reporting.html.report`).

Everything the page needs is in the file itself: no web fonts, scripts or external style sheets
(system font stacks only), so a report opens the same offline, in an e-mail attachment or an
archive.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

CSS = """
:root {
  --ink: #1f2328; --muted: #57606a; --rule: #d0d7de; --soft: #f6f8fa;
  --accent: #0072B2; --good: #1a7f37; --bad: #b35900; --good-bg: #dafbe1; --bad-bg: #fff1e5;
}
* { box-sizing: border-box; }
html { font-size: 16px; }
body {
  margin: 0; color: var(--ink); background: #ffffff;
  font-family: -apple-system, "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans",
    "DejaVu Sans", sans-serif;
  line-height: 1.55;
}
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 1.5rem; padding-bottom: 0.75rem; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 0.4rem; }
h2 {
  font-size: 1.35rem; margin: 2.6rem 0 0.8rem; padding-bottom: 0.3rem;
  border-bottom: 1px solid var(--rule);
}
h3 { font-size: 1.05rem; margin: 1.6rem 0 0.5rem; color: var(--muted); }
p { margin: 0.5rem 0 0.9rem; }
.meta { color: var(--muted); font-size: 0.9rem; margin: 0; }
.lead { font-size: 1.12rem; }
.callout {
  border-left: 4px solid var(--accent); background: var(--soft);
  padding: 0.75rem 1rem; margin: 1rem 0; border-radius: 0 6px 6px 0;
}
.callout.good { border-left-color: var(--good); background: var(--good-bg); }
.callout.bad { border-left-color: var(--bad); background: var(--bad-bg); }
.note { color: var(--muted); font-size: 0.92rem; }
nav.toc {
  background: var(--soft); border: 1px solid var(--rule); border-radius: 6px;
  padding: 0.6rem 1.2rem; margin: 1rem 0 0.5rem; font-size: 0.95rem;
}
nav.toc ol { margin: 0.3rem 0; padding-left: 1.3rem; columns: 2; column-gap: 2.5rem; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
.table-wrap { overflow-x: auto; margin: 0.6rem 0 1.2rem; }
table { border-collapse: collapse; font-size: 0.88rem; min-width: 40%; }
caption { caption-side: top; text-align: left; color: var(--muted); padding: 0 0 0.3rem; }
th, td { padding: 0.32rem 0.7rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: var(--soft); text-align: left; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
td.flag-bad { color: var(--bad); font-weight: 600; }
td.flag-good { color: var(--good); }
pre {
  background: var(--soft); border: 1px solid var(--rule); border-radius: 6px;
  padding: 0.8rem 1rem; overflow-x: auto; font-size: 0.84rem; line-height: 1.45;
  white-space: pre-wrap; overflow-wrap: anywhere;
  font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono",
    "DejaVu Sans Mono", monospace;
}
figure { margin: 1.2rem 0 1.6rem; }
figure img {
  display: block; max-width: 100%; height: auto; margin: 0 auto;
  border: 1px solid var(--rule); border-radius: 4px;
}
figcaption { color: var(--muted); font-size: 0.9rem; margin-top: 0.4rem; }
ul.sentences li { margin: 0.3rem 0; }
footer {
  margin-top: 3rem; color: var(--muted); font-size: 0.85rem;
  border-top: 1px solid var(--rule); padding-top: 0.8rem;
}
@media print {
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-after: avoid; }
  figure, table { break-inside: avoid; }
}
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bayescred {version}">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
<header>
<h1>{title}</h1>
<p class="meta">{meta}</p>
</header>
<nav class="toc" aria-label="Contents"><strong>Contents</strong>
<ol>
{toc}
</ol>
</nav>
{sections}
<footer>{footer}</footer>
</main>
</body>
</html>
"""


#: Readable column headings of the report's tables.
HEADERS: dict[str, str] = {
    "hdi_low": "HDI low",
    "hdi_high": "HDI high",
    "pct_mean": "mean (%)",
    "pct_median": "median (%)",
    "pct_hdi_low": "HDI low (%)",
    "pct_hdi_high": "HDI high (%)",
    "prob_positive": "P(> 0)",
    "gain_median": "change in amount (median)",
    "pp_median": "median (pp)",
    "pp_hdi_low": "HDI low (pp)",
    "pp_hdi_high": "HDI high (pp)",
    "prob_saturates": "P(saturates)",
    "prob_interior_peak": "P(interior peak)",
    "ess_bulk": "ESS bulk",
    "ess_tail": "ESS tail",
    "r_hat": "R-hat",
    "p_value": "p-value",
    "replicated_mean": "replicated mean",
    "replicated_sd": "replicated sd",
    "track_record": "track record",
    "parameters_from": "parameters from",
}


def esc(text: object) -> str:
    """``text`` with ``&``, ``<``, ``>`` and both quotes escaped."""
    return html.escape(str(text), quote=True)


def fmt_cell(value: Any) -> str:
    """A table cell: numbers to 3 significant digits (thousands as integers), text escaped."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return "–"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.3g}"
    return esc(value)


def html_table(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    caption: str | None = None,
    flag_column: str | None = None,
) -> str:
    """An HTML table of ``frame`` (selected ``columns``), every cell escaped."""
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    head = "".join(f"<th>{esc(HEADERS.get(c, c.replace('_', ' ')))}</th>" for c in cols)
    rows = []
    for _, row in frame[cols].iterrows():
        cells = []
        for c in cols:
            v = row[c]
            numeric = isinstance(v, int | float | np.integer | np.floating) and not isinstance(
                v, bool | np.bool_
            )
            cls = ["num"] if numeric else []
            if c == flag_column and isinstance(v, bool | np.bool_):
                cls.append("flag-bad" if v else "flag-good")
            attr = f' class="{" ".join(cls)}"' if cls else ""
            cells.append(f"<td{attr}>{fmt_cell(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def paragraph(text: str, cls: str | None = None) -> str:
    """A ``<p>`` of escaped text, with an optional class."""
    return f'<p class="{cls}">{esc(text)}</p>' if cls else f"<p>{esc(text)}</p>"
