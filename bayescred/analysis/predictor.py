"""The model's linear predictor evaluated in NumPy over posterior draws, in chunks.

Effects, predictive checks and pointwise log-likelihoods all need the sum of the design's terms
(``beta_g S(n) M(z)``, the period and covariate terms) for many draws and rows; these functions
evaluate each term's NumPy form (:meth:`bayescred.terms.base.Term.evaluate`, the same closed
forms as the PyMC model) without holding draws x rows in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import xarray as xr

from bayescred.model.design import ModelDesign
from bayescred.spec import ModelSpec
from bayescred.terms.credential import CredentialTerm, EffectDraws, stack_draws

__all__ = [
    "EffectDraws",
    "chunks",
    "credential_effect",
    "effect_draws",
    "mean_without_intercepts",
    "stack_draws",
]


def effect_draws(posterior: xr.Dataset, spec: ModelSpec) -> EffectDraws:
    """The group-level credential-effect parameters of a posterior (plain names)."""
    return CredentialTerm(spec.effect).group_draws(posterior)


def credential_effect(
    spec: ModelSpec,
    params: EffectDraws,
    group: np.ndarray,
    n_from: np.ndarray,
    n_to: np.ndarray,
    z: np.ndarray,
) -> np.ndarray:
    """Effect of going from ``n_from`` to ``n_to`` credentials, ``(draws, profiles)``
    (:meth:`bayescred.terms.credential.CredentialTerm.contrast`)."""
    return CredentialTerm(spec.effect).contrast(params, group, n_from, n_to, z)


def chunks(n: int, size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` covering ``range(n)``."""
    for start in range(0, n, max(int(size), 1)):
        yield slice(start, min(start + size, n))


def mean_without_intercepts(
    posterior: xr.Dataset, design: ModelDesign, draws: np.ndarray, rows: slice
) -> np.ndarray:
    """Linear predictor without worker intercepts, ``(len(draws), rows)``: the sum of the
    design's terms for its rows ``rows`` and the stacked draw indices ``draws``."""
    row_data = design.rows().take(rows)
    out: np.ndarray | None = None
    for term in design.terms:
        params = {k: v[draws] for k, v in term.draw_parameters(posterior).items()}
        value = term.evaluate(params, row_data)
        out = value if out is None else out + value
    assert out is not None  # a design always has its credential term
    return np.asarray(out)
