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

from bayescred.data.panel import Panel, track_record_at_entry
from bayescred.data.validation import validate
from bayescred.maths.curves import TrackRecordScale
from bayescred.spec import ModelSpec, PriorSpec
from bayescred.terms import CredentialTerm, Rows, Term, design_terms

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
        return Rows(
            credentials=p.credentials.astype(float),
            z=np.asarray(self.z, dtype=float),
            group=p.group_codes,
            period=p.period_codes,
            covariates=p.covariate_matrix,
            n_groups=p.n_groups,
            n_periods=p.n_periods,
        )

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


def as_panel(data: pd.DataFrame | Panel, spec: ModelSpec) -> Panel:
    """Validate a frame against the spec's columns, outcome and covariates (panels pass through).

    Rows with a missing outcome (for example log project value in a period without projects)
    are set aside and counted, never dropped silently. With ``[track_record] measured =
    "entry"`` every row takes its worker's track record at entry
    (:func:`~bayescred.data.panel.track_record_at_entry`).
    """
    if isinstance(data, Panel):
        panel = data
    else:
        panel = validate(
            data,
            columns=spec.columns,
            outcome=spec.outcome.column,
            outcome_kind=spec.outcome.kind,
            covariates=spec.covariates,
            missing_outcome="exclude",
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
