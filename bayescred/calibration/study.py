"""Repeated sampling from a fixed truth: bias, RMSE and interval coverage of what users report.

Each simulation draws a new panel from the simulator (:func:`bayescred.data.simulate.simulate`,
fixed settings, seed ``(seed, i)``), fits the spec, and records for each reported quantity the
posterior median, the 90% HDI and the truth:

* the average effect of the next credential over the rows used, overall and by group
  (``average_effect``, ``average_effect[A]``); for a hurdle spec also its extensive and
  intensive margins in log points (``average_effect.extensive[A]``,
  ``average_effect.intensive[A]``; ``average_effect`` is their sum, the total), as
  ``fit.average_effect()`` reports them (:mod:`bayescred.analysis.hurdle_effects`);
* the saturation point (population and each group) at the reference track record;
* the track record at which the effect peaks (population; each group unless ``gamma`` is
  completely pooled).

A spec with ``[dynamics]`` is fitted with the panel's credential events and records instead the
event-time effects, the population's and each group's (``event_effect[e=2]``,
``event_effect[e=2, group=A]``; the effect of a worker's first credential ``e`` periods after
it is first held, at the reference track record, as ``fit.event_study()`` reports them), with
the simulator's event-time truths (:func:`true_event_time_effects`; the simulator's
``event_lags``, ``event_leads``, e.g. the ``event_study`` preset).

Supported specs (:data:`SINGLE_PART_OUTCOMES`, :data:`HURDLE_OUTCOMES`; others are refused by
:func:`check_spec`): an identity-link likelihood (normal, Student t) on ``log_project_value``
or on ``log_earnings`` (the rows with projects), and a hurdle likelihood on ``earnings``
(zeros included, e.g. ``models/hurdle_earnings.toml``).

The true average effects are the simulator's exact per-row true effects
(:func:`bayescred.data.true_margins.next_effects`) averaged over the rows the fit's average
uses (matched by worker and period), overall and by group:

* ``log_project_value``: ``beta_g (S(n + 1) - S(n)) M(z)``;
* ``log_earnings``: that plus the change in ``E[log n_projects | n_projects > 0]``;
* hurdle on ``earnings``, over every row (zeros included): extensive margin the change in
  ``log P(n_projects > 0)``, intensive margin the change in ``log E[earnings | earnings > 0]``
  (the log-project-value effect plus the change in ``log E[n_projects | n_projects > 0]``).

The truths of the curve's points are computed by the *same* analysis functions as the
estimate, on a posterior-shaped dataset holding the simulator's true parameters as one draw
(:func:`truth_posterior`). The simulator standardises track records with its own reference
and scale; the fit with the panel's rows used. The true modifier is rewritten on the fit's
scale exactly: with ``z_sim = a + b z`` (``a`` the simulator's ``z`` of the fit's reference,
``b`` the ratio of the scales), ``exp(g1 z_sim + g2 z_sim^2)`` is
``exp(g1 a + g2 a^2) exp(b (g1 + 2 g2 a) z + g2 b^2 z^2)``, so the true ``beta`` takes the
constant factor and the true ``gamma`` becomes ``(b (g1 + 2 g2 a), g2 b^2)``. The tests check
that the true average effect so computed equals the mean of the simulator's own per-row true
effects (:attr:`~bayescred.data.simulate.SimulatedPanel.next_effect`).

Where the count part of the simulator enters the reported effect (``log_earnings`` and the
hurdle's intensive margin, when ``beta_count != 0``) the true effect of the next credential
differs from row to row by a term that depends on the row's expected count, so there is no
single true saturation point: its truth is left undefined (NaN; :func:`summarise` leaves such
simulations out, and the quantity shows 0 simulations). The count term does not depend on the
track record, so the true peak track record (the peak of the modifier) stays exact.

A spec whose modifier reads the track record at entry (``[track_record] measured = "entry"``)
describes the effect by the worker's track record at entry, the simulator by the current one:
the average effects keep their truth (each row's own true effect), the curve's points have
none (NaN).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis import curve_points
from bayescred.analysis.average_effects import average_effect, rows_frame
from bayescred.analysis.effect_result import summarise_draws
from bayescred.analysis.event_profiles import dynamic_term, event_profile_draws
from bayescred.calibration.record import failed_record, fitted_record
from bayescred.data.presets import SimulationSettings
from bayescred.data.simulate import SimulatedPanel, TrueParameters, simulate
from bayescred.data.true_margins import next_effects
from bayescred.errors import SpecError
from bayescred.model.design import ModelDesign
from bayescred.model.families import get_family
from bayescred.spec import ModelSpec
from bayescred.terms.credential import CredentialTerm

#: Mass of the reported intervals.
HDI_PROB = 0.9


@dataclass(frozen=True)
class StudyJob:
    """A repeated-sampling study (picklable): the spec, the simulator's settings, the sampler's
    arguments, the base seed and the saturation threshold."""

    spec: ModelSpec
    settings: SimulationSettings
    fit: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    threshold: float = 0.01


#: Outcome columns a study of a single-part identity-link spec (normal, Student t) has truths
#: for, each with the column of :func:`bayescred.data.true_margins.next_effects` holding the
#: per-row truth.
SINGLE_PART_OUTCOMES: dict[str, str] = {
    "log_project_value": "log_project_value",
    "log_earnings": "log_earnings",
}
#: Outcome columns a study of a hurdle spec has truths for: margin -> per-row truth column.
HURDLE_OUTCOMES: dict[str, dict[str, str]] = {
    "earnings": {"total": "total", "extensive": "extensive", "intensive": "intensive"},
}


def check_spec(spec: ModelSpec) -> None:
    """Refuse specs whose reported quantities have no truth in the simulator's terms.

    Raises
    ------
    bayescred.errors.SpecError
        For an outcome or likelihood outside :data:`SINGLE_PART_OUTCOMES` (identity link) and
        :data:`HURDLE_OUTCOMES` (hurdle likelihoods); the message lists what is supported.
    """
    family = get_family(spec.outcome.likelihood)
    column = spec.outcome.column
    supported = (
        "supported: an identity-link likelihood (normal, student_t) on "
        f"{' or '.join(map(repr, SINGLE_PART_OUTCOMES))}, or a hurdle likelihood on "
        f"{' or '.join(map(repr, HURDLE_OUTCOMES))}"
    )
    if family.margins:
        ok = column in HURDLE_OUTCOMES
    else:
        ok = family.link == "identity" and column in SINGLE_PART_OUTCOMES
    if not ok:
        raise SpecError(
            f"a repeated-sampling study has no truth for outcome {column!r} with likelihood "
            f"{spec.outcome.likelihood!r}; {supported}"
        )
    if spec.dynamics is not None and (family.margins or column != "log_project_value"):
        raise SpecError(
            "a repeated-sampling study of a spec with [dynamics] records the event-time "
            "effects, whose truth the simulator gives for 'log_project_value' with an "
            f"identity-link likelihood; this spec has {column!r} with "
            f"{spec.outcome.likelihood!r}"
        )


def truth_columns(spec: ModelSpec) -> dict[str, str]:
    """Margin (``total`` for single-part specs) -> the column of
    :func:`bayescred.data.true_margins.next_effects` holding its per-row truth."""
    check_spec(spec)
    if get_family(spec.outcome.likelihood).margins:
        return dict(HURDLE_OUTCOMES[spec.outcome.column])
    return {"total": SINGLE_PART_OUTCOMES[spec.outcome.column]}


def saturation_is_exact(spec: ModelSpec, truth: TrueParameters) -> bool:
    """Whether the true effect on the fitted outcome is ``beta_g (S(n + 1) - S(n)) M(z)`` on
    every row, so that the true saturation point is the log-project-value one."""
    return spec.outcome.column == "log_project_value" or truth.beta_count == 0.0


def effect_name(margin: str, scope: str | None) -> str:
    """``average_effect`` (total), ``average_effect.extensive`` ..., ``[scope]`` appended."""
    head = "average_effect" if margin == "total" else f"average_effect.{margin}"
    return head if scope is None else f"{head}[{scope}]"


def reference_factors(truth: TrueParameters, design: ModelDesign) -> tuple[float, np.ndarray]:
    """The true modifier at the fit's reference track record, ``exp(g1 a + g2 a^2)`` (module
    docstring): the population's and each group's (in the design's order). A true effect at the
    simulator's reference (``M = 1``) times this factor is the effect at the fit's."""
    labels = [str(g) for g in design.panel.group_labels]
    k = np.array([truth.groups.index(g) for g in labels])
    a = float(truth.scale.z(design.track_scale.reference))
    terms = CredentialTerm.of(truth.curve, truth.modifier).modifier_terms

    def factor(g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
        if not terms:
            return np.ones_like(np.asarray(g1, dtype=float))
        g2 = g2 if len(terms) > 1 else np.zeros_like(g2)
        return np.asarray(np.exp(g1 * a + g2 * a * a), dtype=float)

    population = factor(np.asarray(truth.gamma[0]), np.asarray(truth.gamma[1]))
    return float(population), factor(truth.gamma1[k], truth.gamma2[k])


def truth_posterior(truth: TrueParameters, design: ModelDesign) -> xr.Dataset:
    """The simulator's true effect parameters as a one-draw posterior on the fit's scale.

    Variables ``beta_group``, ``{shape}_group``, ``gamma_group``, ``mu_beta``, ``{shape}``
    and ``gamma`` (as the fitted model names them), groups in the design's order, modifier
    rewritten on the design's track-record scale (module docstring).
    """
    labels = [str(g) for g in design.panel.group_labels]
    k = np.array([truth.groups.index(g) for g in labels])
    a = float(truth.scale.z(design.track_scale.reference))
    b = float(design.track_scale.scale / truth.track_record_scale)
    form = CredentialTerm.of(truth.curve, truth.modifier)
    terms = form.modifier_terms

    def rewritten_gamma(g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
        if not terms:
            return np.zeros((*np.shape(g1), 0))
        g2 = g2 if len(terms) > 1 else np.zeros_like(g2)
        return np.stack([b * (g1 + 2 * g2 * a), g2 * b * b], axis=-1)[..., : len(terms)]

    population, groups = reference_factors(truth, design)
    beta_g = truth.beta[k] * groups
    gamma_g = rewritten_gamma(truth.gamma1[k], truth.gamma2[k])
    mu_beta = np.asarray(truth.mu_beta) * population
    gamma = rewritten_gamma(np.asarray(truth.gamma[0]), np.asarray(truth.gamma[1]))
    one = {"chain": [0], "draw": [0]}
    data: dict[str, Any] = {
        "beta_group": (("chain", "draw", "group"), beta_g[None, None]),
        "gamma_group": (("chain", "draw", "group", "gamma_term"), gamma_g[None, None]),
        "mu_beta": (("chain", "draw"), np.asarray(mu_beta).reshape(1, 1)),
        "gamma": (("chain", "draw", "gamma_term"), np.asarray(gamma).reshape(1, 1, -1)),
    }
    shape = form.shape_name
    if shape is not None:
        population = truth.lambda_ if truth.lambda_ is not None else float(truth.shape.mean())
        data[f"{shape}_group"] = (("chain", "draw", "group"), truth.shape[k][None, None])
        data[shape] = (("chain", "draw"), np.array([[population]]))
    coords = {**one, "group": labels, "gamma_term": list(terms)}
    return xr.Dataset(data, coords=coords)


def truth_spec(spec: ModelSpec, truth: TrueParameters) -> ModelSpec:
    """``spec`` with the simulator's curve and modifier (the truth's functional form)."""
    effect = spec.effect.model_copy(update={"curve": truth.curve, "modifier": truth.modifier})
    return spec.model_copy(update={"effect": effect})


def average_effects(posterior: xr.Dataset, design: ModelDesign) -> dict[str, dict[str, float]]:
    """The average effect over the rows used, overall and by group (and by margin for a hurdle
    spec): posterior median and 90% HDI (``estimate``, ``low``, ``high``) as
    ``fit.average_effect()`` reports them."""
    out: dict[str, dict[str, float]] = {}
    for by in (None, "group"):
        table = average_effect(posterior, design, by=by, hdi_prob=HDI_PROB).table
        for _, row in table.iterrows():
            margin = str(row["margin"]) if "margin" in row else "total"
            out[effect_name(margin, None if by is None else str(row["scope"]))] = {
                "estimate": float(row["median"]),
                "low": float(row["hdi_low"]),
                "high": float(row["hdi_high"]),
            }
    return out


def curve_quantities(
    posterior: xr.Dataset, spec: ModelSpec, design: ModelDesign, threshold: float
) -> dict[str, dict[str, float]]:
    """The saturation points and peak track records: posterior median and 90% HDI."""
    p = design.panel
    out: dict[str, dict[str, float]] = {}

    def put(name: str, row: pd.Series) -> None:
        out[name] = {
            "estimate": float(row["median"]),
            "low": float(row["hdi_low"]),
            "high": float(row["hdi_high"]),
        }

    sat = curve_points.saturation_point(
        posterior, spec, design.track_scale, threshold=threshold, hdi_prob=HDI_PROB
    )
    for _, row in sat.iterrows():
        put(f"saturation_point[{row['scope']}]", row)
    if len(CredentialTerm(spec.effect).modifier_terms) > 1:
        r = p.track_record
        peak = curve_points.peak_track_record(
            posterior, spec, design.track_scale, (float(r.min()), float(r.max())),
            hdi_prob=HDI_PROB,
        )  # fmt: skip
        for _, row in peak.iterrows():
            put(f"peak_track_record[{row['scope']}]", row)
    return out


def quantities(
    posterior: xr.Dataset, spec: ModelSpec, design: ModelDesign, threshold: float
) -> dict[str, dict[str, float]]:
    """Each reported quantity's posterior median and 90% HDI (``estimate``, ``low``,
    ``high``), by the analysis functions a fit uses."""
    return {
        **average_effects(posterior, design),
        **curve_quantities(posterior, spec, design, threshold),
    }


def true_average_effects(
    sim: SimulatedPanel, spec: ModelSpec, design: ModelDesign
) -> dict[str, float]:
    """The true average effects, named as :func:`average_effects` names them: the simulator's
    per-row truths (:func:`bayescred.data.true_margins.next_effects`) averaged over the rows
    of ``design`` (matched by worker and period), overall and by group."""
    keys = ["worker_id", "period"]
    used = rows_frame(design)[[*keys, "group"]].astype(str)
    truth = next_effects(sim).drop(columns="group")
    truth[keys] = truth[keys].astype(str)
    rows = used.merge(truth, on=keys, how="left", validate="one_to_one")
    columns = truth_columns(spec)
    if rows[list(columns.values())].isna().any().any():
        raise ValueError("the fit's rows are not all rows of the simulated panel")
    out: dict[str, float] = {}
    for margin, column in columns.items():
        out[effect_name(margin, None)] = float(rows[column].mean())
        for group, values in rows.groupby("group")[column]:
            out[effect_name(margin, str(group))] = float(values.mean())
    return out


def true_quantities(
    sim: SimulatedPanel, spec: ModelSpec, design: ModelDesign, threshold: float
) -> dict[str, float]:
    """The truth of each quantity of :func:`quantities` (NaN where it has none: a saturation
    point the count part makes row-dependent, :func:`saturation_is_exact`; the curve's points
    of a spec that reads the track record at entry)."""
    posterior = truth_posterior(sim.truth, design)
    curves = curve_quantities(posterior, truth_spec(spec, sim.truth), design, threshold)
    exact = saturation_is_exact(spec, sim.truth)
    current = spec.track_record.measured == "current"
    out = true_average_effects(sim, spec, design)
    for name, value in curves.items():
        defined = current and (exact or not name.startswith("saturation_point"))
        out[name] = value["estimate"] if defined else np.nan
    return out


def event_effect_name(event_time: int, group: str | None = None) -> str:
    """``event_effect[e=2]``, or ``event_effect[e=2, group=A]`` for a group's."""
    scope = "" if group is None else f", group={group}"
    return f"event_effect[e={int(event_time)}{scope}]"


def event_time_quantities(
    posterior: xr.Dataset, design: ModelDesign
) -> dict[str, dict[str, float]]:
    """The event-time effects of a spec with ``[dynamics]`` (the population's and each
    group's, as ``fit.event_study(by=None | "group")`` reports them; the reference ``-1``
    left out): posterior median and 90% HDI."""
    out: dict[str, dict[str, float]] = {}
    for by in (None, "group"):
        draws = event_profile_draws(posterior, design, by)
        scopes = [None] if by is None else [str(g) for g in draws["group"].values]
        for i, scope in enumerate(scopes):
            d = draws if scope is None else draws.isel(group=i)
            times = [int(e) for e in d["event_time"].values]
            s = summarise_draws(np.asarray(d.transpose("draw", "event_time").values), HDI_PROB)
            for j, e in enumerate(times):
                if e == -1:
                    continue
                out[event_effect_name(e, scope)] = {
                    "estimate": float(s["median"][j]),
                    "low": float(s["hdi_low"][j]),
                    "high": float(s["hdi_high"][j]),
                }
    return out


def true_event_time_effects(sim: SimulatedPanel, design: ModelDesign) -> dict[str, float]:
    """The truth of each quantity of :func:`event_time_quantities`: the simulator's
    event-time effects (:meth:`~bayescred.data.simulate.TrueParameters.event_effects`) at the
    fit's event times, at the fit's reference track record (:func:`reference_factors`).

    A fitted event time ``e`` reads the simulator's ``f(bin_sim(e))``, exact wherever the
    fit's bin holds one true value: everywhere when the fit's window is at least as wide as
    the simulator's (``L >= L_sim``, ``K >= K_sim``; the simulator's profile is constant beyond
    its own window); a narrower fit's binned endpoint averages several true values and has no
    single truth (NaN). Leads are the simulator's anticipation effects: a panel with an
    Ashenfelter dip (``dip_sd``) moves the fitted leads away from them, as it should."""
    truth = sim.truth
    fit_window = dynamic_term(design).window
    sim_window = truth.event_window
    population, groups = reference_factors(truth, design)
    labels = [str(g) for g in design.panel.group_labels]
    pop = truth.event_effects().set_index("event_time")["value"]
    by_group = truth.event_effects(by="group").set_index(["group", "event_time"])["value"]
    out: dict[str, float] = {}
    for e in (int(t) for t in fit_window.event_times if t != -1):
        exact = (e != -fit_window.n_leads or fit_window.n_leads >= sim_window.n_leads) and (
            e != fit_window.n_lags - 1 or fit_window.n_lags >= sim_window.n_lags
        )
        at = int(sim_window.bin(np.asarray(e)))
        out[event_effect_name(e)] = float(pop[at]) * population if exact else np.nan
        for label, factor in zip(labels, groups, strict=True):
            value = float(by_group[(label, at)]) * float(factor)
            out[event_effect_name(e, label)] = value if exact else np.nan
    return out


def panel_seeds(seed: int, index: int) -> tuple[int, int]:
    """The simulator's and the sampler's seeds of a study's panel ``index`` (base ``seed``)."""
    streams = np.random.SeedSequence([int(seed), int(index)]).generate_state(2)
    return int(streams[0]), int(streams[1])


def run_study_simulation(job: StudyJob, index: int) -> dict[str, Any]:
    """Simulate panel ``index``, fit it, and record each quantity's estimate and truth."""
    from bayescred.facade.credential_model import CredentialModel

    logging.getLogger("pymc").setLevel(logging.WARNING)
    sim_seed, fit_seed = panel_seeds(job.seed, index)
    try:
        sim = simulate(job.settings, seed=sim_seed)
        dynamic = job.spec.dynamics is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CredentialModel(job.spec).fit(
                sim.frame,
                events=sim.events if dynamic else None,
                random_seed=fit_seed,
                progressbar=False,
                **job.fit,
            )
        design = fit.design
        if dynamic:
            estimates = event_time_quantities(fit.posterior, design)
            truths = true_event_time_effects(sim, design)
        else:
            estimates = quantities(fit.posterior, job.spec, design, job.threshold)
            truths = true_quantities(sim, job.spec, design, job.threshold)
    except Exception as err:
        return failed_record(index, err)
    elements = {
        name: {**est, "truth": truths[name]} for name, est in estimates.items() if name in truths
    }
    return fitted_record(index, fit, elements)


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Bias (with its Monte Carlo standard error), RMSE and 90% coverage per quantity.

    Simulations where a quantity is undefined in the estimate or the truth (a curve that does
    not saturate, a modifier without an interior peak) are left out of that quantity; the
    ``simulations`` column counts those used.
    """
    out = []
    if not len(rows):
        return pd.DataFrame(
            columns=["quantity", "simulations", "truth_mean", "estimate_mean", "bias",
                     "bias_mcse", "rmse", "coverage", "coverage_mcse"]
        )  # fmt: skip
    for name, g in rows.groupby("name", sort=False):
        g = g.dropna(subset=["estimate", "truth", "low", "high"])
        n = len(g)
        err = (g["estimate"] - g["truth"]).to_numpy(dtype=float)
        hit = ((g["low"] <= g["truth"]) & (g["truth"] <= g["high"])).to_numpy(dtype=float)
        cover = float(hit.mean()) if n else np.nan
        out.append(
            {
                "quantity": name,
                "simulations": n,
                "truth_mean": float(g["truth"].mean()) if n else np.nan,
                "estimate_mean": float(g["estimate"].mean()) if n else np.nan,
                "bias": float(err.mean()) if n else np.nan,
                "bias_mcse": float(err.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan,
                "rmse": float(np.sqrt(np.mean(err**2))) if n else np.nan,
                "coverage": cover,
                "coverage_mcse": float(np.sqrt(cover * (1 - cover) / n)) if n else np.nan,
            }
        )
    return pd.DataFrame(out)


def _row_text(r: Any, sep: str, as_html: bool = False) -> str:
    """Truth, bias (MCSE), RMSE and coverage (MCSE) of one table row, as text cells or HTML
    cells; a quantity without a truth in any simulation says so instead of four NaNs."""
    if not r.simulations:
        words = "no truth in the simulator's terms (left out)"
        return f"<td colspan='4'>{words}</td>" if as_html else words
    cells = [
        f"{r.truth_mean:+.4g}",
        f"{r.bias:+.3g} ({r.bias_mcse:.2g})",
        f"{r.rmse:.3g}",
        f"{r.coverage:.2f} ({r.coverage_mcse:.2f})",
    ]
    return "".join(f"<td>{c}</td>" for c in cells) if as_html else sep.join(cells)


@dataclass
class StudyResult:
    """A repeated-sampling study: per-simulation records and the summary table.

    Attributes
    ----------
    table
        Per quantity: simulations used, mean truth, mean estimate (posterior median), bias and
        its Monte Carlo standard error, RMSE, coverage of the 90% HDI and its MCSE.
    records
        One row per simulation and quantity (``estimate``, ``low``, ``high``, ``truth``).
    simulations
        One row per simulation (status, divergences, worst R-hat).
    settings
        The study's settings.
    path
        The results file.
    """

    table: pd.DataFrame
    records: pd.DataFrame
    simulations: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    def _header(self) -> str:
        n_ok = int((self.simulations["status"] == "ok").sum()) if len(self.simulations) else 0
        failed = len(self.simulations) - n_ok
        return (
            f"spec {self.settings.get('spec_name', '?')!r} on {n_ok} simulated panels "
            f"({failed} failed); estimate = posterior median, interval = 90% HDI"
        )

    def __repr__(self) -> str:
        lines = ["StudyResult (repeated sampling from a fixed truth)", f"  {self._header()}"]
        lines.append("  quantity, simulations, truth, bias (MCSE), RMSE, 90% coverage (MCSE):")
        for r in self.table.itertuples():
            lines.append(f"    {r.quantity!s:<30} {r.simulations:>4}  {_row_text(r, '  ')}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        body = "".join(
            f"<tr><td style='text-align:left'>{html.escape(str(r.quantity))}</td>"
            f"<td>{r.simulations}</td>{_row_text(r, '', as_html=True)}</tr>"
            for r in self.table.itertuples()
        )
        return (
            "<div class='bayescred-study'><h3>StudyResult (repeated sampling from a fixed "
            f"truth)</h3><p>{html.escape(self._header())}</p><table><thead><tr>"
            "<th>quantity</th><th>simulations</th><th>truth</th><th>bias (MCSE)</th>"
            "<th>RMSE</th><th>90% coverage (MCSE)</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )
