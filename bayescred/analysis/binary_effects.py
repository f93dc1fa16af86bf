"""For Bernoulli outcomes: the effect of more credentials as a change in probability.

The Bernoulli model's effects are changes in log-odds. A change in probability depends on the
level as well: here it is the change for a worker drawn from the population with the profile
(intercepts at their mean given the profile, Mundlak means set to the profile's own values,
the average period), with the probability averaged over the intercepts' distribution by
Gauss-Hermite quadrature (:mod:`bayescred.maths.quadrature`), exactly as for the extensive
part of a hurdle model (:mod:`bayescred.analysis.hurdle_effects`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import xarray as xr

from bayescred.analysis.effects import EffectResult, summarise_draws
from bayescred.analysis.levels import profile_level, sd_or_none
from bayescred.analysis.predictor import EffectDraws, credential_effect
from bayescred.maths.quadrature import marginal_probability
from bayescred.model.design import ModelDesign


def with_probability_change(
    result: EffectResult,
    posterior: xr.Dataset,
    design: ModelDesign,
    profiles: pd.DataFrame,
    group_parameters: tuple[EffectDraws, np.ndarray],
) -> EffectResult:
    """``result`` with ``probability_before`` and ``pp_*`` columns (percentage points).

    ``group_parameters`` (:func:`~bayescred.analysis.effects.profile_group_parameters`) must be
    those ``result`` was computed from, so that an unseen group has the same population draws.
    """
    spec = design.spec
    params, codes = group_parameters
    z = design.track_scale.z(profiles["track_record"].to_numpy(float))
    n_from = profiles["credentials"].to_numpy(float)
    zero = np.zeros_like(n_from)
    level = profile_level(posterior, design, profiles, z)
    sa = sd_or_none(posterior, "sigma_alpha")
    p0 = marginal_probability(level + credential_effect(spec, params, codes, zero, n_from, z), sa)
    to = profiles["to"].to_numpy(float)
    p1 = marginal_probability(level + credential_effect(spec, params, codes, zero, to, z), sa)
    table = result.table.copy()
    table["probability_before"] = p0.mean(axis=0)
    for key, value in summarise_draws(100.0 * (p1 - p0), result.hdi_prob, prefix="pp_").items():
        table[key] = value
    table.attrs.update(result.table.attrs)
    note = (
        "pp_*: change in the probability (percentage points) for a worker drawn from the "
        "population with this profile, in an average period."
    )
    return dataclasses.replace(result, table=table, notes=(*result.notes, note))
