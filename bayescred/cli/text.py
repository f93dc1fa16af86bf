"""The text blocks the commands print about a fit (reusable and testable on a fit in memory)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bayescred.analysis.effects import EffectResult
    from bayescred.analysis.event_study import EventStudyResult
    from bayescred.facade.credential_fit import CredentialFit
from bayescred.cli.output import fmt, indent, text_table
from bayescred.cli.output import pct as percent_text


def format_data_summary(fit: CredentialFit) -> str:
    """Rows in the data, rows the model used, and the rows it did not use, by reason."""
    info = fit.design_info
    not_used = fit.rows_not_used()
    used = int(info["rows_used"])
    total = used + int(not_used["rows"].sum()) if len(not_used) else used
    lines = [
        f"Data: {total:,} rows; {used:,} used by the model ({int(info['workers_used']):,} "
        f"workers), outcome {info['outcome']!r}."
    ]
    if len(not_used):
        lines.append("Rows not used:")
        width = max(len(str(r)) for r in not_used["reason"])
        for reason, rows in zip(not_used["reason"], not_used["rows"], strict=True):
            lines.append(f"  {reason!s:<{width}}  {int(rows):>8,}")
    else:
        lines.append("Rows not used: none.")
    return "\n".join(lines)


def format_parameter_summary(fit: CredentialFit, hdi_prob: float = 0.9) -> str:
    """The parameter summary as a compact table (one description per parameter)."""
    table = fit.summary(hdi_prob=hdi_prob)
    pct = f"{round(hdi_prob * 100):g}% HDI"
    rows = []
    last = None
    for r in table.to_dict("records"):
        name = str(r["parameter"]) + (f"[{r['label']}]" if r["label"] else "")
        rows.append(
            {
                "parameter": name,
                "mean": fmt(r["mean"], sign=True),
                "sd": fmt(r["sd"]),
                pct: f"[{fmt(r['hdi_low'], sign=True)}, {fmt(r['hdi_high'], sign=True)}]",
                "ess_bulk": fmt(r["ess_bulk"], 0),
                "ess_tail": fmt(r["ess_tail"], 0),
                "r_hat": fmt(r["r_hat"], 3),
                "description": str(r["description"]) if r["parameter"] != last else "",
            }
        )
        last = r["parameter"]
    title = f"Parameters (posterior mean, sd, {pct}, effective sample sizes, R-hat):"
    return title + "\n" + text_table(rows, left=("parameter", "description"))


def format_diagnostics(fit: CredentialFit, table: bool = True) -> str:
    """The convergence checks (optionally as a table) and the one-sentence verdict."""
    lines = []
    if table:
        digits = {"divergences": 0, "max R-hat": 3, "min BFMI": 2}
        diag = fit.diagnostics()
        rows = [
            {
                "check": str(check),
                "value": fmt(float(value), digits.get(str(check), 0)),
                "threshold": str(threshold),
                "pass": "yes" if ok else "NO",
            }
            for check, value, threshold, ok in zip(
                diag["check"], diag["value"], diag["threshold"], diag["pass"], strict=True
            )
        ]
        lines += ["Diagnostics:", indent(text_table(rows, left=("check", "threshold")))]
    lines.append(f"Verdict: {fit.verdict}")
    return "\n".join(lines)


def format_average_effect(fit: CredentialFit, hdi_prob: float = 0.9) -> str:
    """The average next-credential effect over the observed profiles, in log points and %."""
    row = fit.average_effect(hdi_prob=hdi_prob).table.iloc[0]
    pct = f"{round(hdi_prob * 100):g}% HDI"
    head = f"Average effect of one more credential over the {int(row['rows']):,} observed profiles"
    if "pct_mean" in row.index:
        return (
            f"{head}:\n"
            f"  {100 * row['mean']:+.1f} log points on {fit.spec.outcome.column} "
            f"(posterior mean; {pct} {100 * row['hdi_low']:+.1f} to {100 * row['hdi_high']:+.1f})\n"
            f"  = {percent_text(row['pct_mean'])} on {fit.spec.outcome.level_words} "
            f"({pct} {percent_text(row['pct_hdi_low'])} to {percent_text(row['pct_hdi_high'])})\n"
            f"  probability that the average effect is positive: {row['prob_positive']:.2f}"
        )
    return (
        f"{head}:\n"
        f"  {row['mean']:+.4g} on {fit.spec.outcome.column} "
        f"(posterior mean; {pct} {row['hdi_low']:+.4g} to {row['hdi_high']:+.4g})\n"
        f"  probability that the average effect is positive: {row['prob_positive']:.2f}"
    )


def format_effect_table(result: EffectResult) -> str:
    """An effect table for the terminal: the profile, then median, HDI, P(> 0) and %.

    Hurdle models get one line per profile and margin (total, extensive, intensive) and the
    median change in expected amount.
    """
    t = result.rows()
    pct = f"{round(result.hdi_prob * 100):g}% HDI"
    percent = "pct_median" in t
    unseen = bool((t["parameters_from"] != "group posterior").any())
    rows = []
    for _, r in t.iterrows():
        row = {
            "group": str(r["group"]),
            "credentials": str(r["credentials"]),
            "to": str(r["to"]),
            "track_record": f"{r['track_record']:g}",
        }
        if "margin" in t:
            row["margin"] = str(r["margin"])
        row |= {
            "median": fmt(r["median"], 4, sign=True),
            pct: f"[{fmt(r['hdi_low'], 4, sign=True)}, {fmt(r['hdi_high'], 4, sign=True)}]",
            "P(>0)": f"{r['prob_positive']:.2f}",
        }
        if percent:
            row["% median"] = percent_text(r["pct_median"])
            low, high = percent_text(r["pct_hdi_low"]), percent_text(r["pct_hdi_high"])
            row[f"% {pct}"] = f"[{low}, {high}]"
        if "pp_median" in t:  # Bernoulli: change in probability, percentage points
            row["pp median"] = f"{r['pp_median']:+.1f}"
            row[f"pp {pct}"] = f"[{r['pp_hdi_low']:+.1f}, {r['pp_hdi_high']:+.1f}]"
        if "gain_median" in t:
            row["amount median"] = fmt(r["gain_median"], 4, sign=True)
        if unseen:
            row["parameters from"] = str(r["parameters_from"])
        rows.append(row)
    return text_table(rows, left=("group", "margin", "parameters from"))


def format_event_study(result: EventStudyResult) -> str:
    """An event-study table for the terminal: one line per event time (and group or cohort).

    Columns: the event time (``≤-L`` and ``≥K-1`` at the binned endpoints), the scope label,
    the period (lead, reference, lag), the posterior mean, sd and HDI on the model's scale and,
    for log-scale outcomes, the percentage change with its HDI. The reference period reads
    ``ref.`` (its effect is 0 by construction).
    """
    t = result.table
    pct = f"{round(result.hdi_prob * 100):g}% HDI"
    rows = []
    for _, r in t.iterrows():
        reference = r["period"] == "reference"
        row = {"event time": str(r["label"])}
        if result.scope is not None:
            row[result.scope] = str(r[result.scope])
        row["period"] = str(r["period"])
        if reference:
            row |= {"mean": "0 (ref.)", "sd": "", pct: ""}
        else:
            row |= {
                "mean": fmt(r["mean"], 4, sign=True),
                "sd": fmt(r["sd"], 4),
                pct: f"[{fmt(r['hdi_low'], 4, sign=True)}, {fmt(r['hdi_high'], 4, sign=True)}]",
            }
        if result.log_scale:
            if reference:
                row |= {"% mean": "", f"% {pct}": ""}
            else:
                low, high = percent_text(r["percent_hdi_low"]), percent_text(r["percent_hdi_high"])
                row |= {"% mean": percent_text(r["percent"]), f"% {pct}": f"[{low}, {high}]"}
        rows.append(row)
    scope = () if result.scope is None else (result.scope,)
    title = (
        f"Event study: effect of {result.event} on {result.outcome} by event time "
        f"(posterior mean, sd, {pct}" + (", % change" if result.log_scale else "") + "):"
    )
    return title + "\n" + text_table(rows, left=("event time", *scope, "period"))
