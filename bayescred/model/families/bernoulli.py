"""The Bernoulli likelihood: "any project" (0/1), logit link, latent worker intercepts.

``y ~ Bernoulli(logistic(eta))``. Effects are log-odds changes, and also changes in
probability (percentage points) for a typical worker with the profile.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pymc as pm
from scipy.special import expit

from bayescred.model.families.base import DrawParameters, LinkFamily, PredictivePlot
from bayescred.model.parts import Part
from bayescred.model.terms import OUTCOME_VAR


class Bernoulli(LinkFamily):
    """Binary outcomes."""

    name: ClassVar[str] = "bernoulli"
    link: ClassVar[str] = "logit"
    probability_change: ClassVar[bool] = True
    predictive_plot: ClassVar[PredictivePlot] = "shares"

    def check_support(self, y: np.ndarray, column: str) -> None:
        self._refuse(y, (y != 0) & (y != 1), column, "0/1 values")

    def link_of_mean(self, y_mean: float) -> float:
        m = float(y_mean) if np.isfinite(y_mean) else 0.5
        m = min(max(m, 1e-3), 1.0 - 1e-3)
        return float(np.log(m / (1.0 - m)))

    def link_slope(self, slope: float, y: np.ndarray, y_sd: float) -> tuple[float, float]:
        """``d logit(p) = d p / (p (1 - p))``."""
        m = min(max(float(y.mean()), 1e-3), 1 - 1e-3)
        return slope / (m * (1.0 - m)), 1.0

    def observe(self, part: Part, eta: Any, y: Any) -> None:
        n = part.naming
        pm.Bernoulli(n(OUTCOME_VAR), logit_p=eta, observed=y, dims=n.obs)

    def draw(self, eta: np.ndarray, params: DrawParameters, rng: np.random.Generator) -> np.ndarray:
        return (rng.random(eta.shape) < expit(eta)).astype(float)

    def row_logpdf(self, y: np.ndarray, eta: np.ndarray, params: DrawParameters) -> np.ndarray:
        return np.asarray(y * eta - np.logaddexp(0.0, eta))

    def log_scale(self, column: str) -> bool:
        return False

    def effect_label(self, outcome: str, column: str) -> str:
        return f"Δ log-odds of {outcome}"
