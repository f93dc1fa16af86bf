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
import pandas as pd
import xarray as xr

from bayescred.model.design import ModelDesign
from bayescred.model.families import family_of
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


def _scoped_draws(
    posterior: xr.Dataset, term: EventTimeCredentialTerm, variable: str, dim: str | None
) -> xr.DataArray:
    """``variable`` (a stored profile) times the first step of the curve, ``(draw, [dim,]
    event_time)``: the population's shape for the population and the cohorts, each group's
    for the groups."""
    scope = () if dim is None else (dim,)
    f = stack_draws(posterior[variable].transpose("chain", "draw", *scope, "event_time"))
    shape = None
    if term.shape_name is not None:
        name = term.shape_name if dim != "group" else f"{term.shape_name}_group"
        shape = stack_draws(posterior[name].transpose("chain", "draw", ...))
        if dim == "cohort":
            shape = shape[:, None]
    values = f * _first_step(term, shape)[..., None]
    coords: dict[str, list[int] | list[str]] = {
        "event_time": [int(e) for e in term.window.event_times]
    }
    if dim is not None:
        coords[dim] = [str(v) for v in posterior[variable].coords[dim].values]
    return xr.DataArray(values, dims=("draw", *scope, "event_time"), coords=coords, name="effect")


def event_profile_draws(
    posterior: xr.Dataset, design: ModelDesign, by: Scope = None
) -> xr.DataArray:
    """The first credential's effect by event time: ``(draw, event_time)``, or
    ``(draw, group | cohort, event_time)`` with ``by``.

    Raises ``ValueError`` for a static model, for ``by="cohort"`` without adoption cohorts and
    for an unknown ``by``.
    """
    term = dynamic_term(design)
    if by is None:
        return _scoped_draws(posterior, term, "event_profile", None)
    if by == "group":
        return _scoped_draws(posterior, term, "event_profile_group", "group")
    if by == "cohort":
        if not term.has_cohorts:
            raise ValueError(
                "this model has no adoption cohorts: set [dynamics] cohort_width (periods per "
                "cohort) and fit again"
            )
        return _scoped_draws(posterior, term, "event_profile_cohort", "cohort")
    raise ValueError(f"by must be None, 'group' or 'cohort', got {by!r}")


def check_event_time_family(design: ModelDesign) -> EventTimeCredentialTerm:
    """The design's event-time term, for an effect at one event time; a ``ValueError`` for a
    static model and for hurdle and binary models (whose effects are not one linear
    predictor's)."""
    term = dynamic_term(design)
    family = family_of(design)
    if family.margins or family.probability_change:
        raise ValueError(
            "event_time= is available for models with one linear predictor on a continuous "
            f"outcome; this model's likelihood is {design.spec.outcome.likelihood!r}"
        )
    return term


def group_profile_at(posterior: xr.Dataset, design: ModelDesign, event_time: int) -> np.ndarray:
    """Each group's profile ``f_g(bin(event_time))``, ``(draws, groups)`` with the draws stacked
    and the groups in the posterior's order: the ``beta`` of the effect ``event_time`` periods
    after the credential is first held (:mod:`bayescred.terms.dynamics`)."""
    term = dynamic_term(design)
    e = int(term.window.bin(np.asarray(int(event_time))))
    profile = posterior["event_profile_group"].sel(event_time=e)
    return np.asarray(stack_draws(profile.transpose("chain", "draw", "group")))


def refuse_unseen_groups(posterior: xr.Dataset, profiles: pd.DataFrame) -> None:
    """A ``ValueError`` when ``profiles`` name groups the model has not seen: an unseen
    group's event-time profile is not in the posterior."""
    known = [str(g) for g in posterior["event_profile_group"].coords["group"].values]
    unseen = sorted(set(profiles["group"].astype(str)) - set(known))
    if unseen:
        raise ValueError(
            f"event_time= needs groups the model has seen; unknown: {', '.join(unseen)} "
            f"(known: {', '.join(known)})"
        )


def event_time_words(event_time: int | None) -> str:
    """``", 2 periods after it is first held,"`` (leads: before; empty for None): the words a
    sentence puts after "one more credential"."""
    if event_time is None:
        return ""
    n = abs(int(event_time))
    unit = "period" if n == 1 else "periods"
    if event_time < 0:
        return f", {n} {unit} before it is first held,"
    if event_time == 0:
        return ", in the first period it is held,"
    return f", {n} {unit} after it is first held,"
