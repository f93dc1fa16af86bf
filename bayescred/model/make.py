"""From a panel and a spec to the model's design: rows used, scales, priors, Mundlak terms."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayescred.data.panel import Panel, select_rows
from bayescred.maths.curves import TrackRecordScale
from bayescred.model.design import ModelDesign, as_panel, typed_inputs, with_mundlak
from bayescred.model.families import get_family
from bayescred.spec import ModelSpec

#: Why a row is set aside under ``within`` worker effects.
SINGLE_PERIOD = "worker observed in one period (no within-worker variation)"


def make_design(
    spec: ModelSpec,
    data: pd.DataFrame | Panel,
    events: pd.DataFrame | None = None,
    credential_types: pd.DataFrame | None = None,
) -> ModelDesign:
    """Validate ``data`` (with credential ``events`` and the ``credential_types`` table as
    data, if given: see :func:`~bayescred.model.design.as_panel`) and compute the design of
    ``spec`` on it.

    Rows the model cannot use are set aside and counted (a worker seen in one period under
    ``within`` worker effects); the family checks the outcome's support and resolves the
    priors on its scale.
    """
    family = get_family(spec.outcome.likelihood)
    panel = as_panel(data, spec, events, credential_types)
    if spec.credential_types is not None:
        typed_inputs(panel, spec.credential_types)  # refuse a panel without types early
    if spec.worker_effects == "within" and not family.margins:
        # (a hurdle's within applies to its amount part, where such a worker adds nothing)
        single = panel.periods_per_worker()[panel.worker_codes] == 1
        panel = select_rows(panel, ~single, SINGLE_PERIOD)
    if panel.y is None:
        raise AssertionError("a model panel always has an outcome")  # pragma: no cover
    family.check_support(np.asarray(panel.y, dtype=float), spec.outcome.column)
    tr = spec.track_record
    scale = TrackRecordScale.from_data(
        panel.track_record, reference=None if tr.reference == "median" else float(tr.reference)
    )
    if tr.scale != "sd":
        scale = TrackRecordScale(reference=scale.reference, scale=float(tr.scale))
    cov_sd = panel.covariate_matrix.std(axis=0) if panel.covariate_matrix.size else np.zeros(0)
    priors, y_mean, y_sd = family.resolve_priors(spec, panel, np.asarray(cov_sd))
    design = ModelDesign(
        spec=spec, panel=panel, track_scale=scale, priors=priors, y_mean=y_mean, y_sd=y_sd
    )
    return with_mundlak(design)
