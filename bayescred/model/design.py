"""From a validated panel and a spec to the arrays and constants a model is built from.

A :class:`ModelDesign` records everything learned from the data at build time (rows set aside,
the track-record standardisation, the resolved priors, the Mundlak design) so that effects can be
predicted for new profiles and a saved fit can be rebuilt without the original frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from bayescred.data.panel import Panel, select_rows
from bayescred.data.validate import validate
from bayescred.errors import SpecError
from bayescred.model.curves import TrackRecordScale
from bayescred.model.priors import default_priors, hurdle_priors, resolve_priors
from bayescred.spec import ModelSpec, PriorSpec


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
    are set aside and counted, never dropped silently.
    """
    if isinstance(data, Panel):
        return data
    return validate(
        data,
        columns=spec.columns,
        outcome=spec.outcome.column,
        outcome_kind=spec.outcome.kind,
        covariates=spec.covariates,
        missing_outcome="exclude",
    )


def _check_outcome_support(spec: ModelSpec, y: np.ndarray) -> None:
    """Count likelihoods need non-negative integers, ``bernoulli`` zeros and ones."""
    likelihood = spec.outcome.likelihood
    y = np.asarray(y, dtype=float)
    if likelihood in ("poisson", "negative_binomial"):
        bad = (y < 0) | (y != np.round(y))
        rule = "non-negative integer counts"
    elif likelihood == "bernoulli":
        bad = (y != 0) & (y != 1)
        rule = "0/1 values"
    elif spec.is_hurdle:
        bad = y < 0
        rule = "amounts >= 0"
        if not bad.any() and not ((y == 0).any() and (y > 0).any()):
            lacks = "no zeros" if (y > 0).all() else "no positive value"
            raise SpecError(
                f"outcome.likelihood = 'hurdle_lognormal' models zeros and positive amounts, but "
                f"{spec.outcome.column!r} has {lacks}"
                "; use a normal likelihood on the log amount, or bernoulli for 'any amount'"
            )
    else:
        return
    if bad.any():
        raise SpecError(
            f"outcome.likelihood = {likelihood!r} needs {rule}, but {int(bad.sum())} rows of "
            f"{spec.outcome.column!r} are not (e.g. {y[bad][:3].tolist()}); choose the likelihood "
            "that matches the outcome (normal or student_t for real values)"
        )


def make_design(spec: ModelSpec, data: pd.DataFrame | Panel) -> ModelDesign:
    """Validate ``data`` and compute the design of ``spec`` on it."""
    panel = as_panel(data, spec)
    if spec.worker_effects == "within":
        single = panel.periods_per_worker()[panel.worker_codes] == 1
        panel = select_rows(
            panel, ~single, "worker observed in one period (no within-worker variation)"
        )
    if panel.y is None:
        raise AssertionError("a model panel always has an outcome")  # pragma: no cover
    _check_outcome_support(spec, panel.y)
    tr = spec.track_record
    scale = TrackRecordScale.from_data(
        panel.track_record, reference=None if tr.reference == "median" else float(tr.reference)
    )
    if tr.scale != "sd":
        scale = TrackRecordScale(reference=scale.reference, scale=float(tr.scale))
    y = panel.y
    cov_sd = panel.covariate_matrix.std(axis=0) if panel.covariate_matrix.size else np.zeros(0)
    if spec.is_hurdle:
        # the amount part's scale sets the plain priors; the extensive part's are ext_-prefixed
        log_amount = np.log(y[y > 0])
        y_sd, y_mean = float(np.std(log_amount)), float(np.mean(log_amount))
        priors = hurdle_priors(
            spec,
            log_amount_mean=y_mean,
            log_amount_sd=y_sd,
            share_positive=float(np.mean(y > 0)),
            covariate_sds=cov_sd,
        )
    else:
        y_sd = _outcome_sd(spec, panel)
        y_mean = float(np.mean(y))
        priors = resolve_priors(
            spec, default_priors(spec, y_sd=y_sd, y_mean=y_mean, covariate_sds=np.asarray(cov_sd))
        )
    design = ModelDesign(
        spec=spec, panel=panel, track_scale=scale, priors=priors, y_mean=y_mean, y_sd=y_sd
    )
    return with_mundlak(design)


def _outcome_sd(spec: ModelSpec, panel: Panel) -> float:
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
