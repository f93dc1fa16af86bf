"""The model's linear predictor evaluated in NumPy over posterior draws, in chunks.

Effects, predictive checks and pointwise log-likelihoods all need ``beta_g S(n) M(z)`` (and the
period and covariate terms) for many draws and rows; these functions evaluate it with the same
closed forms as the PyMC model (:mod:`bayescred.maths.curves`) without holding draws x rows in
memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import xarray as xr

from bayescred.maths.curves import (
    CURVE_SHAPE_PARAMETER,
    MODIFIER_TERMS,
    credential_curve,
    track_record_modifier,
)
from bayescred.model.design import ModelDesign
from bayescred.spec import ModelSpec


@dataclass(frozen=True)
class EffectDraws:
    """Group-level effect parameters as arrays ``(draws, groups[, terms])``, stacked over chains.

    ``shape`` is None for curves without a shape parameter, ``gamma`` has zero columns without a
    track-record modifier.
    """

    beta: np.ndarray
    shape: np.ndarray | None
    gamma: np.ndarray

    @property
    def n_draws(self) -> int:
        return int(self.beta.shape[0])

    def take(self, draws: slice | np.ndarray) -> EffectDraws:
        """A subset of the draws."""
        return EffectDraws(
            beta=self.beta[draws],
            shape=None if self.shape is None else self.shape[draws],
            gamma=self.gamma[draws],
        )


def stack_draws(da: xr.DataArray) -> np.ndarray:
    """``(chain, draw, ...)`` to ``(chain * draw, ...)``."""
    values = np.asarray(da.values)
    return values.reshape(-1, *values.shape[2:])


def effect_draws(posterior: xr.Dataset, spec: ModelSpec) -> EffectDraws:
    """The group-level effect parameters of a posterior."""
    shape_name = CURVE_SHAPE_PARAMETER[spec.effect.curve]
    beta = stack_draws(posterior["beta_group"])
    shape = stack_draws(posterior[f"{shape_name}_group"]) if shape_name else None
    if MODIFIER_TERMS[spec.effect.modifier]:
        gamma = stack_draws(
            posterior["gamma_group"].transpose("chain", "draw", "group", "gamma_term")
        )
    else:
        gamma = np.zeros((*beta.shape, 0))
    return EffectDraws(beta=beta, shape=shape, gamma=gamma)


def credential_effect(
    spec: ModelSpec,
    params: EffectDraws,
    group: np.ndarray,
    n_from: np.ndarray,
    n_to: np.ndarray,
    z: np.ndarray,
) -> np.ndarray:
    """Effect of going from ``n_from`` to ``n_to`` credentials, ``(draws, profiles)``.

    ``beta_g (S(n_to) - S(n_from)) M(z)`` with each profile's group ``g``.
    """
    eff = spec.effect
    beta = params.beta[:, group]
    shape = None if params.shape is None else params.shape[:, group]
    ds = credential_curve(np, eff.curve, n_to, shape) - credential_curve(
        np, eff.curve, n_from, shape
    )
    gamma = params.gamma[:, group]
    if gamma.shape[-1]:
        g2 = gamma[..., 1] if gamma.shape[-1] > 1 else 0.0
        m = track_record_modifier(np, eff.modifier, z, gamma[..., 0], g2)
    else:
        m = 1.0
    return beta * ds * m


def chunks(n: int, size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` covering ``range(n)``."""
    for start in range(0, n, max(int(size), 1)):
        yield slice(start, min(start + size, n))


def mean_without_intercepts(
    posterior: xr.Dataset, design: ModelDesign, draws: np.ndarray, rows: slice
) -> np.ndarray:
    """Linear predictor without worker intercepts, ``(len(draws), rows)``.

    ``tau[t] + x @ delta + beta_g S(n) M(z)`` for the design's rows ``rows`` and the stacked
    draw indices ``draws``.
    """
    p = design.panel
    spec = design.spec
    params = effect_draws(posterior, spec).take(draws)
    n = p.credentials[rows].astype(float)
    out = credential_effect(spec, params, p.group_codes[rows], np.zeros_like(n), n, design.z[rows])
    if "tau" in posterior:
        out = out + stack_draws(posterior["tau"])[draws][:, p.period_codes[rows]]
    if p.covariates:
        delta = stack_draws(posterior["delta"])[draws]
        out = out + delta @ p.covariate_matrix[rows].T
    return np.asarray(out)
