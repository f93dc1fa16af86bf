"""Rebuild a fit's :class:`ModelDesign` (and so its PyMC model) from the fit's DataTree alone.

A saved fit stores the rows the model used (``constant_data``, ``observed_data``), the spec and
the data-derived constants; nothing else is needed to compute effects, checks, log-likelihoods
or plots, so a loaded fit never needs the original frame.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.data.panel import Panel
from bayescred.maths.curves import TrackRecordScale
from bayescred.model.design import ModelDesign
from bayescred.spec import ModelSpec, PriorSpec


def design_from_tree(tree: xr.DataTree) -> ModelDesign:
    """The design a fit was built from, reconstructed from its DataTree.

    The panel's ``frame`` holds the used rows with the spec's column names (worker, period and
    group as labels), and ``excluded`` is empty: the counts of rows not used are in the fit's
    attributes (:meth:`CredentialFit.rows_not_used`).
    """
    spec = ModelSpec.from_json(tree.attrs["bayescred_spec"])
    info = json.loads(tree.attrs["bayescred_design"])
    priors = {
        k: PriorSpec.model_validate(v)
        for k, v in json.loads(tree.attrs["bayescred_priors"]).items()
    }
    const = tree["constant_data"].to_dataset()
    y = tree["observed_data"].to_dataset()["y"].values.astype(float)
    worker_labels = np.asarray(const["worker"].values).astype(str)
    period_labels = np.asarray(const["period"].values)
    group_labels = np.asarray(const["group"].values).astype(str)
    covariates = tuple(str(c) for c in const["covariate"].values)
    cols = spec.columns
    w = const["worker_idx"].values.astype(np.int64)
    t = const["period_idx"].values.astype(np.int64)
    g = const["group_idx"].values.astype(np.int64)
    x = const["covariates"].values.astype(float).reshape(len(y), len(covariates))
    frame = pd.DataFrame(
        {
            cols.worker: worker_labels[w],
            cols.period: period_labels[t],
            cols.group: group_labels[g],
            cols.credentials: const["credentials"].values,
            cols.track_record: const["track_record"].values,
            info["outcome"]: y,
        }
    )
    for j, name in enumerate(covariates):
        frame[name] = x[:, j]
    panel = Panel(
        frame=frame,
        columns=cols,
        outcome=info["outcome"],
        outcome_kind=info["outcome_kind"],
        covariates=covariates,
        worker_labels=worker_labels,
        period_labels=period_labels,
        group_labels=group_labels,
        worker_codes=w,
        period_codes=t,
        group_codes=g,
        credentials=const["credentials"].values.astype(np.int64),
        track_record=const["track_record"].values.astype(float),
        covariate_matrix=x,
        y=y,
    )
    return ModelDesign(
        spec=spec,
        panel=panel,
        track_scale=TrackRecordScale(
            reference=float(info["track_record_reference"]), scale=float(info["track_record_scale"])
        ),
        priors=priors,
        y_mean=float(info["y_mean"]),
        y_sd=float(info["y_sd"]),
        mundlak_names=tuple(info["mundlak_names"]),
        mundlak_center=tuple(info["mundlak_center"]),
        mundlak_scale=tuple(info["mundlak_scale"]),
    )
