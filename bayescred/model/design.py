"""The arrays and constants a model is built from (:func:`bayescred.model.make.make_design`
computes them from a panel and a spec).

A :class:`ModelDesign` records everything learned from the data at build time (rows set aside,
the track-record standardisation, the resolved priors, the Mundlak design) so that effects can be
predicted for new profiles and a saved fit can be rebuilt without the original frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from bayescred.data.credential_types import CredentialTypes
from bayescred.data.events import NO_EVENT, CredentialEvents
from bayescred.data.panel import Panel, track_record_at_entry
from bayescred.data.validation import validate
from bayescred.errors import DataError
from bayescred.maths.credential_types import type_signatures
from bayescred.maths.curves import TrackRecordScale
from bayescred.maths.event_time import UNKNOWN_TIME, row_counts
from bayescred.spec import ModelSpec, PriorSpec
from bayescred.terms import CredentialTerm, Rows, Term, design_terms
from bayescred.terms.credential_types import CredentialTypesSpec
from bayescred.terms.dynamics import ENTRY_COHORT, DynamicsSpec

T = TypeVar("T")


@dataclass(frozen=True)
class ModelDesign:
    """The data-derived constants of one model.

    Attributes
    ----------
    spec
        The model specification.
    panel
        The rows the model uses (after setting aside rows it cannot use).
    track_scale
        Standardisation of the track record: ``z = track_scale.z(r)``.
    priors
        Resolved priors (defaults on the data's scale, overridden by the spec).
    y_mean, y_sd
        Mean and sd of the outcome over the used rows.
    mundlak_names, mundlak_center, mundlak_scale
        For correlated worker effects: the names of the worker means entering the intercepts'
        mean and their standardisation; empty otherwise.
    terms
        The additive terms of the predictor (:mod:`bayescred.terms`), in the order they add
        up; by default those the spec asks for (:func:`bayescred.terms.design_terms`).
    """

    spec: ModelSpec
    panel: Panel
    track_scale: TrackRecordScale
    priors: dict[str, PriorSpec]
    y_mean: float
    y_sd: float
    mundlak_names: tuple[str, ...] = ()
    mundlak_center: tuple[float, ...] = ()
    mundlak_scale: tuple[float, ...] = ()
    terms: tuple[Term, ...] = ()
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.terms:
            spec = self.spec
            terms = design_terms(
                spec.effect,
                period_effects=spec.period_effects,
                n_periods=self.panel.n_periods,
                covariates=self.panel.covariates,
                dynamics=spec.dynamics,
                credential_types=spec.credential_types,
            )
            object.__setattr__(self, "terms", terms)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for, the kept value after (values
        derived from the design alone, such as its parts: a changed copy recomputes them)."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value

    @property
    def credential_term(self) -> CredentialTerm:
        """The credential term (every design has one)."""
        for term in self.terms:
            if isinstance(term, CredentialTerm):
                return term
        raise AssertionError("a design always has a credential term")  # pragma: no cover

    def rows(self) -> Rows:
        """The used rows as the terms read them."""
        return self.memo("rows", self._rows)

    def _rows(self) -> Rows:
        p = self.panel
        rows = Rows(
            credentials=p.credentials.astype(float),
            z=np.asarray(self.z, dtype=float),
            group=p.group_codes,
            period=p.period_codes,
            covariates=p.covariate_matrix,
            n_groups=p.n_groups,
            n_periods=p.n_periods,
        )
        dynamics = self.spec.dynamics
        if self.spec.credential_types is not None:
            return typed_rows(rows, p, self.spec.credential_types)
        if dynamics is None:
            return rows
        return event_rows(rows, p, dynamics)

    @cached_property
    def z(self) -> np.ndarray:
        """Standardised log track record of each used row."""
        return self.track_scale.z(self.panel.track_record)

    def mundlak_matrix(self) -> np.ndarray:
        """Standardised worker means ``(workers, len(mundlak_names))`` (correlated effects)."""
        p = self.panel
        if not self.mundlak_names:
            return np.zeros((p.n_workers, 0))
        counts = p.periods_per_worker().astype(float)
        cols = [p.credentials.astype(float), self.z, *list(p.covariate_matrix.T)]
        means = np.column_stack(
            [np.bincount(p.worker_codes, weights=c, minlength=p.n_workers) / counts for c in cols]
        )
        return (means - np.asarray(self.mundlak_center)) / np.asarray(self.mundlak_scale)

    def rows_not_used(self) -> pd.DataFrame:
        """Count of input rows the model did not use, by reason."""
        ex = self.panel.excluded
        if not len(ex):
            return pd.DataFrame(
                {"reason": pd.Series([], dtype=str), "rows": pd.Series([], dtype=int)}
            )
        return ex.groupby("reason").size().rename("rows").reset_index()


def as_panel(
    data: pd.DataFrame | Panel,
    spec: ModelSpec,
    events: pd.DataFrame | None = None,
    credential_types: pd.DataFrame | None = None,
) -> Panel:
    """Validate a frame against the spec's columns, outcome and covariates (panels pass through).

    Rows with a missing outcome (for example log project value in a period without projects)
    are set aside and counted, never dropped silently. With ``[track_record] measured =
    "entry"`` every row takes its worker's track record at entry
    (:func:`~bayescred.data.panel.track_record_at_entry`). ``events`` are credential events as
    data (``validate(..., events=)``, :mod:`bayescred.data.events`); a panel already validated
    carries its own, so passing both is a :class:`~bayescred.errors.DataError`.
    ``credential_types`` is the types table (``validate(..., credential_types=)``), read with
    the job-category column the spec's ``[credential_types] job_category`` names.
    """
    if isinstance(data, Panel):
        if credential_types is not None:
            raise DataError(
                "credential_types= was given with an already validated Panel, which carries "
                "its own (Panel.credential_types): validate with credential_types= instead, or "
                "pass the frame"
            )
        if events is not None:
            raise DataError(
                "events= was given with an already validated Panel, which carries its own "
                "credential events (Panel.events): validate with events= instead "
                "(bc.validate(frame, ..., events=events)), or pass the frame"
            )
        panel = data
    else:
        panel = validate(
            data,
            columns=spec.columns,
            outcome=spec.outcome.column,
            outcome_kind=spec.outcome.kind,
            covariates=spec.covariates,
            missing_outcome="exclude",
            events=events,
            credential_types=credential_types,
            **(
                {"job_category": spec.credential_types.job_category}
                if spec.credential_types is not None
                else {}
            ),
        )
    if spec.track_record.measured == "entry":
        panel = track_record_at_entry(panel)
    return panel


def outcome_sd(spec: ModelSpec, panel: Panel) -> float:
    """The outcome's sd (within workers under ``within``: that model sees only deviations)."""
    y = np.asarray(panel.y, dtype=float)
    if spec.worker_effects != "within":
        return float(np.std(y))
    counts = panel.periods_per_worker()
    wmean = np.bincount(panel.worker_codes, weights=y, minlength=panel.n_workers) / counts
    return float(
        np.std(y - wmean[panel.worker_codes]) * np.sqrt(len(y) / max(len(y) - panel.n_workers, 1))
    )


def with_mundlak(design: ModelDesign) -> ModelDesign:
    """``design`` with the Mundlak terms of correlated worker effects (unchanged otherwise).

    The terms are the worker means of the credential count, the standardised track record and
    the covariates over the design's rows, standardised across workers.
    """
    spec = design.spec
    if spec.worker_effects != "correlated":
        return design
    names = ("mean_credentials", "mean_track_record_z", *(f"mean_{c}" for c in spec.covariates))
    ones = (1.0,) * len(names)
    raw = replace(
        design, mundlak_names=names, mundlak_center=(0.0,) * len(names), mundlak_scale=ones
    ).mundlak_matrix()
    sd = raw.std(axis=0)
    return replace(
        design,
        mundlak_names=names,
        mundlak_center=tuple(float(v) for v in raw.mean(axis=0)),
        mundlak_scale=tuple(float(v) if v > 0 else 1.0 for v in sd),
    )


def event_rows(rows: Rows, panel: Panel, dynamics: DynamicsSpec) -> Rows:
    """``rows`` with the event counts of ``dynamics``' window (and the adoption cohorts), from
    the panel's credential events (:meth:`~bayescred.data.panel.Panel.credential_events`:
    given, or derived from the credentials column)."""
    events = panel.credential_events()
    counts = row_counts(
        dynamics.window, events.worker, events.time, panel.worker_codes, panel.row_time
    )
    if dynamics.cohort_width <= 0:
        return replace(rows, event_counts=counts)
    codes, labels = adoption_cohorts(panel, events, dynamics.cohort_width)
    return replace(
        rows, event_counts=counts, cohort=codes[panel.worker_codes], cohort_labels=labels
    )


def typed_inputs(
    panel: Panel, types: CredentialTypesSpec
) -> tuple[CredentialTypes, CredentialEvents, np.ndarray]:
    """The types table, the typed credential events and each row's job-category code of a
    panel for ``[credential_types]``; a :class:`~bayescred.errors.DataError` saying what is
    missing otherwise (no types table or typed events; ``match`` without the job column)."""
    table = panel.credential_types
    events = panel.events
    if table is None or events is None or events.credential_type is None:
        raise DataError(
            "[credential_types] needs the credential events with their types and the types "
            "table: bc.validate(frame, events=events, credential_types=types) (events with a "
            "'credential_type' column; types with 'credential_type' and 'category'), then fit "
            "the validated panel (or pass events= and credential_types= to fit)"
        )
    column = types.job_category
    has_job = column in [str(c) for c in panel.frame.columns]
    if types.match and not has_job:
        raise DataError(
            f"[credential_types] match = true needs the panel's job-category column {column!r} "
            "(the category of each worker's own work); it is absent. Add it, name your column "
            "with [credential_types] job_category = '<name>', or set match = false"
        )
    if types.match:
        job = table.job_codes(panel.frame[column], panel.n_rows)
    else:
        job = np.full(panel.n_rows, -1, dtype=np.int64)
    return table, events, job


def typed_rows(rows: Rows, panel: Panel, types: CredentialTypesSpec) -> Rows:
    """``rows`` with their type signatures (:mod:`bayescred.maths.credential_types`), from the
    panel's credential events and types table (``validate(..., events=, credential_types=)``)."""
    table, events, job = typed_inputs(panel, types)
    assert events.credential_type is not None
    index, sig = type_signatures(
        event_worker=events.worker,
        event_time=events.time,
        event_type=table.codes(events.credential_type),
        type_category=table.category_codes,
        row_worker=panel.worker_codes,
        row_time=panel.row_time,
        row_group=panel.group_codes,
        row_job=job,
        n_types=table.n_types,
        n_groups=panel.n_groups,
    )
    return replace(
        rows,
        type_signature=index,
        type_signatures=sig,
        type_labels=tuple(str(v) for v in table.labels),
        category_labels=tuple(str(v) for v in table.category_labels),
    )


def adoption_cohorts(
    panel: Panel, events: CredentialEvents, width: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each worker's adoption cohort (by the period of its first credential, in bins of
    ``width`` periods from the panel's first period) and the cohorts' labels.

    Cohort 0 (``"entry"``) holds the workers with credentials at entry (date unknown) and those
    who never earn one (their term is zero). First credentials before the panel's first period
    fall in the first bin, those after its last period in the last.
    """
    positions = panel.period_positions
    first, last = int(positions.min()), int(positions.max())
    n_bins = -(-(last - first + 1) // width)
    t0 = events.first_time(panel.n_workers)
    known = (t0 != UNKNOWN_TIME) & (t0 != NO_EVENT)
    bins = np.clip((t0 - first) // width, 0, n_bins - 1)
    codes = np.where(known, 1 + bins, 0).astype(np.int64)
    by_position = dict(zip(positions.tolist(), [str(v) for v in panel.period_labels], strict=True))

    def label(position: int) -> str:
        return by_position.get(position, str(position))

    labels = [ENTRY_COHORT]
    for b in range(n_bins):
        lo, hi = first + b * width, min(first + (b + 1) * width - 1, last)
        labels.append(label(lo) if lo == hi else f"{label(lo)}..{label(hi)}")
    return codes, tuple(labels)
