"""The log-normal hurdle: earnings with zeros.

``P(y > 0) = logistic(eta_ext)`` and ``log y | y > 0 ~ Normal(eta_int, sigma)``: the intensive
part is the normal family on the log amount, its worker intercepts integrated out in closed
form. ``E[y | y > 0] = exp(eta_int + sigma^2 / 2)`` (times ``exp(sigma_alpha^2 / 2)`` averaged
over the intercepts' spread), so the intensive margin of a credential's effect is exactly the
change in ``eta_int``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from bayescred.columns import OutcomeKind
from bayescred.model.families.hurdle import HurdleFamily
from bayescred.model.families.normal import Normal


class HurdleLognormal(HurdleFamily):
    """Zeros and log-normal positive amounts."""

    name: ClassVar[str] = "hurdle_lognormal"
    positive = Normal()
    positive_kind: ClassVar[OutcomeKind] = "real"
    positive_likelihood: ClassVar[str] = "normal"

    def to_positive_scale(self, y: np.ndarray) -> np.ndarray:
        return np.log(y)

    def from_positive_scale(self, v: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # prior draws can put amounts beyond float range
            return np.exp(v)

    def positive_log_jacobian(self, y: np.ndarray) -> np.ndarray:
        """``-log y``: the density of ``y`` is that of ``log y`` divided by ``y``."""
        return -np.log(np.asarray(y, dtype=float))

    def positive_column(self, column: str) -> str:
        return f"log_{column}"

    def margin_words(self, outcome: str) -> tuple[str, str]:
        if outcome == "earnings":
            return (
                "the chance of earning anything in a period",
                "higher earnings in the periods with any",
            )
        return (
            f"the chance of any {outcome} in a period",
            f"a higher {outcome} in the periods with any",
        )

    def positive_log_mean(
        self,
        eta: np.ndarray,
        params: dict[str, np.ndarray],
        sigma_alpha: np.ndarray | None,
    ) -> np.ndarray:
        """``eta + sigma^2 / 2 (+ sigma_alpha^2 / 2)``: the log-normal mean, exactly."""
        return np.asarray(
            eta
            + 0.5 * params["sigma"][:, None] ** 2
            + (0.0 if sigma_alpha is None else 0.5 * sigma_alpha[:, None] ** 2)
        )

    def positive_log_change(
        self,
        eta: np.ndarray,
        change: np.ndarray,
        params: dict[str, np.ndarray],
        sigma_alpha: np.ndarray | None,
    ) -> np.ndarray:
        """Exactly the predictor's change, at any level."""
        return change
