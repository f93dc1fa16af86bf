"""Closed-form pieces of the credential model, shared by the simulator, the PyMC model and the
effect calculations.

Every function takes an array namespace ``xp`` (``numpy`` or ``pytensor.tensor``) so that the
simulator, the sampler and the post-processing evaluate *the same* formulas.

Credential curves ``S(n)`` (cumulative effect of holding ``n`` credentials, ``S(0) = 0``,
``S(1) = 1``):

* ``geometric``: ``S(n) = (1 - exp(-lam n)) / (1 - exp(-lam))``; the k-th credential adds
  ``exp(-lam (k - 1))`` times the first one's effect.
* ``linear``: ``S(n) = n``.
* ``quadratic``: ``S(n) = n + kappa n^2 / 10`` (the study's ``n`` and ``n^2/10`` form).
* ``step``: ``S(n) = 1`` for any ``n >= 1``.

Track-record modifiers ``M(z)`` with ``z`` the standardised ``log(1 + r)``, ``M = 1`` at the
reference track record (``z = 0``):

* ``log_quadratic``: ``M = exp(g1 z + g2 z^2)``; ``g2 < 0`` is an inverted U.
* ``log_linear``: ``M = exp(g1 z)``.
* ``none``: ``M = 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

CurveKind = Literal["geometric", "linear", "quadratic", "step"]
ModifierKind = Literal["log_quadratic", "log_linear", "none"]

CURVES: tuple[str, ...] = ("geometric", "linear", "quadratic", "step")
MODIFIERS: tuple[str, ...] = ("log_quadratic", "log_linear", "none")

#: Name of the curve's shape parameter, or None for curves without one.
CURVE_SHAPE_PARAMETER: dict[str, str | None] = {
    "geometric": "lambda",
    "linear": None,
    "quadratic": "kappa",
    "step": None,
}
#: Names of the modifier's coefficients (the ``gamma_term`` coordinate).
MODIFIER_TERMS: dict[str, tuple[str, ...]] = {
    "log_quadratic": ("z", "z_squared"),
    "log_linear": ("z",),
    "none": (),
}


def _where(xp: Any, cond: Any, a: Any, b: Any) -> Any:
    return np.where(cond, a, b) if xp is np else xp.switch(cond, a, b)


def credential_curve(xp: Any, kind: str, n: Any, shape: Any = None) -> Any:
    """Cumulative effect ``S(n)`` of holding ``n`` credentials, in units of the first one's.

    Parameters
    ----------
    xp
        ``numpy`` or ``pytensor.tensor``.
    kind
        One of :data:`CURVES`.
    n
        Credentials held (broadcastable against ``shape``).
    shape
        ``lambda`` (> 0) for ``geometric``, ``kappa`` for ``quadratic``, ignored otherwise.
    """
    if kind == "geometric":
        # expm1 keeps full precision for small lambda; lambda -> 0 gives S(n) = n.
        return xp.expm1(-shape * n) / xp.expm1(-shape)
    if kind == "linear":
        return n * xp.ones_like(shape) if shape is not None else n * 1.0
    if kind == "quadratic":
        return n + shape * n**2 / 10.0
    if kind == "step":
        s = _where(xp, n > 0, 1.0, 0.0)
        return s * xp.ones_like(shape) if shape is not None else s
    raise ValueError(f"unknown credential curve {kind!r}; allowed: {', '.join(CURVES)}")


def next_credential_gain(xp: Any, kind: str, n: Any, shape: Any = None) -> Any:
    """``S(n + 1) - S(n)`` in closed form (the next credential's effect in units of the first)."""
    if kind == "geometric":
        return xp.exp(-shape * n)
    if kind == "linear":
        return xp.ones_like(n * 1.0) * (xp.ones_like(shape) if shape is not None else 1.0)
    if kind == "quadratic":
        return 1.0 + shape * (2.0 * n + 1.0) / 10.0
    if kind == "step":
        g = _where(xp, n > 0, 0.0, 1.0)
        return g * xp.ones_like(shape) if shape is not None else g
    raise ValueError(f"unknown credential curve {kind!r}; allowed: {', '.join(CURVES)}")


def track_record_modifier(xp: Any, kind: str, z: Any, gamma1: Any = 0.0, gamma2: Any = 0.0) -> Any:
    """Multiplier ``M(z)`` of the credential effect at standardised log track record ``z``."""
    if kind == "log_quadratic":
        return xp.exp(gamma1 * z + gamma2 * z**2)
    if kind == "log_linear":
        return xp.exp(gamma1 * z)
    if kind == "none":
        return xp.ones_like(z * 1.0)
    raise ValueError(f"unknown track-record modifier {kind!r}; allowed: {', '.join(MODIFIERS)}")


@dataclass(frozen=True)
class TrackRecordScale:
    """How raw track records ``r`` map to ``z = (log(1 + r) - log(1 + r0)) / scale``.

    Attributes
    ----------
    reference
        The reference track record ``r0`` where ``M = 1``.
    scale
        The standard deviation of ``log(1 + r)`` in the data the model was fitted to.
    """

    reference: float
    scale: float

    @classmethod
    def from_data(cls, track_record: Any, reference: float | None = None) -> TrackRecordScale:
        """Reference = ``reference`` or the median of ``track_record``; scale = sd of log1p(r)."""
        r = np.asarray(track_record, dtype=float)
        r0 = float(np.median(r)) if reference is None else float(reference)
        scale = float(np.std(np.log1p(r)))
        if not np.isfinite(scale) or scale <= 0:
            scale = 1.0
        return cls(reference=r0, scale=scale)

    def z(self, track_record: Any) -> np.ndarray:
        """Standardised log track record."""
        r = np.asarray(track_record, dtype=float)
        return (np.log1p(r) - np.log1p(self.reference)) / self.scale

    def track_record(self, z: Any) -> np.ndarray:
        """Inverse of :meth:`z`."""
        return np.expm1(np.asarray(z, dtype=float) * self.scale + np.log1p(self.reference))
