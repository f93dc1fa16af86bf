"""A self-contained HTML report of one fit: text, tables and figures in a single file.

Figures are embedded as base64 PNG data URIs and the style sheet is inline, so the file makes no
network request of any kind. Every piece of text is HTML-escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from arviz_plots import PlotCollection
from matplotlib.figure import Figure

from bayescred.analysis.effect_result import percent_change, summarise_draws
from bayescred.analysis.effects import is_log_scale
from bayescred.analysis.event_study import EventStudyResult, PretrendTest
from bayescred.analysis.summary import group_level
from bayescred.analysis.type_effects import TypeEffectsResult
from bayescred.errors import DataError
from bayescred.model.families import family_of
from bayescred.plots import FitPlots, style
from bayescred.reporting.template import CSS, PAGE, esc, html_table, paragraph

if TYPE_CHECKING:
    from bayescred.facade.credential_fit import CredentialFit
    from bayescred.terms.credential_types import CredentialTypesSpec

#: Section anchors and headings, in page order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("data", "Data"),
    ("specification", "Model specification"),
    ("diagnostics", "Convergence diagnostics"),
    ("parameters", "Parameters"),
    ("credential-curve", "Effect by number of credentials"),
    ("track-record", "Effect by track record"),
    ("profiles", "Example worker profiles"),
    ("predictive-check", "Posterior predictive check"),
    ("software", "Software"),
)
#: The event-study section's anchor and heading: in the report of a fit whose spec has
#: ``[dynamics]`` only, right after :data:`EVENT_STUDY_AFTER`.
EVENT_STUDY_SECTION: tuple[str, str] = ("event-study", "Event study")
EVENT_STUDY_AFTER = "parameters"
#: The credential-types section's anchor and heading: in the report of a fit whose spec has
#: ``[credential_types]`` only, right after :data:`EVENT_STUDY_AFTER` (and the event study).
TYPES_SECTION: tuple[str, str] = ("credential-types", "Which credentials pay")
#: Types in the section's caterpillar figure (the highest ranked).
FIGURE_TYPES = 30
#: Types in the section's tables of the highest- and lowest-ranked types (every type in one
#: table when there are no more than both together).
TOP_TYPES, BOTTOM_TYPES = 10, 5
#: Posterior probability of being above (below) the average type that the section counts as
#: credibly above (below) it, as :meth:`TypeEffectsResult.sentence` does.
CREDIBLE = 0.95
#: An sd whose HDI starts below this share of its mean "reaches down to about 0".
NEAR_ZERO = 0.1


def report_sections(fit: CredentialFit) -> tuple[tuple[str, str], ...]:
    """The report's sections of ``fit``, in page order: :data:`SECTIONS`, plus
    :data:`EVENT_STUDY_SECTION` for a spec with ``[dynamics]`` and :data:`TYPES_SECTION` for
    a spec with ``[credential_types]``."""
    extra = []
    if fit.spec.dynamics is not None:
        extra.append(EVENT_STUDY_SECTION)
    if fit.spec.credential_types is not None:
        extra.append(TYPES_SECTION)
    if not extra:
        return SECTIONS
    at = [key for key, _ in SECTIONS].index(EVENT_STUDY_AFTER) + 1
    return (*SECTIONS[:at], *extra, *SECTIONS[at:])


# ------------------------------------------------------------------ figures
def _png_data_uri(figure: Figure | PlotCollection) -> str:
    """The figure as a base64 PNG data URI; pyplot-managed figures are closed afterwards."""
    fig = figure.get_viz("figure") if isinstance(figure, PlotCollection) else figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=style.DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)  # no-op for figures made without pyplot
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(make: Callable[[], Figure | PlotCollection], alt: str, caption: str) -> str:
    """A ``<figure>`` with the embedded PNG, or a note saying why the figure is missing."""
    try:
        uri = _png_data_uri(make())
    except NotImplementedError as err:
        return f'<p class="note">Figure not available: {esc(err)}</p>'
    return (
        f'<figure><img src="{uri}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


# ------------------------------------------------------------------ sections
def _average_sentence(fit: CredentialFit, table: pd.DataFrame) -> str:
    r = table.iloc[0]
    pct = round(float(table.attrs.get("hdi_prob", 0.9)) * 100)
    outcome = style.outcome_label(fit.spec)
    who = f"Averaged over the {int(r['rows']):,} worker-periods the model used"
    if is_log_scale(fit.spec) and "pct_median" in table:
        change = (
            f"{r['pct_median']:+.1f}% (posterior median; {pct}% HDI {r['pct_hdi_low']:+.1f}% "
            f"to {r['pct_hdi_high']:+.1f}%)"
        )
        if not fit.spec.outcome.column.startswith("log"):
            outcome = f"expected {outcome}"
        else:
            outcome = fit.spec.outcome.level_words
    else:
        change = (
            f"{r['median']:+.3g} (posterior median; {pct}% HDI {r['hdi_low']:+.3g} to "
            f"{r['hdi_high']:+.3g})"
        )
    sentence = (
        f"{who}, one more credential changes {outcome} by {change}. The probability that the "
        f"average effect is positive is {r['prob_positive']:.2f}."
    )
    if "margin" in table:  # hurdle: say where the change comes from
        m = table.set_index("margin")[["pct_median", "prob_positive"]].astype(float)
        ext, inten = m.loc["extensive"], m.loc["intensive"]
        sentence += (
            f" Of that, {ext['pct_median']:+.1f}% comes from more periods with any "
            f"{outcome.removeprefix('expected ')} (extensive margin; probability positive "
            f"{ext['prob_positive']:.2f}) and {inten['pct_median']:+.1f}% from more per such "
            f"period (intensive margin; probability positive {inten['prob_positive']:.2f})."
        )
    return sentence


def _effect_columns(fit: CredentialFit) -> list[str]:
    base = ["median", "hdi_low", "hdi_high", "prob_positive"]
    return base + (["pct_median", "pct_hdi_low", "pct_hdi_high"] if is_log_scale(fit.spec) else [])


def _summary(fit: CredentialFit) -> str:
    overall = fit.average_effect().table
    by_group = fit.average_effect(by="group").table.drop(columns="scope")
    good = fit.converged
    verdict = (
        "The sampler converged: the MCMC diagnostics pass their thresholds, so the numbers "
        "below are reliable as far as sampling is concerned."
        if good
        else "Caution: the sampler did not converge, so the numbers below are provisional. "
        "See the convergence section for what to do."
    )
    parts = [
        f'<p class="lead">{esc(_average_sentence(fit, overall))}</p>',
        f'<div class="callout {"good" if good else "bad"}">{esc(verdict)}</div>',
    ]
    if fit.spec.description:
        parts.append(paragraph(f"Model: {fit.spec.description}"))
    margin = ["margin"] if "margin" in by_group else []
    parts.append(
        html_table(
            by_group,
            columns=["group", *margin, "rows", *_effect_columns(fit)],
            caption="Average effect of one more credential over each group's observed profiles "
            "(model scale; % columns: percentage change)",
        )
    )
    return "".join(parts)


def _data(fit: CredentialFit) -> str:
    info = fit.design_info
    p = fit.design.panel
    not_used = fit.rows_not_used()
    n_not_used = int(not_used["rows"].sum()) if len(not_used) else 0
    r = p.track_record
    facts = pd.DataFrame(
        {
            "item": [
                "input rows",
                "rows used",
                "rows not used",
                "workers (rows used)",
                "groups",
                "periods",
                "credentials held (min–max)",
                "track record (median; range)",
                f"outcome: {info['outcome']} (mean; sd)",
            ],
            "value": [
                f"{info['rows_used'] + n_not_used:,}",
                f"{info['rows_used']:,}",
                f"{n_not_used:,}",
                f"{info['workers_used']:,}",
                ", ".join(str(g) for g in p.group_labels),
                f"{p.n_periods:,}",
                f"{int(p.credentials.min())}–{int(p.credentials.max())}",
                f"{np.median(r):g}; {r.min():g}–{r.max():g}",
                f"{np.mean(p.y):.4g}; {np.std(p.y):.4g}" if p.y is not None else "–",
            ],
        }
    )
    parts = [html_table(facts, caption="The data the model was fitted to")]
    if len(not_used):
        parts.append(html_table(not_used, caption="Rows the model did not use, by reason"))
    else:
        parts.append(paragraph("Every input row was used."))
    return "".join(parts)


def _specification(fit: CredentialFit) -> str:
    return (
        paragraph("The model specification (TOML); load it with bayescred.ModelSpec.from_toml.")
        + f"<pre>{esc(fit.spec.to_toml_string())}</pre>"
    )


#: Derived event-time profiles left out of the trace and rank plots: the event-study section
#: shows them, they repeat the leads and lag steps, and the reference period's is constant.
DERIVED_PROFILES: tuple[str, ...] = ("event_profile", "event_profile_cohort", "event_profile_group")
#: Derived effects of a spec with ``[credential_types]`` left out of the trace and rank plots:
#: ``mu_beta`` plus the deviations, one panel per type or category (hundreds on real data); the
#: credential-types section shows them, the plots keep their sds and the match effect.
DERIVED_TYPE_EFFECTS: tuple[str, ...] = ("type_effect", "category_effect")


def diagnostic_parameters(fit: CredentialFit) -> list[str] | None:
    """The parameters of the report's trace and rank plots: None (the plots' default, the
    population parameters) for a static spec; for ``[dynamics]`` or ``[credential_types]``,
    those without the derived event-time profiles (:data:`DERIVED_PROFILES`) and type and
    category effects (:data:`DERIVED_TYPE_EFFECTS`)."""
    if fit.spec.dynamics is None and fit.spec.credential_types is None:
        return None
    from bayescred.plots.parameters import population_parameters

    derived = {*DERIVED_PROFILES, *DERIVED_TYPE_EFFECTS}
    return [n for n in population_parameters(fit.posterior) if n not in derived]


def _diagnostics(fit: CredentialFit, plots: FitPlots) -> str:
    names = diagnostic_parameters(fit)
    words = (
        "All convergence checks pass."
        if fit.converged
        else "At least one convergence check fails; the verdict says what to try."
    )
    return "".join(
        [
            paragraph(
                f"{words} Verdict: {fit.verdict}",
                "callout good" if fit.converged else "callout bad",
            ),
            html_table(
                fit.diagnostics(), flag_column=None, caption="MCMC diagnostics and thresholds"
            ),
            _figure(
                lambda: plots.trace(var_names=names),
                "trace plots",
                "Traces and per-chain densities of the population parameters: chains should "
                "overlap and look like stationary noise.",
            ),
            _figure(
                lambda: plots.rank(var_names=names),
                "rank plots",
                "Fractional-rank ECDF minus the uniform ECDF, by chain: when the chains agree the "
                "curves stay close to zero and the uniformity p-value is not small.",
            ),
        ]
    )


def _parameters(fit: CredentialFit, plots: FitPlots) -> str:
    table = fit.summary()
    is_group = group_level(table)
    cols = ["parameter", "label", "description", "mean", "sd", "hdi_low", "hdi_high"]
    cols += ["ess_bulk", "ess_tail", "r_hat"]
    pct = round(float(table.attrs.get("hdi_prob", 0.9)) * 100)
    parts = [
        "<h3>Population parameters</h3>",
        html_table(table[~is_group], columns=cols, caption=f"Posterior summaries ({pct}% HDI)"),
        "<h3>Group parameters</h3>",
    ]
    if is_group.any():
        parts.append(html_table(table[is_group], columns=cols, caption=f"By group ({pct}% HDI)"))
    else:
        parts.append(paragraph("Every group shares the population values (complete pooling)."))
    parts.append(
        _figure(
            plots.groups,
            "forest plot of group effects",
            "Effect of the first credential by group (posterior median and HDI) against the "
            "population mean.",
        )
    )
    return "".join(parts)


def _part_note(fit: CredentialFit) -> str:
    """For hurdle models: which part the curves describe."""
    if not fit.family.margins:
        return ""
    what = fit.spec.outcome.words
    return paragraph(
        f"This is a hurdle model: the curves and tables in this section are those of {what} "
        f"in periods with any (the intensive part, log scale). The extensive part (whether a "
        f"worker has any {what} in a period, logit scale) has its own parameters, the "
        "'any positive amount' rows of the parameter table, and its own curves (below the "
        "first figure of the credential-curve section)."
    )


def _extensive_curve(fit: CredentialFit, plots: FitPlots) -> str:
    """For hurdle models: the extensive part's credential curves."""
    if not fit.family.margins:
        return ""
    return _figure(
        lambda: plots.effect_curve(part="extensive"),
        "effect curves of the extensive part",
        f"Extensive part: change in the log-odds of any {fit.spec.outcome.words} in a period "
        "from holding "
        "n credentials (top) and from the next one (bottom), at the reference track record.",
    )


def _credential_curve(fit: CredentialFit, plots: FitPlots) -> str:
    sat = fit.saturation_point()
    threshold = sat.attrs.get("threshold", 0.01)
    return "".join(
        [
            _part_note(fit),
            _figure(
                plots.effect_curve,
                "effect curves over the number of credentials",
                "Cumulative effect of holding n credentials (top) and the effect of the next one "
                "(bottom), per group and for the population mean, at the reference track record.",
            ),
            _extensive_curve(fit, plots),
            "<h3>Saturation point</h3>",
            paragraph(
                f"The credential count past which one more adds less than {threshold:g} on the "
                "model's scale, at the reference track record."
            ),
            html_table(
                sat,
                columns=["scope", "prob_saturates", "median", "hdi_low", "hdi_high"],
                caption="Posterior of the saturation point",
            ),
        ]
    )


def _track_record(fit: CredentialFit, plots: FitPlots) -> str:
    peak = fit.peak_track_record()
    return "".join(
        [
            _part_note(fit),
            _figure(
                plots.track_record,
                "effect of the first credential by track record",
                "Effect of a worker's first credential against track record (population mean "
                "parameters); shaded: the middle 90% of observed track records.",
            ),
            "<h3>Track record where credentials help most</h3>",
            "<ul class='sentences'>"
            + "".join(f"<li>{esc(s)}</li>" for s in peak["statement"])
            + "</ul>",
            html_table(
                peak,
                columns=["scope", "prob_interior_peak", "median", "hdi_low", "hdi_high"],
                caption="Posterior of the peak track record",
            ),
        ]
    )


def event_time_table(result: EventStudyResult) -> pd.DataFrame:
    """An event study's table for display: the event time's label, scope and period, then the
    mean, sd and HDI (and percent change); the reference row reads ``0 (ref.)``."""
    value_cols = ["mean", "sd", "hdi_low", "hdi_high"]
    if result.log_scale:
        value_cols += ["percent", "percent_hdi_low", "percent_hdi_high"]
    scope = [result.scope] if result.scope else []
    shown = result.table[["label", *scope, "period", *value_cols]].astype(
        {c: object for c in value_cols}
    )
    reference = shown["period"] == "reference"
    shown.loc[reference, value_cols] = ""
    shown.loc[reference, "mean"] = "0 (ref.)"
    return shown.rename(
        columns={
            "label": "event time",
            "percent": "pct_mean",
            "percent_hdi_low": "pct_hdi_low",
            "percent_hdi_high": "pct_hdi_high",
        }
    )


def _event_study_block(result: EventStudyResult, what: str) -> str:
    """Figure, sentence(s) and table of one event study (``what``: whose profile, in words)."""
    pct = round(result.hdi_prob * 100)
    scale = "percentage change, " if result.log_scale else ""
    sentences = (
        paragraph(result.sentence())
        if result.scope is None
        else "<ul class='sentences'>"
        + "".join(f"<li>{esc(result.sentence(label))}</li>" for label in result.scope_labels)
        + "</ul>"
    )
    return "".join(
        [
            _figure(
                lambda: result.plot().figure,
                f"event-study figure, {what}",
                f"Effect of a worker's first credential on {result.outcome} by event time, "
                f"{what} ({scale}posterior mean and {pct}% HDI); hollow: the reference period "
                "-1; shaded: the periods before the credential is first held.",
            ),
            sentences,
            html_table(
                event_time_table(result),
                caption=f"Event study, {what} (model scale"
                + ("; % columns: percentage change" if result.log_scale else "")
                + f"; {pct}% HDI; ≤/≥: binned endpoints)",
            ),
        ]
    )


def pretrend_table(test: PretrendTest) -> pd.DataFrame:
    """The pre-trend test's numbers, one row per item, for display."""
    sens = test.sensitivity
    pct = round(test.hdi_prob * 100)
    low, high = sens.slope_hdi
    return pd.DataFrame(
        {
            "item": [
                "leads tested",
                "statistic (squared Mahalanobis distance of zero)",
                f"threshold (chi-square {test.level:.0%} quantile, {test.n_leads} df)",
                "posterior tail probability",
                "verdict",
                "breakdown slope of a linear pre-trend (per period)",
                f"slope the leads suggest (mean; {pct}% HDI)",
            ],
            "value": [
                f"{test.n_leads}",
                f"{test.statistic:.3g}",
                f"{test.threshold:.3g}",
                f"{test.tail_probability:.2f}",
                "evidence of pre-trends" if test.flagged else "no evidence of pre-trends",
                f"{sens.breakdown_slope:+.3g}",
                f"{sens.slope_mean:+.3g}; {low:+.3g} to {high:+.3g}",
            ],
        }
    )


def _event_study(fit: CredentialFit) -> str:
    dynamics = fit.spec.dynamics
    assert dynamics is not None  # the section is only built for a spec with [dynamics]
    population = fit.event_study()
    window = population.window
    parts = [
        paragraph(
            f"The model estimates the effect at event times {-window.n_leads} to "
            f"{window.n_lags - 1} ([dynamics] leads = {dynamics.leads}, lags = "
            f"{dynamics.lags}). The value at event time e is the effect of a worker's first "
            "credential e periods after it "
            "is first held (before it, for e < 0), at the reference track record; the period "
            "before it is first held, e = -1, is the reference (0 by definition), and the "
            f"endpoints are binned (≤{-window.n_leads}: that many periods before or more; "
            f"≥{window.n_lags - 1}: that many periods after or more)."
        ),
        "<h3>Population profile</h3>",
        _event_study_block(population, "population profile"),
    ]
    if dynamics.cohort_width:
        parts += [
            "<h3>By adoption cohort</h3>",
            paragraph(
                f"Adoption cohorts group workers by the period of their first credential, "
                f"{dynamics.cohort_width} period(s) per cohort (entry: held before the panel)."
            ),
            _event_study_block(fit.event_study(by="cohort"), "by adoption cohort"),
        ]
    parts.append("<h3>Pre-trend test</h3>")
    if dynamics.leads >= 2:
        test = fit.pretrend_test()
        parts += [
            paragraph(test.sentence(), "callout bad" if test.flagged else "callout good"),
            html_table(
                pretrend_table(test),
                caption="Pre-trend test of the population profile's leads and the breakdown "
                "slope of a linear pre-trend (model scale)",
            ),
        ]
    else:
        parts.append(
            paragraph(
                f"Not available: the model estimates no lead ([dynamics] leads = "
                f"{dynamics.leads}; the test needs leads >= 2).",
                "note",
            )
        )
    return "".join(parts)


#: Display names of the type-effect columns (the rest as in
#: :data:`bayescred.reporting.template.HEADERS`).
TYPE_COLUMNS: dict[str, str] = {
    "credential_type": "credential type",
    "percent": "pct_mean",
    "percent_hdi_low": "pct_hdi_low",
    "percent_hdi_high": "pct_hdi_high",
    "p_above_average": "P(> average)",
    "raw_mean": "raw within",
    "raw_se": "raw within se",
}
#: The sds of the type deviations and the match effect, in the section's table order.
TYPE_SPREADS: tuple[str, ...] = ("sigma_type", "sigma_category", "match_effect")


def has_raw_estimates(result: TypeEffectsResult) -> bool:
    """Whether any type of ``result`` has a raw within estimate (Gaussian outcomes with within
    worker effects, types with enough holders)."""
    return "raw_mean" in result.table.columns and bool(result.table["raw_mean"].notna().any())


def type_effects_table(
    result: TypeEffectsResult, rows: slice | None = None, *, raw: bool | None = None
) -> pd.DataFrame:
    """A type-effects table for display (``rows``: which ranks, default all): the rank (1: the
    highest posterior mean), the label (and category), holders, mean and HDI on the model's
    scale, for log-scale outcomes the percent change and its HDI, P(> average) and, when
    ``raw`` (default: when any type has one), the raw within estimate and its standard error."""
    t = result.table.assign(rank=np.arange(1, len(result.table) + 1))
    t = t.iloc[rows] if rows is not None else t
    cols = ["rank", result.dim, *(["category"] if result.by == "type" else []), "holders"]
    cols += ["mean", "hdi_low", "hdi_high"]
    if result.log_scale:
        cols += ["percent", "percent_hdi_low", "percent_hdi_high"]
    cols.append("p_above_average")
    if has_raw_estimates(result) if raw is None else raw:
        cols += ["raw_mean", "raw_se"]
    return t[cols].rename(columns=TYPE_COLUMNS)


def type_spreads_table(fit: CredentialFit) -> pd.DataFrame:
    """The summary rows of the between-type and between-category sds and the match effect
    (those the spec has; :data:`TYPE_SPREADS`)."""
    table = fit.summary()
    rows = table[table["parameter"].isin(TYPE_SPREADS)]
    order = {name: i for i, name in enumerate(TYPE_SPREADS)}
    rows = rows.sort_values("parameter", key=lambda c: c.map(order), kind="stable")
    rows.attrs["hdi_prob"] = float(table.attrs.get("hdi_prob", 0.9))
    return rows


def _types_caption(result: TypeEffectsResult, what: str, raw: bool) -> str:
    pct = round(result.hdi_prob * 100)
    label = (
        "the type's effect" if result.by == "type" else "the effect of the category's typical type"
    )
    words = (
        f"{what} (model scale"
        + ("; % columns: percentage change" if result.log_scale else "")
        + f"; {pct}% HDI; rank 1: the highest posterior mean; P(> average): posterior "
        f"probability that {label} exceeds the average over all "
        f"{len(result.table)}"
    )
    words += " types" if result.by == "type" else " categories"
    if result.by == "category":
        words += "; holders: workers holding a type of the category"
    if raw:
        words += (
            "; raw within: the type's own within (fixed-effects) estimate from its holders "
            f"alone, and its standard error, – below {result.min_raw_holders} holders"
        )
    return words + ")"


def _spread_sentences(fit: CredentialFit, spreads: pd.DataFrame, hdi_prob: float) -> list[str]:
    """Sentences on the sds and the match effect (those the spec has)."""
    from bayescred.analysis.contrast import probability_words
    from bayescred.terms.base import stack_draws

    pct = round(hdi_prob * 100)
    r = spreads.set_index("parameter")
    scale = "log points" if is_log_scale(fit.spec) else "the model's scale"
    out = []
    for name, words, one, alike in (
        (
            "sigma_type",
            "Types of one category differ around the category's effect",
            "type",
            "types",
        ),
        ("sigma_category", "Categories differ around the typical type", "category", "categories"),
    ):
        if name not in r.index:
            continue
        sd = r.loc[name]
        sentence = (
            f"{words} with a between-{one} sd of "
            f"{sd['mean']:.3g} ({pct}% HDI {sd['hdi_low']:.3g} to {sd['hdi_high']:.3g}; {scale})"
        )
        if sd["hdi_low"] < NEAR_ZERO * sd["mean"]:
            sentence += (
                f"; the interval reaches down to about 0, so the data do not rule out that the "
                f"{alike}{' of a category' if alike == 'types' else ''} pay alike"
            )
        out.append(sentence + ".")
    if "match_effect" in r.index:
        m = r.loc["match_effect"]
        draws = stack_draws(fit.posterior["match_effect"]).ravel()
        sentence = (
            f"A credential whose category is the worker's own job category adds "
            f"{m['mean']:+.3g} ({pct}% HDI {m['hdi_low']:+.3g} to {m['hdi_high']:+.3g}; "
            f"{scale}) to its effect"
        )
        if is_log_scale(fit.spec):
            s = summarise_draws(percent_change(draws[:, None]), hdi_prob)
            sentence += (
                f": as a first credential at the reference track record, it changes "
                f"{fit.spec.outcome.level_words} by {float(s['mean'][0]):+.1f}% ({pct}% HDI "
                f"{float(s['hdi_low'][0]):+.1f}% to {float(s['hdi_high'][0]):+.1f}%) relative to "
                "a credential of the same type outside the worker's category"
            )
        p = probability_words(float((draws > 0).mean()), draws.size)
        out.append(f"{sentence}. The posterior probability that matching adds to it is {p}.")
    return out


def _type_spreads(fit: CredentialFit, types: CredentialTypesSpec) -> list[str]:
    """The sds and the match effect: heading, sentences and table (none when the spec has
    none of them)."""
    partial = types.pooling == "partial"
    parts: list[str] = []
    spreads = type_spreads_table(fit)
    hdi_prob = float(spreads.attrs["hdi_prob"])
    if len(spreads):
        heading = "Spread between types and categories" if partial else ""
        if types.match:
            heading = f"{heading} and the match effect" if heading else "Match effect"
        parts += [
            f"<h3>{esc(heading)}</h3>",
            "<ul class='sentences'>"
            + "".join(f"<li>{esc(s)}</li>" for s in _spread_sentences(fit, spreads, hdi_prob))
            + "</ul>",
            html_table(
                spreads,
                columns=["parameter", "description", "mean", "sd", "hdi_low", "hdi_high"],
                caption=f"Posterior summaries ({round(hdi_prob * 100)}% HDI; model scale)",
            ),
        ]
    return parts


def _credential_types(fit: CredentialFit) -> str:
    types = fit.spec.credential_types
    assert types is not None  # the section is only built for a spec with [credential_types]
    try:
        result = fit.type_effects()
    except DataError as err:  # e.g. a fit loaded from a file, without its types table
        note = paragraph(f"The effects by credential type are not available: {err}", "note")
        return note + "".join(_type_spreads(fit, types))
    t = result.table
    n, pct = len(t), round(result.hdi_prob * 100)
    partial = types.pooling == "partial"
    raw = has_raw_estimates(result)
    categories = t["category"].nunique()
    above = int((t["p_above_average"] >= CREDIBLE).sum())
    below = int((t["p_above_average"] <= 1 - CREDIBLE).sum())
    few = int((t["holders"] < result.min_raw_holders).sum())
    intro = (
        f"The effect of a worker's first credential by its type ({n} types in {categories} "
        "skill categories), at the reference track record, averaged over the groups by their "
        f"share of the model's rows ([credential_types] pooling = {types.pooling!r}, match = "
        f"{str(types.match).lower()})."
    )
    if types.match:
        intro += (
            " These are the effects for a worker whose own job category is not the type's; "
            "the match effect below is added when it is."
        )
    intro += (
        " Types are partially pooled: a type's estimate borrows from its category's, the more "
        "the fewer holders it has, so a type with few holders is shrunk towards its category "
        "(and a category with few types towards the typical type) and its estimate says more "
        "about its category than about the type itself."
        if partial
        else " Types are not pooled (pooling = 'none'): each type's effect rests on its own "
        "holders, so the estimates of types with few holders are noisy."
    )
    median_holders = float(np.median(t["holders"]))
    caution = (
        f"{above} of {n} types are credibly above the average type and {below} credibly below "
        f"it (posterior probability at least {CREDIBLE:g}); the other {n - above - below} "
        "cannot be told apart from the average, so their order in the tables and the figure "
        f"is not a finding. The median type has {median_holders:g} holders; {few} of {n} "
        f"have fewer than {result.min_raw_holders}"
        + (", and their estimates lean on their category's." if partial and few else ".")
    )
    shown = f"the {FIGURE_TYPES} highest of {n} types" if n > FIGURE_TYPES else f"all {n} types"
    scale = "percentage change" if result.log_scale else "model scale"
    parts = [
        paragraph(intro),
        paragraph(result.sentence(), "lead"),
        paragraph(caution, "callout"),
        _figure(
            lambda: result.plot(top=FIGURE_TYPES).figure,
            "caterpillar plot of the effect by credential type",
            f"Effect of a worker's first credential by type ({scale}; posterior mean and "
            f"{pct}% HDI), ranked, coloured by category, holders in brackets; dashed: the "
            f"average type; {shown}.",
        ),
    ]
    if raw:
        with_raw = int(t["raw_mean"].notna().sum())
        parts.append(
            _figure(
                lambda: result.plot_shrinkage().figure,
                "shrinkage plot of raw and pooled type effects",
                f"Each type's raw within estimate from its own holders (hollow) and its "
                f"{'partially pooled' if partial else 'posterior'} estimate (filled) against "
                f"its holders (log scale; {scale}), for the {with_raw} types with at least "
                f"{result.min_raw_holders} holders; the line between them is the shrinkage. "
                "Types with fewer holders (not shown) are shrunk the most.",
            )
        )
    else:
        parts.append(
            paragraph(
                "No shrinkage figure: "
                + (
                    "raw within estimates need within worker effects (this model: "
                    f"{fit.spec.worker_effects} worker effects)."
                    if fit.spec.worker_effects != "within"
                    else f"no type has {result.min_raw_holders} holders or more for a raw "
                    "within estimate."
                ),
                "note",
            )
        )
    rest = n - TOP_TYPES - BOTTOM_TYPES
    if rest <= 0:
        parts += [
            "<h3>Every type, ranked</h3>",
            html_table(
                type_effects_table(result),
                caption=_types_caption(result, f"All {n} credential types", raw),
            ),
        ]
    else:
        parts += [
            "<h3>Highest-paying types</h3>",
            html_table(
                type_effects_table(result, slice(0, TOP_TYPES)),
                caption=_types_caption(result, f"The {TOP_TYPES} highest of {n} types", raw),
            ),
            "<h3>Lowest-paying types</h3>",
            html_table(
                type_effects_table(result, slice(n - BOTTOM_TYPES, n)),
                caption=_types_caption(result, f"The {BOTTOM_TYPES} lowest of {n} types", raw),
            ),
            paragraph(
                f"The other {rest} {'type is' if rest == 1 else 'types are'} in "
                "fit.type_effects().table.",
                "note",
            ),
        ]
    parts.append("<h3>By skill category</h3>")
    if partial:
        by_category = fit.type_effects(by="category", hdi_prob=result.hdi_prob)
        parts += [
            paragraph(by_category.sentence()),
            html_table(
                type_effects_table(by_category),
                caption=_types_caption(
                    by_category, "Effect of a first credential of a typical type", False
                ),
            ),
        ]
    else:
        parts.append(
            paragraph(
                "Not available: without pooling (pooling = 'none') the model has no category "
                "level, so the typical type of every category is the population's.",
                "note",
            )
        )
    parts += _type_spreads(fit, types)
    return "".join(parts)


def default_profiles(fit: CredentialFit) -> pd.DataFrame:
    """Each group at 0, 1 and 3 credentials held, at the reference track record."""
    ref = fit.design.track_scale.reference
    groups = [str(g) for g in fit.posterior["group"].values]
    return pd.DataFrame(
        [{"group": g, "credentials": n, "track_record": ref} for g in groups for n in (0, 1, 3)]
    )


def _profiles(fit: CredentialFit, profiles: pd.DataFrame | None) -> str:
    frame = default_profiles(fit) if profiles is None else profiles
    result = fit.effect(profiles=frame, new_group="population", random_seed=0)
    sentences = "".join(f"<li>{esc(result.sentence(i))}</li>" for i in range(len(result.table)))
    rows = result.rows()
    margin = ["margin"] if "margin" in rows else []
    extra = [c for c in ("gain_median", "pp_median", "pp_hdi_low", "pp_hdi_high") if c in rows]
    cols = ["group", "credentials", "to", "track_record", *margin, *_effect_columns(fit), *extra]
    if (rows["parameters_from"] != "group posterior").any():
        cols.append("parameters_from")
    return f"<ul class='sentences'>{sentences}</ul>" + html_table(
        rows, columns=cols, caption="Effect of going from 'credentials' to 'to'"
    )


def _run_check(fit: CredentialFit) -> pd.DataFrame | str:
    """The posterior predictive check table, or a note saying why it is missing."""
    try:
        return fit.check()
    except NotImplementedError as err:
        return f"Predictive checks are not available for this fit: {err}"


#: Alt text and caption of the predictive-check figure, by the family's kind of plot.
PPC_CAPTIONS: dict[str, tuple[str, str]] = {
    "kde": (
        "posterior predictive density overlay",
        "Density of the observed outcome (black) over densities of outcomes replicated from "
        "the posterior (blue); for within-worker models both are deviations from each "
        "worker's mean, the part of the data that model describes.",
    ),
    "rootogram": (
        "hanging rootogram of count frequencies",
        "Hanging rootogram: for each count value, the observed number of rows (grey bar, on a "
        "square-root scale) hangs from the number expected under the posterior predictive "
        "(red); a bar ending below zero means more rows than expected, above zero fewer. Bar "
        "ends outside the blue band are observed frequencies outside the 90% interval of the "
        "replicated data sets.",
    ),
    "shares": (
        "observed and replicated shares of ones by group",
        "Share of rows with outcome 1, overall and by group: observed (black) against the "
        "mean (red) and 90% interval (blue) of the share in data sets replicated from the "
        "posterior.",
    ),
}


def _predictive_check(fit: CredentialFit, plots: FitPlots) -> str:
    table = _run_check(fit)
    parts = []
    if isinstance(table, str):
        parts.append(paragraph(table, "note"))
    else:
        flagged = int(table["flag"].sum()) if "flag" in table else 0
        parts.append(
            paragraph(
                f"Bayesian p-values P(T(y_rep) ≥ T(y)) of summary statistics of the outcome; "
                f"{flagged} of {len(table)} fall outside [0.05, 0.95] (flagged)."
            )
        )
        parts.append(html_table(table, flag_column="flag", caption="Posterior predictive check"))
    alt, caption = PPC_CAPTIONS[family_of(fit.design).predictive_plot]
    parts.append(_figure(plots.ppc, alt, caption))
    return "".join(parts)


def _software(fit: CredentialFit) -> str:
    versions = pd.DataFrame(
        {"package": list(fit.versions), "version at fit time": list(fit.versions.values())}
    )
    return html_table(versions, caption="Package versions recorded with the fit")


def _types_words(fit: CredentialFit) -> str:
    """``", credential types (...)"`` for a spec with ``[credential_types]``, else ``""``."""
    t = fit.spec.credential_types
    if t is None:
        return ""
    pooling = "partially pooled within categories" if t.pooling == "partial" else "not pooled"
    return f", credential types ({pooling}{', match effect' if t.match else ''})"


def _dynamics_words(fit: CredentialFit) -> str:
    """``", event-time effects (...)"`` for a spec with ``[dynamics]``, else ``""``."""
    d = fit.spec.dynamics
    if d is None:
        return ""
    cohorts = f", cohorts of {d.cohort_width} periods" if d.cohort_width else ""
    return f", event-time effects ({d.leads} leads, {d.lags} lags{cohorts})"


# ------------------------------------------------------------------ entry point
def report(
    fit: CredentialFit,
    path: str | Path,
    *,
    profiles: pd.DataFrame | None = None,
    title: str | None = None,
) -> Path:
    """Write a self-contained HTML report of ``fit`` to ``path``.

    The report holds a plain-language summary of the average effect, the data used and set
    aside, the spec, convergence diagnostics with trace and rank plots, parameter tables, the
    effect curves over credentials and track record with the saturation point and peak track
    record, effects for example profiles, and the posterior predictive check; for a spec with
    ``[dynamics]``, also the event study (population profile, by adoption cohort when the spec
    has cohorts) with its pre-trend test (``[dynamics] leads >= 2``); for a spec with
    ``[credential_types]``, also which credentials pay (the effect by credential type, ranked,
    with the caterpillar and shrinkage figures, the highest- and lowest-ranked types, the
    effect by skill category, the between-type and between-category sds and the match
    effect). Figures are embedded as PNG data URIs; the file references nothing outside itself.

    Parameters
    ----------
    fit
        The fitted model.
    path
        Where to write the HTML file (parent folders are created).
    profiles
        Worker profiles for the examples section (columns ``group``, ``credentials``,
        ``track_record``, optionally ``to``); default: each group at 0, 1 and 3 credentials
        at the reference track record. Unseen groups use population draws.
    title
        Page title (default: built from the spec's name and outcome).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from bayescred._version import __version__

    plots = FitPlots(fit)
    title = title or (
        f"Returns to credentials: {fit.spec.name} model of {style.outcome_label(fit.spec)}"
    )
    builders: dict[str, Callable[[], str]] = {
        "summary": lambda: _summary(fit),
        "data": lambda: _data(fit),
        "specification": lambda: _specification(fit),
        "diagnostics": lambda: _diagnostics(fit, plots),
        "parameters": lambda: _parameters(fit, plots),
        "credential-curve": lambda: _credential_curve(fit, plots),
        "track-record": lambda: _track_record(fit, plots),
        "profiles": lambda: _profiles(fit, profiles),
        "predictive-check": lambda: _predictive_check(fit, plots),
        "software": lambda: _software(fit),
        EVENT_STUDY_SECTION[0]: lambda: _event_study(fit),
        TYPES_SECTION[0]: lambda: _credential_types(fit),
    }
    order = report_sections(fit)
    sections = "\n".join(
        f'<section id="{key}"><h2>{esc(heading)}</h2>{builders[key]()}</section>'
        for key, heading in order
    )
    toc = "\n".join(f'<li><a href="#{key}">{esc(heading)}</a></li>' for key, heading in order)
    post = fit.tree["posterior"]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = (
        f"{fit.spec.outcome.likelihood} likelihood, {fit.spec.worker_effects} worker effects, "
        f"{fit.spec.effect.curve} credential curve, {fit.spec.effect.modifier} track-record "
        f"modifier{_dynamics_words(fit)}{_types_words(fit)}; {post.sizes['chain']} chains × "
        f"{post.sizes['draw']} draws."
    )
    page = PAGE.format(
        version=esc(__version__),
        title=esc(title),
        css=CSS,
        meta=esc(meta),
        toc=toc,
        sections=sections,
        footer=esc(f"Generated by bayescred {__version__} on {now}."),
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
