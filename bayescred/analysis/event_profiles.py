"""Posterior draws of the event-time profile: the effect of a worker's first credential at each
event time, at the reference track record, in the outcome's units (``docs/design.md`` 3.8).

The model stores the profile ``f`` (:mod:`bayescred.terms.dynamics`); the first credential's
effect at event time ``e`` is ``f(e) * (S(1) - S(0))`` with the curve's shape of the scope
(``S(1) = 1`` except for the quadratic curve), at ``M(0) = 1``. It does not depend on how the
profile is normalised: leads are the pre-event differences, 0 at the reference period ``-1``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr

from bayescred.model.design import ModelDesign
from bayescred.terms.base import stack_draws
from bayescred.terms.dynamics import EventTimeCredentialTerm

#: Scopes of an event study: the population, each group, each adoption cohort.
Scope = Literal["group", "cohort"] | None


def dynamic_term(design: ModelDesign) -> EventTimeCredentialTerm:
    """The design's event-time credential term; a ``ValueError`` for a static spec."""
    term = design.credential_term
    if not isinstance(term, EventTimeCredentialTerm):
        raise ValueError(
            "this model has no event-time effects: add a [dynamics] section to the spec "
            "(for example leads = 3, lags = 6) and fit again"
        )
    return term


def _first_step(term: EventTimeCredentialTerm, shape: np.ndarray | None) -> np.ndarray:
    """``S(1) - S(0)`` for shape draws (1 without a shape)."""
    if shape is None:
        return np.ones(1)
    return np.asarray(term.curve_value(np.ones_like(shape), shape))


def event_profile_draws(
    posterior: xr.Dataset, design: ModelDesign, by: Scope = None
) -> xr.DataArray:
    """The first credential's effect by event time: ``(draw, event_time)``, or
    ``(draw, group | cohort, event_time)`` with ``by``.

    Raises ``ValueError`` for a static model, for ``by="cohort"`` without adoption cohorts and
    for an unknown ``by``.
    """
    term = dynamic_term(design)
    times = [int(e) for e in term.window.event_times]
    shape_name = term.shape_name
    if by is None:
        f = stack_draws(posterior["event_profile"].transpose("chain", "draw", "event_time"))
        shape = None
        if shape_name is not None:
            shape = stack_draws(posterior[shape_name])
        values = f * _first_step(term, shape)[..., None]
        return xr.DataArray(
            values, dims=("draw", "event_time"), coords={"event_time": times}, name="effect"
        )
    if by == "group":
        f = stack_draws(
            posterior["event_profile_group"].transpose("chain", "draw", "group", "event_time")
        )
        shape = None
        if shape_name is not None:
            shape = stack_draws(
                posterior[f"{shape_name}_group"].transpose("chain", "draw", "group")
            )
        values = f * _first_step(term, shape)[..., None]
        labels = [str(g) for g in posterior["event_profile_group"].coords["group"].values]
        return xr.DataArray(
            values,
            dims=("draw", "group", "event_time"),
            coords={"group": labels, "event_time": times},
            name="effect",
        )
    if by == "cohort":
        if not term.has_cohorts:
            raise ValueError(
                "this model has no adoption cohorts: set [dynamics] cohort_width (periods per "
                "cohort) and fit again"
            )
        f = stack_draws(
            posterior["event_profile_cohort"].transpose("chain", "draw", "cohort", "event_time")
        )
        shape = None
        if shape_name is not None:
            shape = stack_draws(posterior[shape_name])[:, None]
        values = f * _first_step(term, shape)[..., None]
        labels = [str(c) for c in posterior["event_profile_cohort"].coords["cohort"].values]
        return xr.DataArray(
            values,
            dims=("draw", "cohort", "event_time"),
            coords={"cohort": labels, "event_time": times},
            name="effect",
        )
    raise ValueError(f"by must be None, 'group' or 'cohort', got {by!r}")
