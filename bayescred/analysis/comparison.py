"""The table :func:`bayescred.compare` returns: a pandas DataFrame that shows itself.

:class:`ComparisonTable` is ArviZ's comparison table (a :class:`pandas.DataFrame`, so every
caller that indexes, slices or prints it with ``to_string`` keeps working) with a rich display:
``_repr_html_`` in Jupyter and a plain ``repr`` that say the same thing. Both give, best model
first, each model's ``elpd`` (standard error), its difference from the best (standard error of
the difference, ``p_worse``), stacking ``weight``, ``p`` (effective number of parameters) and
the number of workers with high Pareto k, then one sentence per other model on whether the
difference is a clear preference (more than :data:`CLEAR_DIFFERENCE` standard errors) and one
per model with unreliable importance sampling. Derived frames (slices, ``round``, ``copy``)
are plain DataFrames.
"""

from __future__ import annotations

import html
import math
from typing import Any, ClassVar

import pandas as pd

#: A difference in elpd of more than this many standard errors counts as a clear preference.
CLEAR_DIFFERENCE = 2.0
#: Columns the display needs (besides ``n_high_pareto_k``, shown when present).
SHOWN_COLUMNS: tuple[str, ...] = ("rank", "elpd", "se", "elpd_diff", "dse", "weight", "p")
HEADERS: tuple[str, ...] = (
    "model",
    "rank",
    "elpd (se)",
    "elpd_diff (dse)",
    "p_worse",
    "weight",
    "p_loo",
    "high Pareto k",
)


def _number(x: Any, digits: int = 1) -> str:
    try:
        value = float(x) + 0.0  # no "-0.0"
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


class ComparisonTable(pd.DataFrame):
    """ArviZ's comparison table, best model first, with a rich display (see the module).

    ``attrs`` record the unit left out (``unit``: ``"worker"``), the number of workers
    (``n_units``), the Pareto k threshold (``good_k``) and, per model, whether its
    log-likelihood was read from the fit's ``log_likelihood`` group or computed
    (``log_likelihood``).
    """

    _metadata: ClassVar[list[str]] = []

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    # ------------------------------------------------------------------ content
    def _complete(self) -> bool:
        return set(SHOWN_COLUMNS) <= set(self.columns) and len(self) > 0

    def _title(self) -> str:
        """One line on what was compared."""
        units = self.attrs.get("n_units")
        what = f" ({int(units):,} workers)" if units is not None else ""
        return (
            f"Model comparison by PSIS-LOO, leaving one worker out{what}: expected log "
            "predictive density (elpd, higher is better), best model first"
        )

    def _cells(self) -> list[list[str]]:
        """The displayed rows, one per model, as text cells under HEADERS."""
        rows = []
        for name, r in self.iterrows():
            high = r.get("n_high_pareto_k")
            rows.append(
                [
                    str(name),
                    str(int(r["rank"])),
                    f"{_number(r['elpd'])} ({_number(r['se'])})",
                    f"{_number(r['elpd_diff'])} ({_number(r['dse'])})",
                    _number(r.get("p_worse"), 2),
                    _number(r["weight"], 2),
                    _number(r["p"]),
                    "n/a" if high is None or pd.isna(high) else f"{int(high):,}",
                ]
            )
        return rows

    def _sentences(self) -> list[str]:
        """How to read the table: each model against the best, and high Pareto k warnings."""
        names = [str(n) for n in self.index]
        best = names[0]
        out = []
        for name, r in list(self.iterrows())[1:]:
            diff, dse = float(r["elpd_diff"]), float(r["dse"])
            if dse == 0 and abs(diff) <= 1e-9 * max(1.0, abs(float(r["elpd"]))):
                out.append(
                    f"{name!r} and {best!r} have the same elpd (difference 0, standard error "
                    "0): no preference for either (the same model and data?)."
                )
                continue
            ratio = abs(diff) / dse if dse > 0 else math.inf
            verdict = (
                "a clear preference for"
                if ratio > CLEAR_DIFFERENCE
                else "not a clear preference for"
            )
            shown = f"{ratio:.1f}" if math.isfinite(ratio) else "infinitely many"
            out.append(
                f"{name!r} is {abs(diff):.1f} below {best!r} in elpd, {shown} standard errors of "
                f"the difference: {verdict} {best!r} (clear above {CLEAR_DIFFERENCE:g})."
            )
        good_k = self.attrs.get("good_k")
        threshold = f" above {float(good_k):.2f}" if good_k is not None else ""
        for name, r in self.iterrows():
            high = r.get("n_high_pareto_k")
            if high is not None and not pd.isna(high) and int(high) > 0:
                out.append(
                    f"{name!r}: {int(high):,} worker(s) with Pareto k{threshold}, where the "
                    "importance-sampling estimate is unreliable; read its elpd with care."
                )
        return out

    # ------------------------------------------------------------------ display
    def to_text(self) -> str:
        """The plain-text view (the ``repr``)."""
        if not self._complete():
            return pd.DataFrame(self).__repr__()
        rows = [list(HEADERS), *self._cells()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
        lines = [self._title()]
        lines += [
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
        ]
        lines += [f"  {s}" for s in self._sentences()]
        return "\n".join(line.rstrip() for line in lines)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str | None:
        if not self._complete():
            plain: str | None = pd.DataFrame(self).to_html()
            return plain
        e = html.escape
        head = "".join(f"<th>{e(h)}</th>" for h in HEADERS)
        body = "".join(
            "<tr>"
            + f"<th style='text-align:left'>{e(row[0])}</th>"
            + "".join(f"<td style='text-align:right'>{e(c)}</td>" for c in row[1:])
            + "</tr>"
            for row in self._cells()
        )
        notes = "".join(f"<li>{e(s)}</li>" for s in self._sentences())
        return (
            "<div class='bayescred-comparison'>"
            f"<p><strong>{e(self._title())}</strong></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )
