"""The Bernoulli likelihood: "any project" (0/1), logit link, latent worker intercepts.

``y ~ Bernoulli(logistic(eta))``. Effects are log-odds changes, and also changes in
probability (percentage points) for a typical worker with the profile.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pymc as pm
from scipy.special import expit

from bayescred.model.design import ModelDesign
from bayescred.model.families.base import DrawParameters, LinkFamily, Part, PredictivePlot
from bayescred.model.pilot import PilotEstimates, pilot_estimates
from bayescred.model.predictor import OUTCOME_VAR


class Bernoulli(LinkFamily):
    """Binary outcomes."""

    name: ClassVar[str] = "bernoulli"
    link: ClassVar[str] = "logit"
    probability_change: ClassVar[bool] = True
    integer_valued: ClassVar[bool] = True
    predictive_plot: ClassVar[PredictivePlot] = "shares"

    def check_support(self, y: np.ndarray, column: str) -> None:
        self._refuse(y, (y != 0) & (y != 1), column, "0/1 values")

    def link_of_mean(self, y_mean: float) -> float:
        m = float(y_mean) if np.isfinite(y_mean) else 0.5
        m = min(max(m, 1e-3), 1.0 - 1e-3)
        return float(np.log(m / (1.0 - m)))

    def pilot(self, design: ModelDesign) -> PilotEstimates | None:
        """A linear-probability pilot moved to the logit scale.

        The least-squares estimates on the within-worker rows of the 0/1 outcome
        (:func:`bayescred.model.pilot.pilot_estimates`) are changes in probability; near a
        worker's own rate ``p_i`` a change ``b`` in probability is ``b / (p_i (1 - p_i))`` in
        log-odds, so the first-credential effects are divided by the mean of ``p_i (1 - p_i)``
        over the rows of workers with both outcomes (the only rows the within fit uses), and
        their precisions multiplied by its square; decay rates keep theirs. Only the sampler's
        coordinates depend on it (the density does not): with a few thousand workers the
        extensive part of a hurdle has groups the data pin down far more tightly than their
        spread, where the non-centred form mixes slowly.
        """
        est = pilot_estimates(design)
        p = design.panel
        share = p.worker_means(np.asarray(p.y, dtype=float))[p.worker_codes]
        varied = (share > 0) & (share < 1)
        if "mu_beta" not in est.centre or not varied.any():
            return est
        slope = float(np.mean(share[varied] * (1.0 - share[varied])))
        centre = {**est.centre, "mu_beta": est.centre["mu_beta"] / slope}
        precision = {**est.precision, "mu_beta": est.precision["mu_beta"] * slope**2}
        return PilotEstimates(centre=centre, precision=precision)

    def intercept_pilot(self, design: ModelDesign) -> tuple[np.ndarray, np.ndarray]:
        """``logit((k + 1/2) / (T + 1))`` of a worker with ``k`` successes in ``T`` rows (the
        posterior mean of its rate under Jeffreys' prior, so a worker who never or always
        succeeds gets a finite level) and the Fisher information ``T p (1 - p)`` of a common
        log-odds at that rate."""
        p = design.panel
        rows = p.periods_per_worker().astype(float)
        rate = (p.worker_means(np.asarray(p.y, dtype=float)) * rows + 0.5) / (rows + 1.0)
        return np.log(rate / (1.0 - rate)), rows * rate * (1.0 - rate)

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
