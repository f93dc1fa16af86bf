"""The Poisson likelihood: project counts, log link, latent worker intercepts.

``y ~ Poisson(exp(eta))``. Effects are log changes of the expected count.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy.special import gammaln

from bayescred.model.families.base import DrawParameters, Family, LinkFamily, Part, PredictivePlot
from bayescred.model.predictor import OUTCOME_VAR


def check_counts(family: Family, y: np.ndarray, column: str) -> None:
    """Refuse outcomes that are not non-negative whole numbers."""
    family._refuse(y, (y < 0) | (y != np.round(y)), column, "non-negative integer counts")


class Poisson(LinkFamily):
    """Counts with variance equal to the mean."""

    name: ClassVar[str] = "poisson"
    link: ClassVar[str] = "log"
    integer_valued: ClassVar[bool] = True
    predictive_plot: ClassVar[PredictivePlot] = "rootogram"

    def check_support(self, y: np.ndarray, column: str) -> None:
        check_counts(self, y, column)

    def link_of_mean(self, y_mean: float) -> float:
        m = float(y_mean) if np.isfinite(y_mean) else 0.5
        return float(np.log(max(m, 1e-3)))

    def link_slope(self, slope: float, y: np.ndarray, y_sd: float) -> tuple[float, float]:
        """``d log(mu) = d mu / mu``."""
        return slope / max(float(y.mean()), 1e-3), 1.0

    def observe(self, part: Part, eta: Any, y: Any) -> None:
        n = part.naming
        pm.Poisson(n(OUTCOME_VAR), mu=pt.exp(eta), observed=y, dims=n.obs)

    def draw(self, eta: np.ndarray, params: DrawParameters, rng: np.random.Generator) -> np.ndarray:
        return rng.poisson(np.exp(eta)).astype(float)

    def row_logpdf(self, y: np.ndarray, eta: np.ndarray, params: DrawParameters) -> np.ndarray:
        return np.asarray(y * eta - np.exp(eta) - gammaln(y + 1.0))
